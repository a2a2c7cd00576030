"""Image headers bounded before and while Pillow parses them.

Pillow reads every JPEG marker, PNG chunk, GIF block, TIFF entry and BMP run in Python, a read
or two each: a file of millions of tiny ones costs seconds before any pixel is decoded.
A TIFF's numeric tags become tuples of Python numbers (about 40 bytes a value) and every strip
a tile object, all at open. So the reads are counted, and a TIFF's first directory is checked
before Pillow opens it.
"""

import struct
from typing import BinaryIO

from mnist_edge.core.errors import InputError
from mnist_edge.core.limits import MAX_HEADER_READS, MAX_TIFF_VALUES

TIFF_BYTE_ORDERS = {b"II": "<", b"MM": ">"}
TIFF_BYTES_KEPT = (1, 2, 7)  # BYTE, ASCII, UNDEFINED: kept as bytes; other types are unpacked
CLASSIC, BIG = 42, 43  # TIFF and BigTIFF
MAX_ENTRIES = 0xFFFF  # what a classic TIFF directory can hold


class TooManyReads(Exception):
    """Not an InputError: Pillow's parsers swallow some ValueErrors and go on reading."""


class ReadBudget:
    """The stream, refusing more than `reads` calls of read() (Pillow's decoders read 64 KiB
    blocks: a real image needs a few thousand reads, mostly one per PNG chunk or TIFF strip)."""

    def __init__(self, stream: BinaryIO, reads: int = MAX_HEADER_READS) -> None:
        self._stream, self._left = stream, reads
        self.seek, self.tell = stream.seek, stream.tell  # called as often as read()

    def read(self, size: int = -1) -> bytes:
        self._left -= 1
        if self._left < 0:
            raise TooManyReads(
                f"reading it takes more than {MAX_HEADER_READS:,} reads (a flood of tiny "
                "markers, chunks, blocks or runs); refused"
            )
        return self._stream.read(size)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def check_tiff_directory(stream: BinaryIO) -> None:
    """InputError when the first directory of a TIFF (or BigTIFF) has a numeric tag of more
    than MAX_TIFF_VALUES values. Anything else is left for Pillow to judge; the stream is
    left where it was."""
    start = stream.tell()
    head = stream.read(16)
    order = TIFF_BYTE_ORDERS.get(head[:2])
    if order is not None and len(head) == 16:
        kind = struct.unpack(f"{order}H", head[2:4])[0]
        if kind in (CLASSIC, BIG):
            _check_entries(stream, order, kind == BIG, head)
    stream.seek(start)


def _check_entries(stream: BinaryIO, order: str, big: bool, head: bytes) -> None:
    offset_format, count_format, entry_format = ("Q", "Q", "HHQ8x") if big else ("I", "H", "HHI4x")
    offset = struct.unpack_from(f"{order}{offset_format}", head, 8 if big else 4)[0]
    stream.seek(offset)
    raw = stream.read(struct.calcsize(f"{order}{count_format}"))
    if len(raw) < struct.calcsize(f"{order}{count_format}"):
        return
    entry_bytes = struct.calcsize(f"{order}{entry_format}")
    entries = min(struct.unpack(f"{order}{count_format}", raw)[0], MAX_ENTRIES)
    table = stream.read(entries * entry_bytes)
    table = table[: len(table) - len(table) % entry_bytes]
    for tag, kind, values in struct.iter_unpack(f"{order}{entry_format}", table):
        if kind not in TIFF_BYTES_KEPT and values > MAX_TIFF_VALUES:
            raise InputError(
                f"TIFF tag {tag} holds {values:,} values; refusing more than {MAX_TIFF_VALUES:,}"
                " (each becomes a Python object)"
            )
