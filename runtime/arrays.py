"""Image arrays: shapes the model accepts, per-image checks, and conversion to uint8 pixels.

MNIST format is uint8 (N, 28, 28), light digit on dark. Float arrays in [0, 1] (the
tutorial's `images.astype("float32") / 255`) and integer arrays in 0-255 are accepted too.
"""

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE
from mnist_edge.core.errors import InputError

PIXELS = IMAGE_SIZE * IMAGE_SIZE
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE)
NOT_FINITE = "contains NaN or infinite values"


def image_count(shape: tuple[int, ...], dtype: np.dtype) -> int:
    """How many images an array of this shape and dtype holds: (N, 28, 28), (N, 784) or
    (28, 28), or none for an empty (0,) array. InputError for anything else."""
    if dtype.kind not in "uif":
        raise InputError(f"dtype {dtype} is not supported; expected uint8 or float in [0, 1]")
    if shape == (IMAGE_SIZE, IMAGE_SIZE):
        return 1
    if shape == (0,):  # np.array([]), predict([]): an empty batch
        return 0
    if (
        len(shape) == 3
        and shape[1:] == (IMAGE_SIZE, IMAGE_SIZE)
        or (len(shape) == 2 and shape[1] == PIXELS)
    ):
        return shape[0]
    raise InputError(f"shape {shape} is not (N, 28, 28), (N, 784) or (28, 28)")


def as_image_batch(array: np.ndarray) -> np.ndarray:
    """A (N, 28, 28) view of an array shaped (N, 28, 28), (N, 784) or (28, 28)."""
    if array.shape[1:] == IMAGE_SHAPE and array.ndim == 3 and array.dtype.kind in "uif":
        return array  # already a batch: the common case, checked first (a microsecond a call)
    return array.reshape(image_count(array.shape, array.dtype), IMAGE_SIZE, IMAGE_SIZE)


def image_problems(batch: np.ndarray) -> list[str | None]:
    """For each image of a (N, 28, 28) batch: None if usable, else what is wrong with it."""
    if batch.dtype == np.uint8:
        return [None] * len(batch)
    flat = batch.reshape(len(batch), -1)
    if batch.dtype.kind == "f":
        out_of_range = (flat < 0).any(axis=1) | (flat > 1).any(axis=1)
        range_problem = "float values outside [0, 1] (pass uint8 for 0-255 pixels)"
    else:
        out_of_range = (flat < 0).any(axis=1) | (flat > 255).any(axis=1)
        range_problem = f"{batch.dtype} values outside 0-255"
    return [
        NOT_FINITE if bad else range_problem if outside else None
        for bad, outside in zip(not_finite(batch), np.asarray(out_of_range), strict=True)
    ]


def not_finite(batch: np.ndarray) -> np.ndarray:
    """For each image of a batch (N, ...): whether any of its values is NaN or infinite.
    Arrays and decoded pictures (a float TIFF) are both checked here."""
    if batch.dtype.kind != "f":
        return np.zeros(len(batch), dtype=bool)
    return ~np.isfinite(batch.reshape(len(batch), -1)).all(axis=1)


def to_uint8(batch: np.ndarray) -> np.ndarray:
    """uint8 pixels of checked images: uint8 as it is, floats in [0, 1] as round(x * 255)."""
    if batch.dtype == np.uint8:
        return batch
    if batch.dtype.kind == "f":
        scaled = np.multiply(batch, 255, dtype=np.float32)
        return np.rint(scaled, out=scaled).astype(np.uint8)
    return batch.astype(np.uint8)


def checked_pixels(batch: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """uint8 pixels of a (N, 28, 28) batch, and for each image what is wrong with it (None:
    usable). Images with a problem are converted too, meaninglessly: callers skip them."""
    problems = image_problems(batch)
    with np.errstate(invalid="ignore"):  # NaN images are reported, not converted
        return to_uint8(batch), problems
