"""What the user names on the command line, expanded into sources: image files, array files,
and inputs that failed before any decoding.

Folders yield the files they hold (`recursive` for sub-folders, walked without recursion so
that no depth can overflow the stack). Expansion is lazy: a folder of a million files is
never listed in memory at once. Labels are read only when asked for (runtime/labels.py).
"""

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mnist_edge.core.arrayfiles import is_idx_name
from mnist_edge.core.errors import InputError
from mnist_edge.core.files import is_folder, open_problem
from mnist_edge.core.text import printable
from mnist_edge.runtime.images import EXTENSIONS
from mnist_edge.runtime.labels import LABELS_FILE, parse_label, read_labels

ARRAY_SUFFIXES = (".npy", ".npz")
SORTED_LIMIT = 10_000  # folders of up to this many entries are read in name order


@dataclass(frozen=True)
class ImageFile:
    path: Path | str  # a folder's listing gives the string its scan found: making a Path of
    # each file costs ~2 us, more than the rest of its listing (Path(path) where one is needed)
    label: int | None = None


@dataclass(frozen=True)
class ArrayFile:
    path: Path
    labels: Path | None = None  # labels for its images (IDX or .npy), if not found beside it
    labelled: bool = False  # whether to read its labels at all
    start: int = 0  # its images from `start` to `stop` only (`show --index`)
    stop: int | None = None


@dataclass(frozen=True)
class Failed:
    source: str  # printable
    error: str


Source = ImageFile | ArrayFile | Failed


def expand(paths: list[Path], recursive: bool = False, labelled: bool = False) -> Iterator[Source]:
    """The sources named by `paths`, in order; folders yield the files they hold, sorted."""
    labels = LabelsBeside(labelled)
    for path in paths:
        try:
            folder = is_folder(path)
        except InputError as error:  # a name too long, a folder on the way that is locked
            yield Failed(printable(str(path)), str(error))
            continue
        if folder:
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
    if _is_array_name(path.name):
        return ArrayFile(path, labelled=labels.wanted)
    return labels.image(path)


def _is_array_name(name: str) -> bool:
    return _suffix(name) in ARRAY_SUFFIXES or is_idx_name(name)


def _suffix(name: str) -> str:
    """A file name's suffix in lower case, as pathlib finds it ("" for ".png" or "a.")."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


class LabelsBeside:
    """The labels.csv of each folder, read once per run when labels are wanted."""

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self._folders: dict[Path, dict[str, str] | str] = {}

    def image(self, path: Path | str) -> ImageFile | Failed:
        """The image file with its label, or Failed when labels.csv gives a bad one."""
        if not self.wanted:
            return ImageFile(path)
        folder, name = os.path.split(path)
        labels = self.folder(Path(folder))
        value = labels.get(name) if isinstance(labels, dict) else None
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
    for entry in entries:  # by name first: a Path is made only for what is kept
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):  # like find: links to folders are not followed
            if recursive:
                yield Path(entry.path)
        elif _is_array_name(name):
            yield ArrayFile(Path(entry.path), labelled=labels.wanted)
        elif _suffix(name) in EXTENSIONS:
            yield labels.image(entry.path)


def _entries(folder: Path) -> Iterator[os.DirEntry]:
    """A folder's entries in name order; past SORTED_LIMIT, in directory order (flat memory)."""
    scan = os.scandir(folder)
    first = list(itertools.islice(scan, SORTED_LIMIT + 1))
    if len(first) <= SORTED_LIMIT:
        scan.close()
        return iter(sorted(first, key=lambda entry: entry.name))
    return itertools.chain(first, scan)
