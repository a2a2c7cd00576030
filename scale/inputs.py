"""What the user names on the command line, as Ray datasets of input rows, in input order.

An image file is one row holding its name as given and its absolute path: the actor that
predicts it opens and decodes it exactly as the local engine does (so the files must be on
a filesystem every node mounts at the same place), and a row costs the driver a hundred
bytes, not the file. Array files are read and checked here, a block at a time, and their
images shipped as rows of pixels; inputs that failed before any reading (a missing file)
are shipped as their error. A run too large for one dataset is cut into segments, run one
after another.
"""

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_edge.runtime.decode import source_items
from mnist_edge.runtime.pipeline import DEFAULT_BATCH
from mnist_edge.runtime.records import Item
from mnist_edge.runtime.sources import ImageFile, expand
from mnist_edge.scale.worker import ERROR, PATH, PIXELS, SOURCE, table_of

if TYPE_CHECKING:
    import pyarrow
    from ray.data import Dataset

SEGMENT_BYTES = 256 * 2**20  # of rows per dataset: paths (~100 bytes) or pixels (784)
FIRST_BLOCKS = 32  # blocks of one model call first: a short run keeps every actor busy
LATER_CALLS = 4  # then blocks of four calls: fewer tasks to schedule (+10-30% files/s)
Entry = Path | Item  # an image file for an actor to read, or an input settled here


def segments(
    paths: list[Path], recursive: bool = False, block_rows: int = DEFAULT_BATCH
) -> Iterator["Dataset"]:
    """Everything `paths` names, as consecutive datasets of input rows (see worker.py), in
    blocks of `block_rows` (a model call), then of LATER_CALLS times that: a block is one
    task for one actor."""
    import ray

    blocks: list[pyarrow.Table] = []
    size = 0
    for block in _blocks(entries(paths, recursive), block_rows):
        blocks.append(block)
        size += block.nbytes
        if size >= SEGMENT_BYTES:
            yield ray.data.from_arrow(blocks)
            blocks, size = [], 0
    if blocks:
        yield ray.data.from_arrow(blocks)


def entries(paths: list[Path], recursive: bool) -> Iterator[Entry]:
    """The inputs in order: image files as paths (an actor decodes them), anything else as
    the items the local engine makes of it (the images of array files, failures)."""
    for source in expand(paths, recursive):
        if isinstance(source, ImageFile):
            yield Path(source.path)
        else:
            yield from source_items(source)


def input_schema() -> "pyarrow.Schema":
    """The command line's input rows. Paths are bytes, so any file name survives."""
    import pyarrow

    names = (SOURCE, PATH, PIXELS)
    return pyarrow.schema(
        [(name, pyarrow.binary()) for name in names] + [(ERROR, pyarrow.string())]
    )


def rows_table(entries: list[Entry]) -> "pyarrow.Table":
    return table_of([_row(entry) for entry in entries], input_schema())


def _row(entry: Entry) -> tuple[bytes, bytes | None, bytes | None, str | None]:
    if isinstance(entry, Path):
        return os.fsencode(entry), os.fsencode(entry.absolute()), None, None
    pixels = None if entry.image is None else entry.image.tobytes()
    return os.fsencode(entry.source), None, pixels, entry.error


def _blocks(entries: Iterator[Entry], rows: int) -> Iterator["pyarrow.Table"]:
    for index in itertools.count():
        size = rows if index < FIRST_BLOCKS else LATER_CALLS * rows
        chunk = list(itertools.islice(entries, size))
        if not chunk:
            return
        yield rows_table(chunk)
