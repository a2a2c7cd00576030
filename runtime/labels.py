"""True labels that come with inputs: a folder's labels.csv, and labels beside or inside an
array file. Read only when asked for: `evaluate` and `show` need them, `predict` not."""

import csv
import io
import os
from pathlib import Path

import numpy as np

from mnist_edge.core.arrayfiles import StoredArray
from mnist_edge.core.contract import NUM_CLASSES
from mnist_edge.core.errors import InputError
from mnist_edge.core.files import open_regular
from mnist_edge.core.text import printable

LABELS_FILE = "labels.csv"  # optional, in a folder of images: file,label
MAX_LABELS_BYTES = 64 * 2**20  # a million rows of long names fit


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
