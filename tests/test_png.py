"""The short path for small plain greyscale PNGs gives Pillow's pixels, and every other file
goes the full way (runtime/png.py)."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mnist_edge.runtime.decode import decode_image, read_image
from mnist_edge.runtime.png import plain_grey
from mnist_edge.runtime.sources import ImageFile
from tests.hostile import png_bytes, png_chunk

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def header(width: int, height: int, depth: int = 8, colour: int = 0, interlace: int = 0) -> bytes:
    fields = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return png_chunk(b"IHDR", fields)


def filtered(pixels: np.ndarray, kinds: list[int]) -> bytes:
    """The rows of `pixels` each under the PNG filter of `kinds` (0 none, 1 sub, 2 up,
    3 average, 4 Paeth), as the PNG specification defines them, with their filter bytes."""
    rows, previous = [], np.zeros(pixels.shape[1], dtype=np.int32)
    for row, kind in zip(pixels.astype(np.int32), kinds, strict=True):
        left = np.concatenate([[0], row[:-1]])
        upper_left = np.concatenate([[0], previous[:-1]])
        if kind == 4:
            estimate = left + previous - upper_left
            distances = [np.abs(estimate - guess) for guess in (left, previous, upper_left)]
            predictor = np.where(
                (distances[0] <= distances[1]) & (distances[0] <= distances[2]),
                left,
                np.where(distances[1] <= distances[2], previous, upper_left),
            )
        else:
            predictor = [np.zeros_like(row), left, previous, (left + previous) // 2][kind]
        rows.append(bytes([kind]) + ((row - predictor) % 256).astype(np.uint8).tobytes())
        previous = row
    return b"".join(rows)


def png(pixels: np.ndarray, kinds: list[int], idat_parts: int = 1) -> bytes:
    """A plain 8-bit grey PNG written here, the image data split over `idat_parts` chunks."""
    compressed = zlib.compress(filtered(pixels, kinds))
    cuts = np.linspace(0, len(compressed), idat_parts + 1).astype(int)
    idats = [png_chunk(b"IDAT", compressed[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    height, width = pixels.shape
    return SIGNATURE + header(width, height) + b"".join(idats) + png_chunk(b"IEND", b"")


def pillow_pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def test_every_row_filter_gives_the_pixels_pillow_reads():
    """Rows under each of the five filters, random pixels, the data split over three IDAT
    chunks: the same array as Image.open."""
    generator = np.random.default_rng(7)
    pixels = generator.integers(0, 256, (30, 29), dtype=np.uint8)
    data = png(pixels, [row % 5 for row in range(30)], idat_parts=3)
    read = plain_grey(data)
    assert read is not None
    np.testing.assert_array_equal(read, pixels)
    np.testing.assert_array_equal(read, pillow_pixels(data))


@pytest.mark.parametrize("size", [(1, 1), (28, 28), (100, 7), (100, 100)])
def test_pngs_written_by_pillow_read_the_same(x_test, size):
    digit = np.asarray(Image.fromarray(x_test[3]).resize(size))
    data = png_bytes(digit)
    read = plain_grey(data)
    assert read is not None
    np.testing.assert_array_equal(read, pillow_pixels(data))


def test_mnist_digits_become_the_same_items_by_either_path(tmp_path, x_test):
    """200 test digits as files: decode_image (the short path) gives the digit the full path
    gives, which for MNIST itself is the digit unchanged."""
    for index in range(200):
        path = tmp_path / f"{index}.png"
        path.write_bytes(png_bytes(x_test[index]))
        item = decode_image(ImageFile(path, label=index % 10))
        assert item.error is None and item.label == index % 10
        np.testing.assert_array_equal(item.image, read_image(path)[1])
        np.testing.assert_array_equal(item.image, x_test[index])


def digit_png(x_test: np.ndarray) -> bytes:
    return png_bytes(x_test[0])


OTHERS = {
    "16-bit grey": lambda d: SIGNATURE + header(2, 2, depth=16) + d[33:],
    "RGB": lambda d: SIGNATURE + header(28, 28, colour=2) + d[33:],
    "interlaced": lambda d: SIGNATURE + header(28, 28, interlace=1) + d[33:],
    "101 pixels wide": lambda d: SIGNATURE + header(101, 28) + d[33:],
    "no pixels": lambda d: SIGNATURE + header(0, 28) + d[33:],
    "transparency": lambda d: with_png_chunks_of(d, png_chunk(b"tRNS", b"\x00\x00")),
    "a text chunk": lambda d: with_png_chunks_of(d, png_chunk(b"tEXt", b"a\x00b")),
    "an EXIF orientation": lambda d: with_png_chunks_of(d, png_chunk(b"eXIf", b"MM\x00*")),
    "a wrong CRC": lambda d: d[:29] + bytes([d[29] ^ 1]) + d[30:],
    "cut short": lambda d: d[:-20],
    "bytes after IEND": lambda d: d + b"\x00",
    "image data before the header": lambda d: SIGNATURE + d[33:-12] + d[8:33] + d[-12:],
    "no image data": lambda d: d[:33] + d[-12:],
    "not a PNG": lambda d: b"GIF89a" + d[6:],
    "over 16 KiB": lambda d: with_png_chunks_of(d, png_chunk(b"IDAT", bytes(16 * 2**10))),
}


def with_png_chunks_of(data: bytes, chunks: bytes) -> bytes:
    return data[:33] + chunks + data[33:]


@pytest.mark.parametrize("kind", OTHERS)
def test_any_other_file_takes_the_full_path(x_test, kind):
    """None: runtime/images.py decides (and words any error) as for every other image."""
    data = OTHERS[kind](digit_png(x_test))
    assert plain_grey(data) is None


def test_damaged_image_data_takes_the_full_path_and_its_message(tmp_path, x_test):
    """Valid chunks around image data that does not inflate: the full path's own error."""
    good = digit_png(x_test)
    broken = good[:33] + png_chunk(b"IDAT", b"\x78\x9c" + bytes(40)) + good[-12:]
    assert plain_grey(broken) is None
    path = tmp_path / "broken.png"
    path.write_bytes(broken)
    item = decode_image(ImageFile(path))
    assert item.image is None and item.error is not None
    assert item.error.startswith("cannot decode image")
