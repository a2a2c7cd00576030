"""Opening image files safely: known formats only, a pixel limit, EXIF orientation, frame 0."""

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_edge.core.errors import InputError

if TYPE_CHECKING:
    from PIL.Image import Image

# Decoders we accept; exotic ones are where the security bugs live. (Phones' MPO files open
# through the JPEG decoder.)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo fits; a digit never needs more
WORKING_SIDE = 1024  # large JPEGs are decoded at reduced scale; a digit needs far less


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS


def open_image(path: Path) -> "Image":
    """The decoded image (frame 0, EXIF orientation applied), or InputError saying why not."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _quiet_bomb_warnings()
    try:
        with open(path, "rb") as stream:
            image = Image.open(stream, formats=FORMATS)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InputError(
                    f"image is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
                    f"refusing to decode more than {MAX_PIXELS / 1e6:.0f} MP"
                )
            if image.format == "JPEG" and max(width, height) > 2 * WORKING_SIDE:
                image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))  # decode at 1/2, 1/4 or 1/8
            image.load()
    except Image.DecompressionBombError:
        raise InputError(f"image over {MAX_PIXELS / 1e6:.0f} MP refused") from None
    except UnidentifiedImageError:
        raise InputError(f"not an image Pillow can read as {', '.join(FORMATS)}") from None
    except FileNotFoundError:
        raise InputError("no such file") from None
    except IsADirectoryError:
        raise InputError("is a directory") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except InputError:
        raise
    except OSError as error:  # truncated or corrupt data shows up at load()
        raise InputError(f"cannot decode image ({error})") from None
    except Exception as error:  # decoders raise their own types on malformed files
        raise InputError(f"cannot decode image ({type(error).__name__}: {error})") from None
    if "exif" not in image.info and image.format != "TIFF":
        return image  # no EXIF block, so no orientation to apply (TIFF keeps it in its tags)
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as error:  # a malformed EXIF block
        raise InputError(f"bad EXIF orientation data ({type(error).__name__})") from None
    return image


@functools.cache
def _quiet_bomb_warnings() -> None:
    """Pillow warns about huge images before we refuse them; the refusal is the message."""
    import warnings

    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
