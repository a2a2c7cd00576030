"""An array file as input: its images read a block at a time, checked, with their labels.

`.npy`, `.npz` and IDX files are read by core/arrayfiles.py (headers and limits checked
before any data); here they become one item per image, as an image file becomes one item.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_edge.core.arrayfiles import StoredArray, open_idx, open_npy, open_npz
from mnist_edge.core.contract import IMAGE_SIZE
from mnist_edge.core.errors import InputError
from mnist_edge.core.text import one_line, printable
from mnist_edge.runtime.arrays import checked_pixels, image_count
from mnist_edge.runtime.labels import checked_labels
from mnist_edge.runtime.preprocess import BLANK, is_blank
from mnist_edge.runtime.records import Item
from mnist_edge.runtime.sources import ArrayFile

BLOCK = 1024  # images of an array file checked and converted at a time
NPZ_PAIRS = (("x_test", "y_test"), ("images", "labels"), ("x", "y"))


@dataclass(frozen=True)
class ImageArray:
    """The images of an array file, read in blocks, with their labels when asked for."""

    stored: StoredArray
    count: int
    labels: np.ndarray | None

    def blocks(self, rows: int) -> Iterator[np.ndarray]:
        """(n, 28, 28) blocks of at most `rows` images, in order."""
        if self.stored.shape == (IMAGE_SIZE, IMAGE_SIZE):
            yield self.stored.read()[np.newaxis]
            return
        for block in self.stored.blocks(rows):
            yield block.reshape(len(block), IMAGE_SIZE, IMAGE_SIZE)


def read_array_file(source: ArrayFile) -> ImageArray:
    """The images of an .npy, .npz or IDX file (and their labels, when the source wants
    them). Headers and limits are checked here; no image data is read yet."""
    path = source.path
    stored, labels = _images_and_labels(path)
    count = image_count(stored.shape, stored.dtype)
    if count == 0:
        raise InputError(f"holds no images (shape {stored.shape})")
    if not source.labelled:
        return ImageArray(stored, count, None)
    if source.labels is not None:
        try:
            labels = _open_labels(source.labels)
        except InputError as error:
            raise InputError(f"labels file {printable(str(source.labels))}: {error}") from None
    return ImageArray(stored, count, None if labels is None else checked_labels(labels, count))


def _images_and_labels(path: Path) -> tuple[StoredArray, StoredArray | None]:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return open_npy(path), None
    if suffix == ".npz":
        return _npz_images(path)
    return open_idx(path), _idx_labels_beside(path)


def _npz_images(path: Path) -> tuple[StoredArray, StoredArray | None]:
    npz = open_npz(path)  # its directory read once, however many arrays are opened
    names = npz.names
    for images, labels in NPZ_PAIRS:
        if images in names:
            return npz.array(images), (npz.array(labels) if labels in names else None)
    if len(names) == 1:
        return npz.array(names[0]), None
    listed = ", ".join(printable(name) for name in names[:10]) or "no arrays"
    raise InputError(f"has {listed}; expected one array, or x_test (Keras MNIST layout) or images")


def _open_labels(path: Path) -> StoredArray:
    return open_npy(path) if path.suffix.lower() == ".npy" else open_idx(path)


def _idx_labels_beside(images_path: Path) -> StoredArray | None:
    """The IDX labels beside an images file (t10k-images-idx3 -> t10k-labels-idx1)."""
    name = images_path.name
    if "images-idx3" not in name:
        return None
    labels_path = images_path.with_name(name.replace("images-idx3", "labels-idx1"))
    return open_idx(labels_path) if labels_path.exists() else None


def array_items(source: ArrayFile) -> Iterator[Item]:
    """One item per image of an array file (its images `start` to `stop`), read a block at a
    time.

    Blank images get the same "no digit found" as a blank picture; an array that cannot be
    read gives one error item naming the file (and, mid-way, the image it stopped at).
    """
    name = printable(str(source.path))
    try:
        array = read_array_file(source)
    except InputError as error:
        yield Item(name, None, one_line(str(error)))
        return
    start = source.start
    stop = array.count if source.stop is None else min(source.stop, array.count)
    done = 0
    try:
        for block in array.blocks(BLOCK):
            if done + len(block) > start:
                yield from _block_items(name, block, done, array.labels, start, stop)
            done += len(block)
            if done >= stop:
                return
    except InputError as error:
        yield Item(name, None, f"stopped at image {done:,}: {one_line(str(error))}")


def _block_items(
    name: str, block: np.ndarray, offset: int, labels: np.ndarray | None, start: int, stop: int
) -> Iterator[Item]:
    pixels, problems = checked_pixels(block)
    first, last = max(start - offset, 0), min(stop - offset, len(block))
    for index in range(first, last):
        position = offset + index
        label = None if labels is None else int(labels[position])
        problem = problems[index] or (BLANK if is_blank(pixels[index]) else None)
        image = None if problem else pixels[index]
        yield Item(f"{name}#{position}", image, problem, label)
