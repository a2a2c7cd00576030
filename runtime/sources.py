"""What the user names on the command line, expanded into inputs: one per image.

Image files, folders of them (`--recursive` for sub-folders), `.npy`/`.npz` arrays and IDX
files. An array file holds many images; each becomes its own input, named `file#index`.
Expansion is lazy, so a folder of a million files is never listed in memory at once.
"""

import csv
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_edge.core.errors import InputError
from mnist_edge.core.idx import looks_like_idx, read_idx
from mnist_edge.runtime.arrays import as_image_batch
from mnist_edge.runtime.images import is_image_name

ARRAY_SUFFIXES = (".npy", ".npz")
SORTED_LIMIT = 10_000  # folders up to this size are read in name order
LABELS_FILE = "labels.csv"  # optional, in a folder of images: file,label
NPZ_PAIRS = (("x_test", "y_test"), ("images", "labels"), ("x", "y"))


@dataclass(frozen=True)
class ImageFile:
    path: Path
    label: int | None = None


@dataclass(frozen=True)
class ArrayFile:
    path: Path
    labels: Path | None = None  # labels for its images (IDX or .npy), when not found beside it


@dataclass(frozen=True)
class Failed:
    source: str
    error: str


Source = ImageFile | ArrayFile | Failed


@dataclass(frozen=True)
class ImageArray:
    """The images of an array file, (N, 28, 28), with their labels when the file has them."""

    images: np.ndarray
    labels: np.ndarray | None


def expand(paths: list[Path], recursive: bool = False) -> Iterator[Source]:
    """The inputs named by `paths`, in order; folders yield the files they hold, sorted."""
    for path in paths:
        if path.is_dir():
            yield from _walk(path, recursive)
        elif path.exists():
            yield classify(path)
        else:
            yield Failed(str(path), "no such file or directory")


def labelled(data: Path, labels: Path | None = None) -> Iterator[Source]:
    """The inputs of a labelled set: a folder (all of it, with its labels.csv files), or an
    array file, its labels in it, beside it, or in `labels`."""
    if labels is not None:
        yield ArrayFile(data, labels)
    elif data.is_dir():
        yield from expand([data], recursive=True)
    else:
        yield classify(data)


def classify(path: Path, label: int | None = None) -> ImageFile | ArrayFile:
    """An array file by its name (.npy, .npz, IDX); anything else is tried as an image."""
    if path.suffix.lower() in ARRAY_SUFFIXES or looks_like_idx(path):
        return ArrayFile(path)
    return ImageFile(path, label)


def is_input_name(path: Path) -> bool:
    return is_image_name(path) or path.suffix.lower() in ARRAY_SUFFIXES or looks_like_idx(path)


def _walk(folder: Path, recursive: bool) -> Iterator[Source]:
    try:
        entries = _entries(folder)
    except OSError as error:
        yield Failed(str(folder), f"cannot list folder ({error.strerror})")
        return
    labels = read_labels(folder / LABELS_FILE) if (folder / LABELS_FILE).is_file() else {}
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):  # like find: links to folders are not followed
            if recursive:
                yield from _walk(path, recursive)
        elif is_input_name(path):
            yield classify(path, labels.get(entry.name))


def _entries(folder: Path) -> Iterator[os.DirEntry]:
    """A folder's entries in name order; past SORTED_LIMIT, in directory order (flat memory)."""
    scan = os.scandir(folder)
    first = list(itertools.islice(scan, SORTED_LIMIT))
    if len(first) < SORTED_LIMIT:
        scan.close()
        return iter(sorted(first, key=lambda entry: entry.name))
    return itertools.chain(first, scan)


def read_labels(path: Path) -> dict[str, int]:
    """file -> label from a `labels.csv` (columns file,label; a header row is optional)."""
    labels = {}
    with open(path, newline="") as stream:
        for row in csv.reader(stream):
            if len(row) >= 2 and row[1].strip().isdigit():
                labels[row[0].strip()] = int(row[1])
    return labels


def read_array_file(path: Path, labels: Path | None = None) -> ImageArray:
    """Images (and labels) from .npy, .npz or IDX; never unpickles. Raises InputError."""
    array = _read_images(path)
    if labels is not None:
        array = ImageArray(array.images, _read_labels_array(labels))
    if array.labels is not None and array.labels.shape != (len(array.images),):
        raise InputError(
            f"labels of shape {array.labels.shape} do not match {len(array.images)} images"
        )
    return array


def _read_images(path: Path) -> ImageArray:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return ImageArray(as_image_batch(_load_npy(path)), None)
        if suffix == ".npz":
            return _read_npz(path)
        return ImageArray(as_image_batch(read_idx(path)), idx_labels(path))
    except ValueError as error:
        if isinstance(error, InputError):
            raise
        if "pickle" in str(error):
            raise InputError(
                "holds pickled objects; refused (arrays are never unpickled)"
            ) from None
        raise InputError(f"not a readable {suffix or 'array'} file ({error})") from None
    except (OSError, EOFError) as error:
        raise InputError(f"cannot read ({error})") from None


def _load_npy(path: Path) -> np.ndarray:
    """The array, memory-mapped; refused from its header alone when it holds Python objects."""
    with open(path, "rb") as stream:
        version = np.lib.format.read_magic(stream)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        _, _, dtype = read_header(stream)
    if dtype.hasobject:
        raise InputError("holds pickled Python objects; refused (arrays are never unpickled)")
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _read_labels_array(path: Path) -> np.ndarray:
    try:
        labels = np.asarray(_load_npy(path) if path.suffix.lower() == ".npy" else read_idx(path))
    except (ValueError, OSError) as error:
        raise InputError(f"labels file {path}: {error}") from None
    if labels.dtype.kind not in "ui" or labels.size and not 0 <= labels.min() <= labels.max() <= 9:
        raise InputError(f"labels file {path}: expected integers 0-9")
    return labels


def _read_npz(path: Path) -> ImageArray:
    with np.load(path, allow_pickle=False) as npz:
        keys = npz.files
        for images_key, labels_key in NPZ_PAIRS:
            if images_key in keys:
                labels = npz[labels_key] if labels_key in keys else None
                return ImageArray(as_image_batch(npz[images_key]), labels)
        if len(keys) == 1:
            return ImageArray(as_image_batch(npz[keys[0]]), None)
    names = ", ".join(keys) or "no arrays"
    raise InputError(f"has {names}; expected one array, or x_test (Keras MNIST layout) or images")


def idx_labels(images_path: Path) -> np.ndarray | None:
    """Labels from the IDX file beside an images file (t10k-images-idx3 -> t10k-labels-idx1)."""
    name = images_path.name
    if "images-idx3" not in name:
        return None
    labels_path = images_path.with_name(name.replace("images-idx3", "labels-idx1"))
    if not labels_path.exists():
        return None
    return np.asarray(read_idx(labels_path))
