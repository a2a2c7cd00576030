"""What the user names on the command line, expanded into sources: image files, array files,
and inputs that failed before any decoding.

Folders yield the files they hold (`recursive` for sub-folders, walked without recursion so
that no depth can overflow the stack). Expansion is lazy: a folder of a million files is
never listed in memory at once. Labels (`labels.csv` in a folder, labels in or beside an
array file) are read only when asked for: `evaluate` and `show` need them, `predict` not.
"""

import csv
import io
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_edge.core.arrayfiles import (
    StoredArray,
    looks_like_idx,
    open_idx,
    open_npy,
    open_npz,
)
from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.core.errors import InputError
from mnist_edge.core.files import open_problem, open_regular
from mnist_edge.core.text import printable
from mnist_edge.runtime.arrays import image_count
from mnist_edge.runtime.images import is_image_name

ARRAY_SUFFIXES = (".npy", ".npz")
SORTED_LIMIT = 10_000  # folders of up to this many entries are read in name order
LABELS_FILE = "labels.csv"  # optional, in a folder of images: file,label
MAX_LABELS_BYTES = 64 * 2**20  # a million rows of long names fit
NPZ_PAIRS = (("x_test", "y_test"), ("images", "labels"), ("x", "y"))


@dataclass(frozen=True)
class ImageFile:
    path: Path
    label: int | None = None


@dataclass(frozen=True)
class ArrayFile:
    path: Path
    labels: Path | None = None  # labels for its images (IDX or .npy), if not found beside it
    labelled: bool = False  # whether to read its labels at all


@dataclass(frozen=True)
class Failed:
    source: str  # printable
    error: str


Source = ImageFile | ArrayFile | Failed


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


def expand(paths: list[Path], recursive: bool = False, labelled: bool = False) -> Iterator[Source]:
    """The sources named by `paths`, in order; folders yield the files they hold, sorted."""
    labels = LabelsBeside(labelled)
    for path in paths:
        if path.is_dir():
            yield from _walk(path, recursive, labels)
        elif os.path.lexists(path):
            yield classify(path, labels)
        else:
            yield Failed(printable(str(path)), "no such file or directory")


def labelled(data: Path, labels: Path | None = None) -> Iterator[Source]:
    """The sources of a labelled set: a folder (all of it, with its labels.csv files), or an
    array file, its labels in it, beside it, or in `labels`."""
    if labels is not None:
        yield ArrayFile(data, labels, labelled=True)
    else:
        yield from expand([data], recursive=True, labelled=True)


def classify(path: Path, labels: "LabelsBeside | None" = None) -> ImageFile | ArrayFile | Failed:
    """An array file by its name (.npy, .npz, IDX); anything else is tried as an image."""
    labels = labels or LabelsBeside(False)
    if path.suffix.lower() in ARRAY_SUFFIXES or looks_like_idx(path):
        return ArrayFile(path, labelled=labels.wanted)
    return labels.image(path)


def is_input_name(path: Path) -> bool:
    return is_image_name(path) or path.suffix.lower() in ARRAY_SUFFIXES or looks_like_idx(path)


class LabelsBeside:
    """The labels.csv of each folder, read once per run when labels are wanted."""

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self._folders: dict[Path, dict[str, str] | str] = {}

    def image(self, path: Path) -> ImageFile | Failed:
        """The image file with its label, or Failed when labels.csv gives a bad one."""
        if not self.wanted:
            return ImageFile(path)
        labels = self.folder(path.parent)
        value = labels.get(path.name) if isinstance(labels, dict) else None
        if value is None:
            return ImageFile(path)
        try:
            return ImageFile(path, parse_label(value))
        except InputError as error:
            return Failed(printable(str(path)), f"{LABELS_FILE}: {error}")

    def folder(self, folder: Path) -> dict[str, str] | str:
        """file -> label text from the folder's labels.csv ({} without one; a str: why not)."""
        if folder not in self._folders:
            path = folder / LABELS_FILE
            self._folders[folder] = read_labels(path) if os.path.lexists(path) else {}
        return self._folders[folder]

    def problem(self, folder: Path) -> Failed | None:
        labels = self.folder(folder) if self.wanted else {}
        return (
            Failed(printable(str(folder / LABELS_FILE)), labels)
            if isinstance(labels, str)
            else None
        )


def read_labels(path: Path) -> dict[str, str] | str:
    """file -> label text from a labels.csv (columns file,label; a header row is optional), or
    what is wrong with the file. Read as file names are (UTF-8, other bytes kept as they are),
    so a Latin-1 file still matches the names it was written for."""
    try:
        with open_regular(path) as stream:
            if stream.seek(0, os.SEEK_END) > MAX_LABELS_BYTES:
                return f"larger than {MAX_LABELS_BYTES // 2**20} MiB; not read"
            stream.seek(0)
            text = io.TextIOWrapper(stream, "utf-8", errors="surrogateescape", newline="")
            rows = list(csv.reader(text))
    except (InputError, OSError, csv.Error) as error:
        return f"cannot read ({error})"
    labels = {}
    for row in rows:
        if len(row) >= 2 and row[1].strip().lower() != "label":
            labels[row[0].strip()] = row[1].strip()
    return labels


def parse_label(text: str) -> int:
    if len(text) == 1 and text.isdigit() and text.isascii():
        return int(text)
    raise InputError(f"label {printable(text)!r} is not a digit 0-9")


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


def checked_labels(labels: StoredArray, count: int) -> np.ndarray:
    """One digit 0-9 per image, as integers, or InputError saying what is wrong."""
    if labels.dtype.kind not in "ui":
        raise InputError(f"labels are {labels.dtype}, not integers 0-9")
    if labels.shape != (count,):
        raise InputError(f"labels of shape {labels.shape} do not match {count:,} images")
    values = labels.read()
    bad = np.flatnonzero((values < 0) | (values >= NUM_CLASSES))
    if bad.size:
        raise InputError(f"label {values[bad[0]]} of image {bad[0]} is not a digit 0-9")
    return values


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


def _walk(root: Path, recursive: bool, labels: LabelsBeside) -> Iterator[Source]:
    """Depth first, each folder in name order; an explicit stack instead of recursion."""
    stack = [_listing(root, recursive, labels)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif isinstance(entry, Path):
            stack.append(_listing(entry, recursive, labels))
        else:
            yield entry


def _listing(folder: Path, recursive: bool, labels: LabelsBeside) -> Iterator[Source | Path]:
    """A folder's input files as sources, and (when recursive) its sub-folders as paths."""
    try:
        entries = _entries(folder)
    except OSError as error:
        yield Failed(printable(str(folder)), f"cannot list folder ({open_problem(error)})")
        return
    problem = labels.problem(folder)
    if problem is not None:
        yield problem
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):  # like find: links to folders are not followed
            if recursive:
                yield path
        elif is_input_name(path):
            yield classify(path, labels)


def _entries(folder: Path) -> Iterator[os.DirEntry]:
    """A folder's entries in name order; past SORTED_LIMIT, in directory order (flat memory)."""
    scan = os.scandir(folder)
    first = list(itertools.islice(scan, SORTED_LIMIT + 1))
    if len(first) <= SORTED_LIMIT:
        scan.close()
        return iter(sorted(first, key=lambda entry: entry.name))
    return itertools.chain(first, scan)
