"""Opening image files safely: known formats only, size limits checked from the header before
decoding, EXIF orientation applied, first frame only."""

import contextlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from mnist_edge.core.errors import InputError
from mnist_edge.core.files import open_regular
from mnist_edge.core.limits import MAX_DECODED_BYTES, MAX_PIXELS
from mnist_edge.core.text import one_line
from mnist_edge.runtime.preprocess import WORKING_SIDE

if TYPE_CHECKING:
    from PIL.Image import Image

# Decoders we accept; exotic ones are where the security bugs live. (Phones' MPO files open
# through the JPEG decoder.)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
ONE_BYTE_MODES = ("1", "L", "P")  # what Pillow holds in one byte per pixel; I;16 takes two,
# everything else four (RGB is stored as RGBX)


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS


def open_image(source: Path | BinaryIO | bytes) -> "Image":
    """The decoded image (frame 0, EXIF orientation applied), or InputError saying why not.

    `source` is a path, an open binary stream or the file's bytes.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with _stream(source) as stream:
            image = Image.open(stream, formats=FORMATS)
            _check_size(image)
            image.load()
    except Image.DecompressionBombError:
        raise InputError(f"image over {MAX_PIXELS / 1e6:.0f} MP refused") from None
    except UnidentifiedImageError:
        raise InputError(f"not an image Pillow can read as {', '.join(FORMATS)}") from None
    except InputError:
        raise
    except OSError as error:  # truncated or corrupt data shows up at load()
        raise InputError(f"cannot decode image ({one_line(error)})") from None
    except Exception as error:  # decoders raise their own types on malformed files
        raise InputError(
            f"cannot decode image ({type(error).__name__}: {one_line(error)})"
        ) from None
    if "exif" not in image.info and image.format != "TIFF":
        return image  # no EXIF block, so no orientation to apply (TIFF keeps it in its tags)
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as error:  # a malformed EXIF block
        raise InputError(f"bad EXIF orientation data ({type(error).__name__})") from None
    return image


def pixel_count(path: Path) -> int:
    """An image file's width x height from its header (0 when it cannot be read)."""
    from PIL import Image

    try:
        with open_regular(path) as stream, Image.open(stream, formats=FORMATS) as image:
            return image.width * image.height
    except Exception:  # the file's own error is reported when it is decoded
        return 0


def _stream(source: Path | BinaryIO | bytes) -> contextlib.AbstractContextManager[BinaryIO]:
    """A stream to read, closed afterwards unless the caller passed it in."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source)
    if isinstance(source, Path | str):
        return open_regular(source)
    return contextlib.nullcontext(source)


def _check_size(image: "Image") -> None:
    """Refuse, from the header alone, an image too large to decode on a small device."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InputError(
            f"image is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
            f"refusing to decode more than {MAX_PIXELS / 1e6:.0f} MP"
        )
    if image.format == "JPEG" and max(width, height) > 2 * WORKING_SIDE:
        # decoded at 1/2, 1/4 or 1/8 scale, no smaller than preprocessing works at
        image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))
    decoded = image.width * image.height * _bytes_per_pixel(image)
    if decoded > MAX_DECODED_BYTES:
        raise InputError(
            f"image is {image.width}x{image.height} {image.mode} ({decoded / 2**20:.0f} MiB "
            f"decoded); refusing to decode more than {MAX_DECODED_BYTES / 2**20:.0f} MiB"
        )


def _bytes_per_pixel(image: "Image") -> int:
    """Memory per pixel once decoded and, with transparency, converted to RGBA."""
    if image.mode in ONE_BYTE_MODES and "transparency" not in image.info:
        return 1
    return 2 if image.mode.startswith("I;16") else 4
