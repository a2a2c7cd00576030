"""The floor of the folder benchmark (benchmarks/folder.py): every file of a folder read the
plainest way Pillow allows, one after another. Timed in the benchmark's own process, and as a
process of its own (`python -m benchmarks.bare_pillow FOLDER`), which imports only Pillow and
NumPy, as `predict` is timed: start to exit."""

import os
import sys
from collections.abc import Iterable

import numpy as np
from PIL import Image


def read_all(paths: Iterable[str | os.PathLike]) -> None:
    """`Image.open` + `convert("L")` + `np.asarray` on each file."""
    for path in paths:
        with Image.open(path) as image:
            np.asarray(image.convert("L"))


if __name__ == "__main__":
    folder = sys.argv[1]
    read_all(os.path.join(folder, name) for name in sorted(os.listdir(folder)))
