"""What every picture shares: colours, text sizes, spacing, and the drawing primitives."""

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont
    from PIL.Image import Image

BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
MUTED = (110, 110, 110)
BAR = (150, 165, 190)  # an ordinary probability bar
PREDICTED = (31, 119, 180)  # the predicted digit when the truth is unknown; right answers
RIGHT = (44, 160, 44)  # the predicted digit's bar when it is the true digit
WRONG = (214, 39, 40)  # the predicted digit's bar when it is not; mistakes

# Text sizes, in pixels
TITLE = 22
HEADING = 18
LABEL = 16
TEXT = 14
SMALL = 11
TINY = 10

MARGIN = 24  # between panels and around the picture
GAP = 12  # between a thing and its caption


@functools.cache
def font(size: int) -> "ImageFont.FreeTypeFont | ImageFont.ImageFont":
    """Pillow's bundled scalable font (a bitmap font where FreeType is missing)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def enlarged(pixels: np.ndarray, scale: int) -> "Image":
    """A greyscale array shown `scale` times larger with hard pixel edges (no smoothing)."""
    from PIL import Image

    return Image.fromarray(pixels).resize(
        (pixels.shape[1] * scale, pixels.shape[0] * scale), Image.Resampling.NEAREST
    )


def fitted(picture: "Image", side: int) -> "Image":
    """An RGB copy fitted into side x side, transparency shown over a checkerboard."""
    from PIL import Image

    picture = picture.copy()
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    if side > max(picture.size):  # small inputs (28x28) are enlarged, pixelated
        factor = max(1, side // max(picture.size))
        picture = picture.resize(
            (picture.width * factor, picture.height * factor), Image.Resampling.NEAREST
        )
    rgba = picture.convert("RGBA")
    board = checkerboard(rgba.size)
    board.alpha_composite(rgba)
    return board.convert("RGB")


def checkerboard(size: tuple[int, int], cell: int = 8) -> "Image":
    from PIL import Image

    rows, cols = np.indices((size[1], size[0])) // cell
    pattern = np.where((rows + cols) % 2, 205, 235).astype(np.uint8)
    return Image.fromarray(pattern).convert("RGBA")


def centred_text(
    draw: "ImageDraw.ImageDraw", centre: tuple[float, float], text: str, size: int, fill=INK
) -> None:
    draw.text(centre, text, font=font(size), fill=fill, anchor="mm")


def mixed(colour: tuple[int, int, int], strength: float) -> tuple[int, int, int]:
    """White blended towards `colour`: 0 is white, 1 is the colour itself."""
    return tuple(round(255 + (c - 255) * strength) for c in colour)
