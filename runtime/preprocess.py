"""Turn any decoded image into an MNIST digit, the way MNIST itself was made.

MNIST digits are light on a background of exactly 0, scaled (aspect kept, area resampling)
so that the longest side is 20 px, and placed in 28x28 with the intensity-weighted centre
of mass at pixel (14, 14). The model has only ever seen digits like that; a digit drawn
large, off-centre or dark on light must be brought to that form first.
"""

import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE
from mnist_edge.core.errors import InputError
from mnist_edge.runtime.arrays import NOT_FINITE, not_finite

if TYPE_CHECKING:
    from PIL.Image import Image

DIGIT_BOX = 20  # MNIST digits' longest side, in pixels
CENTRE = IMAGE_SIZE / 2  # 14.0: where MNIST puts the centre of mass (row and column)
CENTRE_TOLERANCE = 0.6  # every MNIST digit's centre of mass lies within 0.52 px of it
WORKING_SIDE = 1024  # larger images are first reduced by area averaging
BAND_BLOCKS = 64  # rows of blocks reduced at a time (see reduced)
MIN_CONTRAST = 32  # ink must stand this far (of 255) from the background, else no digit
INK_FLOOR = 0.2  # after background removal, less than this fraction of the peak is noise
BORDER_FRACTION = 0.03  # width of the border band that tells the background colour
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
BLANK = "no digit found (the image is blank or has almost no contrast)"


def to_mnist(image: "Image") -> np.ndarray:
    """uint8 (28, 28) MNIST-format digit from a decoded Pillow image of any size and mode."""
    return mnist_format(greyscale(image))


