"""The commonest input, a small 8-bit greyscale PNG (MNIST saved as files), read in less
than half the time `Image.open` and its Python chunk parser take.

Only the plainest files qualify: a few KiB, the IHDR, IDAT and IEND chunks alone in that
order, each with its right CRC, 8-bit grey, not interlaced, at most SMALL_SIDE pixels a side.
Their image data goes to Pillow's own PNG decoder (the C one `Image.open` uses), so the
pixels are the same. Anything else (transparency, an orientation, a text chunk, a colour
type, a damaged chunk) returns None and takes the full path of runtime/images.py, which
gives every error its message: this path never refuses a file.
"""

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHUNK = struct.Struct(">I4s")  # a chunk's data length and type; its data; a CRC-32 of both
CRC = struct.Struct(">I")  # of the chunk's type and data
HEADER = struct.Struct(">IIBBBBB")  # width, height, bit depth, colour type, compression,
# filter method, interlace
PLAIN_GREY = (8, 0, 0, 0, 0)  # 8 bits, grey, deflate, adaptive filters, not interlaced
MAX_BYTES = 16 * 2**10  # a 28x28 digit takes 200-400 bytes; 100x100 of noise about 10 KiB
SMALL_SIDE = 100  # larger images are decoded by Pillow as they always were


def plain_grey(data: bytes) -> np.ndarray | None:
    """The pixels, uint8 (height, width), of a small plain greyscale PNG given its bytes (or
    its first MAX_BYTES + 1), or None when the file is anything else."""
    if len(data) > MAX_BYTES or not data.startswith(SIGNATURE):
        return None
    size: tuple[int, int] | None = None
    parts: list[bytes] = []
    position, total = len(SIGNATURE), len(data)
    while position + CHUNK.size + CRC.size <= total:
        length, kind = CHUNK.unpack_from(data, position)
        start = position + CHUNK.size
        end = start + length
        if end + CRC.size > total or zlib.crc32(data[position + 4 : end]) != _crc(data, end):
            return None
        if kind == b"IDAT" and size is not None:
            parts.append(data[start:end])
        elif kind == b"IHDR" and size is None and length == HEADER.size:
            width, height, *form = HEADER.unpack_from(data, start)
            small = 1 <= width <= SMALL_SIDE and 1 <= height <= SMALL_SIDE
            if tuple(form) != PLAIN_GREY or not small:
                return None
            size = (width, height)
        elif kind == b"IEND" and parts and length == 0 and end + CRC.size == total:
            return _decoded(size, b"".join(parts))
        else:
            return None
        position = end + CRC.size
    return None


def _crc(data: bytes, end: int) -> int:
    return CRC.unpack_from(data, end)[0]


def _decoded(size: tuple[int, int] | None, compressed: bytes) -> np.ndarray | None:
    """Pillow's PNG decoder (inflate, then undo each row's filter) on the image data, called
    as `Image.frombytes(..., "zip")` calls it, and the pixels read out by its raw encoder as
    `tobytes()` does, without the Image objects and lookups around them (12.6 -> 5.4 us for
    a 28x28 digit): the same C code, so the same pixels (tests/test_png.py)."""
    from PIL import Image

    assert size is not None
    box = (0, 0, *size)
    try:
        pixels = Image.core.new("L", size)
        decoder = Image.core.zip_decoder("L", "L")
        decoder.setimage(pixels, box)
        left, error = decoder.decode(compressed)
        if left >= 0 or error != 0:  # short or damaged data: the full path says why
            return None
        encoder = Image.core.raw_encoder("L", "L")
        encoder.setimage(pixels, box)
        _, done, data = encoder.encode(size[0] * size[1])  # bytes written, 1 when done, bytes
        encoder.cleanup()
    except (ValueError, OSError):
        return None
    if done != 1 or len(data) != size[0] * size[1]:
        return None
    return np.frombuffer(data, np.uint8).reshape(size[1], size[0])
