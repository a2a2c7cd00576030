"""IDX files, the format MNIST was first published in (raw or gzip-compressed).

Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, each
dimension as a big-endian int32, then the values in C order.
"""

import gzip
import struct
from pathlib import Path

import numpy as np

from mnist_edge.core.errors import InputError

UBYTE = 0x08
MAX_BYTES = 1 << 32  # no MNIST-like file comes near 4 GiB; refuse to inflate one that claims to


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def looks_like_idx(path: Path) -> bool:
    """Whether a file name follows the IDX conventions (`*-idx3-ubyte`, `*.idx3`, with `.gz`)."""
    name = path.name.lower().removesuffix(".gz")
    return "-idx" in name or name.endswith((".idx", ".idx1", ".idx3"))


def read_idx(path: Path) -> np.ndarray:
    """The array in an IDX file: memory-mapped when raw, decompressed when `.gz`."""
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as stream:
                return _read_stream(stream)
        with open(path, "rb") as stream:
            shape, offset = _read_header(stream)
        size = path.stat().st_size
        _check_size(shape, size - offset)
        return np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=shape)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise InputError(f"not a readable IDX file ({error})") from None


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as IDX (gzip-compressed when the name ends in `.gz`)."""
    if array.dtype != np.uint8:
        raise ValueError(f"IDX writing supports uint8 only, got {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, UBYTE, array.ndim)
    header += struct.pack(f">{array.ndim}i", *array.shape)
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "wb") as stream:
        stream.write(header + np.ascontiguousarray(array).tobytes())


def _read_stream(stream) -> np.ndarray:
    shape, _ = _read_header(stream)
    expected = int(np.prod(shape))
    data = stream.read(expected + 1)  # one byte more tells a file that is too long
    _check_size(shape, len(data))
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _read_header(stream) -> tuple[tuple[int, ...], int]:
    head = stream.read(4)
    if len(head) < 4:
        raise InputError("not an IDX file (too short for a header)")
    zero1, zero2, type_code, ndim = head
    magic = int.from_bytes(head, "big")
    if zero1 or zero2 or not 1 <= ndim <= 4:
        raise InputError(f"not an IDX file (bad magic number 0x{magic:08x})")
    if type_code != UBYTE:
        raise InputError(
            f"IDX type 0x{type_code:02x} is not supported (magic 0x{magic:08x}); "
            "only unsigned bytes (0x08), as in MNIST"
        )
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise InputError("truncated IDX header")
    shape = struct.unpack(f">{ndim}i", dims)
    if min(shape) < 0:
        raise InputError(f"IDX header gives a negative dimension {shape}")
    return shape, 4 + 4 * ndim


def _check_size(shape: tuple[int, ...], available: int) -> None:
    expected = int(np.prod(shape))
    if expected > MAX_BYTES:
        raise InputError(f"IDX header claims {expected:,} bytes of data; refusing (limit 4 GiB)")
    if available != expected:
        dims = "x".join(str(d) for d in shape)
        raise InputError(
            f"IDX header says {dims} ({expected:,} bytes of data) but the file holds "
            f"{'more than that' if available > expected else f'{available:,}'}"
        )