def greyscale(image: "Image") -> np.ndarray:
    """(H, W) luminance in [0, 255] (uint8 or float32), transparency composited onto a backdrop
    that contrasts with the strokes. Images over WORKING_SIDE are first reduced by area,
    before any conversion, so that a large image is never copied at full size."""
    if image.mode == "LAB":  # CIELAB (a TIFF): its L band is the lightness, L* 0-100 as 0-255
        image = image.getchannel("L")
    if image.mode.startswith("I;16"):  # 16-bit: Pillow's convert("L") would clip, not scale
        return np.asarray(shrunk_16bit(image), dtype=np.float32) / 257
    if image.mode in ("I", "F"):
        pixels = np.asarray(reduced(image), dtype=np.float32)
        if not_finite(pixels[np.newaxis])[0]:  # a float TIFF can hold them; averaging keeps them
            raise InputError(NOT_FINITE)
        peak = pixels.max(initial=0)
        scale = 255 if image.mode == "F" and peak <= 1 else 1 / 257 if peak > 255 else 1
        return np.clip(pixels * np.float32(scale), 0, 255)
    if image.mode == "PA" or image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info:
        image = image.convert("RGBA")  # palette or colour-key transparency becomes alpha
    elif image.mode in ("P", "1"):
        image = image.convert("L")  # palette indices cannot be averaged
    image = reduced(image)
    if image.mode in ALPHA_MODES:
        both = np.asarray(image.convert("LA"), dtype=np.float32)
        return composite(both[..., 0], both[..., 1] / 255)
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def composite(luminance: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The picture over a backdrop that contrasts with its strokes.

    The backdrop is the colour the transparent pixels carry (a light digit cut out of a
    black background keeps its dark anti-aliased edges: it belongs on black), unless the
    strokes are that colour too: a canvas export is dark strokes on transparent black, on
    which they would vanish. Then it is the opposite of the strokes (white behind dark).
    """
    opaque, clear = alpha > 0.5, alpha <= 0.5
    if not opaque.any():
        return luminance * alpha  # nothing drawn: blank, reported as such later
    strokes = float(np.average(luminance, weights=alpha))
    backdrop = 255.0 if strokes < 128 else 0.0
    if clear.any():
        underneath = median(luminance[clear])
        if abs(strokes - underneath) >= MIN_CONTRAST:
            backdrop = underneath
    return luminance * alpha + backdrop * (1 - alpha)


def reduced(picture: "Image") -> "Image":
    """Shrunk by a whole factor (block averages) until the longest side is <= WORKING_SIDE.

    A band of rows at a time: Pillow reduces RGBA and LA through a premultiplied copy of the
    whole image, which would double the memory a large picture takes. Bands start on block
    boundaries, so the result is the same as reducing the whole image at once.
    """
    from PIL import Image

    factor = math.ceil(max(picture.size) / WORKING_SIDE)
    if factor == 1:
        return picture
    width, height = picture.size
    result = Image.new(picture.mode, (math.ceil(width / factor), math.ceil(height / factor)))
    band = BAND_BLOCKS * factor
    for top in range(0, height, band):
        strip = picture.crop((0, top, width, min(height, top + band))).reduce(factor)
        result.paste(strip, (0, top // factor))
    return result


def shrunk_16bit(picture: "Image") -> "Image":
    """`reduced` for 16-bit images, which Pillow can resize by area but not `reduce`."""
    from PIL import Image

    factor = math.ceil(max(picture.size) / WORKING_SIDE)
    if factor == 1:
        return picture
    size = (math.ceil(picture.width / factor), math.ceil(picture.height / factor))
    return picture.resize(size, Image.Resampling.BOX)


def mnist_format(grey: np.ndarray) -> np.ndarray:
    """uint8 (28, 28) MNIST digit from a greyscale image (H, W) of either polarity."""
    ink = ink_on_black(grey)
    if ink.shape == (IMAGE_SIZE, IMAGE_SIZE) and is_mnist_digit(ink):
        return ink.astype(np.uint8)  # already MNIST: unchanged, pixel for pixel
    if is_blank(ink):
        raise InputError(BLANK)
    peak = float(ink.max())
    ink = np.where(ink < INK_FLOOR * peak, 0, ink).astype(np.float32)
    return centre_of_mass_placed(fit_box(crop_to_ink(ink)))


def is_blank(ink: np.ndarray) -> bool:
    """Whether a digit image (light on a background of 0) has no ink worth reading."""
    return float(ink.max(initial=0)) < MIN_CONTRAST


def ink_on_black(grey: np.ndarray) -> np.ndarray:
    """The digit light on a background of exactly 0 (`grey` itself when it already is).

    The background is the median of a border band; the ink is whichever extreme lies
    farther from it. (The mean brightness would fail on thick strokes.)
    """
    border = grey[border_mask(grey.shape)]
    background = median(border) if np.count_nonzero(border) else 0.0  # MNIST: all zero
    if background == 0 and grey.dtype == np.uint8:
        return grey  # nothing lies below the background to be ink: already light on black
    if background - float(grey.min()) > float(grey.max()) - background:
        grey, background = 255 - grey, 255 - background  # dark ink on light paper
    if background == 0:
        return grey
    return np.maximum(grey - np.float32(background), 0, dtype=np.float32)


def median(values: np.ndarray) -> float:
    """Median of a 1-D array by partial sort (np.median does more work than needed here)."""
    middle = len(values) // 2
    parted = np.partition(values, [middle - 1, middle] if len(values) % 2 == 0 else middle)
    if len(values) % 2:
        return float(parted[middle])
    return (float(parted[middle - 1]) + float(parted[middle])) / 2


@functools.lru_cache(maxsize=16)
def border_mask(shape: tuple[int, int]) -> np.ndarray:
    """True on the band along the edges that tells the background colour."""
    band = max(1, round(BORDER_FRACTION * min(shape)))
    mask = np.ones(shape, dtype=bool)
    mask[band:-band, band:-band] = False
    return mask


def is_mnist_digit(ink: np.ndarray) -> bool:
    """Whether a 28x28 ink image is already as MNIST made it: 19-20 px long, centred by mass."""
    row_sums, col_sums = _SUM(ink, 1, np.float64), _SUM(ink, 0, np.float64)
    (rows,), (cols,) = row_sums.nonzero(), col_sums.nonzero()  # ink is never negative
    if rows.size == 0:
        return False
    longest = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    if longest not in (DIGIT_BOX - 1, DIGIT_BOX):
        return False
    mass, positions = float(_SUM(row_sums)), _indices(IMAGE_SIZE)  # one total: both are
    # sums of the same whole numbers, exact in float64
    row, col = float(row_sums.dot(positions)) / mass, float(col_sums.dot(positions)) / mass
    if max(abs(row - CENTRE), abs(col - CENTRE)) > CENTRE_TOLERANCE:
        return False
    return ink.dtype == np.uint8 or np.array_equal(ink, np.rint(ink))  # whole pixel values


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit_box(digit: np.ndarray) -> np.ndarray:
    """Scale so the longest side is 20 px, aspect ratio kept (area resampling), peak 255."""
    from PIL import Image

    height, width = digit.shape
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    scaled = np.asarray(Image.fromarray(digit).resize(size, method), dtype=np.float32)
    return scaled * (255 / scaled.max())


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (row, column) in pixel-index coordinates."""
    return (
        _weighted_centre(image.sum(axis=1, dtype=np.float64)),
        _weighted_centre(image.sum(axis=0, dtype=np.float64)),
    )


def _weighted_centre(sums: np.ndarray) -> float:
    """The mean index of a profile (row or column sums), weighted by ink."""
    return float(sums.dot(_indices(len(sums)))) / float(_SUM(sums))


_SUM = np.add.reduce  # ndarray.sum without its Python wrapper: this runs for every file


@functools.lru_cache(maxsize=16)
def _indices(length: int) -> np.ndarray:
    """0, 1, ... length - 1 as float64, made once per length (a profile's positions)."""
    return np.arange(length, dtype=np.float64)


def centre_of_mass_placed(digit: np.ndarray) -> np.ndarray:
    """The digit in a 28x28 canvas, shifted by whole pixels to put its centre of mass at 14."""
    height, width = digit.shape
    row, col = centre_of_mass(digit)
    top = min(max(math.floor(CENTRE - row + 0.5), 0), IMAGE_SIZE - height)
    left = min(max(math.floor(CENTRE - col + 0.5), 0), IMAGE_SIZE - width)
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    canvas[top : top + height, left : left + width] = digit
    return np.rint(np.clip(canvas, 0, 255)).astype(np.uint8)
