"""Opening image files safely: known formats only, the file's size, its headers and what its
decoding will cost checked before decoding, EXIF or XMP orientation applied, first frame only."""

import contextlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from mnist_edge.core.errors import InputError
from mnist_edge.core.files import check_file_size, open_regular
from mnist_edge.core.limits import (
    MAX_DECODED_BYTES,
    MAX_EXIF_BYTES,
    MAX_IMAGE_FILE_BYTES,
    MAX_PIXELS,
)
from mnist_edge.core.text import one_line
from mnist_edge.runtime.headers import ReadBudget, TooManyReads, check_tiff_directory
from mnist_edge.runtime.jpeg import Scans, scans_of
from mnist_edge.runtime.preprocess import WORKING_SIDE

if TYPE_CHECKING:
    from PIL.Image import Image

# Decoders we accept; exotic ones are where the security bugs live. (Phones' MPO files open
# through the JPEG decoder.)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
ONE_BYTE_MODES = ("1", "L", "P")  # what Pillow holds in one byte per pixel; I;16 takes two,
# everything else four (RGB is stored as RGBX)
WEBP_COPIES = 4  # of the frame while a WebP is decoded: libwebp's canvas, its copy of the
# previous frame, Pillow's bytes and Pillow's image (a 5000x5000 WebP: 391 MB more at its peak)
ORIENTATION_KEYS = ("exif", "xmp", "XML:com.adobe.xmp")  # where Pillow finds an orientation


def open_image(source: Path | BinaryIO | bytes) -> "Image":
    """The decoded image (frame 0, EXIF orientation applied), or InputError saying why not.

    `source` is a path, an open binary stream or the file's bytes.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with _stream(source) as stream:
            image = _opened(stream)
            _check_cost(image, stream)
            image.load()
    except TooManyReads as error:
        raise InputError(str(error)) from None
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
    if image.format != "TIFF" and not any(key in image.info for key in ORIENTATION_KEYS):
        return image  # no orientation to apply (TIFF keeps it in its tags)
    xmp = image.info.get("xmp")
    if isinstance(xmp, bytes) and "XML:com.adobe.xmp" not in image.info:
        # where Pillow before 11.1 looks for an XMP orientation (it ignores a JPEG's "xmp")
        image.info["XML:com.adobe.xmp"] = xmp.decode("utf-8", "replace")
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as error:  # a malformed EXIF block
        raise InputError(f"bad EXIF orientation data ({type(error).__name__})") from None
    return image


def pixel_count(path: Path) -> int:
    """An image file's width x height from its header (0 when it cannot be read)."""
    try:
        with _stream(path) as stream, _opened(stream) as image:
            return image.width * image.height
    except Exception:  # the file's own error is reported when it is decoded
        return 0


def _stream(source: Path | BinaryIO | bytes) -> contextlib.AbstractContextManager[BinaryIO]:
    """A stream to read, closed afterwards unless the caller passed it in; InputError when
    the file (or the bytes) is over MAX_IMAGE_FILE_BYTES."""
    if isinstance(source, bytes | bytearray | memoryview):
        check_file_size(len(source), MAX_IMAGE_FILE_BYTES)
        return io.BytesIO(source)
    if isinstance(source, Path | str):
        return open_regular(source, max_bytes=MAX_IMAGE_FILE_BYTES)
    position = source.tell()
    check_file_size(source.seek(0, io.SEEK_END) - position, MAX_IMAGE_FILE_BYTES)
    source.seek(position)
    return contextlib.nullcontext(source)


def _opened(stream: BinaryIO) -> "Image":
    """Image.open of a known format, once the headers Pillow would choke on are checked, with
    the reads its parsers make counted."""
    from PIL import Image

    check_tiff_directory(stream)
    return Image.open(cast(BinaryIO, ReadBudget(stream)), formats=FORMATS)  # a stream Pillow reads


def _check_cost(image: "Image", stream: BinaryIO) -> None:
    """Refuse, from the headers alone, an image too costly to decode on a small device."""
    from PIL import JpegImagePlugin

    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InputError(
            f"image is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
            f"refusing to decode more than {MAX_PIXELS / 1e6:.0f} MP"
        )
    jpeg = JpegImagePlugin.JpegImageFile  # MPO too
    scans = scans_of(image, stream) if isinstance(image, jpeg) else None
    decoded, why = _decoded_bytes(image, scans)
    if decoded > MAX_DECODED_BYTES:
        raise InputError(
            f"image is {width}x{height} {image.mode} ({decoded / 2**20:.0f} MiB decoded{why}); "
            f"refusing to decode more than {MAX_DECODED_BYTES / 2**20:.0f} MiB"
        )
    if scans is not None:
        scans.check_work()
    if len(image.info.get("exif", b"")) > MAX_EXIF_BYTES:
        raise InputError(
            f"EXIF block of {len(image.info['exif']) / 2**20:,.1f} MiB; refusing more than "
            f"{MAX_EXIF_BYTES / 2**20:.0f} MiB (a camera's fits in 64 KiB)"
        )


def _decoded_bytes(image: "Image", scans: Scans | None) -> tuple[int, str]:
    """What decoding holds at its peak, and why when it is more than the frame. A JPEG
    (`scans` given) is first set to decode at 1/2, 1/4 or 1/8 scale, no smaller than
    preprocessing works at; a multi-scan one still holds its coefficients at full size."""
    beside, why = 0, ""
    if scans is not None:
        beside = scans.buffer_bytes
        why = ", with libjpeg's coefficients of every scan at full size" if beside else ""
        if max(image.size) > 2 * WORKING_SIDE:
            image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))
    frame = image.width * image.height * _bytes_per_pixel(image)
    if image.format == "WEBP":
        beside, why = frame * (WEBP_COPIES - 1), ", with the copies libwebp and Pillow make"
    return frame + beside, why


def _bytes_per_pixel(image: "Image") -> int:
    """Memory per pixel once decoded and, with transparency, converted to RGBA."""
    if image.mode in ONE_BYTE_MODES and "transparency" not in image.info:
        return 1
    return 2 if image.mode.startswith("I;16") else 4
