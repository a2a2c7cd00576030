"""What a JPEG will cost libjpeg, read from its bytes before it is decoded.

A progressive (or any multi-scan) JPEG is decoded scan by scan into a buffer of every 8x8
block's coefficients at full size, whatever the reduced scale it is drawn at, and each scan
walks the blocks of that buffer again: a small file of thousands of scans costs minutes.
So the scans of the first image are counted from its markers, and its coefficient buffer is
sized from its frame header, before libjpeg sees it.
"""

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from mnist_edge.core.errors import InputError
from mnist_edge.core.limits import MAX_JPEG_MARKERS, MAX_JPEG_SCAN_BLOCKS, MAX_JPEG_SCANS

if TYPE_CHECKING:
    from PIL.JpegImagePlugin import JpegImageFile

BLOCK_BYTES = 128  # one 8x8 block of 16-bit coefficients
WINDOW = 1 << 16  # bytes read at a time while looking for the next marker
# A marker: 0xFF, then a code that is not byte stuffing (00), a restart (D0-D7) or fill (FF),
# the three that may follow 0xFF inside entropy-coded data.
MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
EOI, SOS, TEM = 0xD9, 0xDA, 0x01


@dataclass(frozen=True)
class Scans:
    """A JPEG's scans, and the 8x8 blocks of its full-size frame (every component)."""

    count: int
    blocks: int
    progressive: bool

    @property
    def buffer_bytes(self) -> int:
        """What libjpeg holds beside the decoded frame: a multi-scan image's coefficients."""
        return self.blocks * BLOCK_BYTES if self.count > 1 or self.progressive else 0

    def check_work(self) -> None:
        """InputError when decoding every scan over its blocks would take too long."""
        work = self.count * self.blocks
        if work > MAX_JPEG_SCAN_BLOCKS:
            raise InputError(
                f"JPEG of {self.count} scans over {self.blocks:,} blocks ({work / 1e6:.0f} million "
                f"block decodes); refusing more than {MAX_JPEG_SCAN_BLOCKS / 1e6:.0f} million"
            )


def scans_of(image: "JpegImageFile", stream: BinaryIO) -> Scans:
    """The scans of a JPEG (MPO too) counted from its markers, its blocks from its frame
    header. Call it before `draft`: libjpeg's buffer is as large as the file's own frame."""
    progressive = bool(image.info.get("progressive"))
    return Scans(scan_count(stream), frame_blocks(image), progressive)


def scan_count(stream: BinaryIO) -> int:
    """The scans (SOS markers) of the stream's first image, up to its EOI; InputError past
    MAX_JPEG_SCANS scans or MAX_JPEG_MARKERS markers. The stream is left where it was."""
    start = stream.tell()
    scans, markers, position = 0, 0, _next_marker(stream, 2)  # after SOI
    while position is not None:
        stream.seek(position)
        head = stream.read(4)
        if len(head) < 4 or head[1] == EOI:
            break
        scans, markers = scans + (head[1] == SOS), markers + 1
        _check_counts(scans, markers)
        length = 0 if head[1] == TEM else int.from_bytes(head[2:4], "big")
        position = _next_marker(stream, position + 2 + length)
    stream.seek(start)
    return scans


def frame_blocks(image: "JpegImageFile") -> int:
    """The 8x8 blocks of a JPEG's frame at its own size: one per eight by eight samples of
    each component, components subsampled as the frame header says."""
    width, height = image.size
    widest = max([1] + [component[1] for component in image.layer])  # horizontal sampling
    tallest = max([1] + [component[2] for component in image.layer])  # and vertical (0: bogus)
    return sum(
        math.ceil(width * across / widest / 8) * math.ceil(height * down / tallest / 8)
        for _, across, down, _ in image.layer
    )


def _check_counts(scans: int, markers: int) -> None:
    if scans > MAX_JPEG_SCANS:
        raise InputError(
            f"JPEG has more than {MAX_JPEG_SCANS} scans (libjpeg writes 1 to 18); refused: "
            "each scan is decoded over the whole image"
        )
    if markers > MAX_JPEG_MARKERS:
        raise InputError(f"JPEG has more than {MAX_JPEG_MARKERS:,} markers; refused")


def _next_marker(stream: BinaryIO, start: int) -> int | None:
    """Where the next marker begins, at or after `start` (entropy-coded data and junk between
    segments skipped, as libjpeg skips them); None at the end of the stream."""
    stream.seek(start)
    offset, carry = start, b""
    while block := stream.read(WINDOW):
        data = carry + block
        if match := MARKER.search(data):
            return offset - len(carry) + match.start()
        carry, offset = data[-1:], offset + len(block)
    return None
