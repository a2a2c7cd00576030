"""The MNIST data set, offline: find it, read it (npz or the original IDX files), verify it.

Never downloads and never unpickles. The checksums are those of the arrays' bytes, so the
same data verifies whether it comes as Keras's `mnist.npz` or as the four IDX files.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_edge.core.arrayfiles import open_idx, open_npz
from mnist_edge.core.errors import DataError, InputError
from mnist_edge.core.files import file_status

ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
KERAS_CACHE = Path("~/.keras/datasets/mnist.npz")
CHECKOUT_DATA = Path(__file__).resolve().parents[1] / "data" / "mnist.npz"  # source checkout


@dataclass(frozen=True)
class Mnist:
    """The four MNIST arrays, uint8, in Keras's layout."""

    x_train: np.ndarray  # (60000, 28, 28)
    y_train: np.ndarray  # (60000,)
    x_test: np.ndarray  # (10000, 28, 28)
    y_test: np.ndarray  # (10000,)
    source: Path


def candidate_paths(data: Path | None = None) -> list[Path]:
    """Where MNIST is looked for, in order: the given path, `data/mnist.npz`, Keras's cache."""
    if data is not None:
        return [data]
    paths = [Path("data/mnist.npz"), CHECKOUT_DATA, KERAS_CACHE.expanduser()]
    return list(dict.fromkeys(path.resolve() for path in paths))


def find_mnist(data: Path | None = None) -> Path:
    """The first MNIST location that exists, or a DataError saying what to do."""
    for path in candidate_paths(data):
        if _exists(path):
            return path
    if data is not None:
        raise DataError(f"{data}: no such file or directory")
    looked = ", ".join(str(path) for path in candidate_paths())
    raise DataError(
        f"MNIST not found (looked in {looked}). Pass --data with a copy of mnist.npz or a folder "
        "holding the four IDX files; nothing is downloaded."
    )


def load_mnist(data: Path | None = None) -> Mnist:
    """Load and verify MNIST from an npz file or a folder of IDX files (raw or .gz)."""
    path = find_mnist(data)
    try:
        arrays = _read_idx_folder(path) if path.is_dir() else _read_npz(path)
    except InputError as error:
        raise DataError(f"{path}: {error}") from None
    for key, array in arrays.items():
        digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
        if digest != ARRAY_SHA256[key]:
            raise DataError(
                f"{path}: '{key}' is not the MNIST data (sha256 {digest[:12]}..., expected "
                f"{ARRAY_SHA256[key][:12]}...); the file is corrupt or holds another data set"
            )
    return Mnist(**arrays, source=path)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    npz = open_npz(path)
    names = npz.names
    missing = [key for key in ARRAY_SHA256 if key not in names]
    if missing:
        raise DataError(
            f"{path}: not an MNIST npz (missing {', '.join(missing)}; "
            f"has {', '.join(names) or 'nothing'})"
        )
    return {key: npz.array(key).read() for key in ARRAY_SHA256}


def _read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, name in IDX_NAMES.items():
        path = next((p for p in (folder / name, folder / f"{name}.gz") if _exists(p)), None)
        if path is None:
            raise DataError(
                f"{folder}: no {name} (or {name}.gz); expected the four MNIST IDX files"
            )
        try:
            arrays[key] = open_idx(path).read()
        except InputError as error:
            raise DataError(f"{path}: {error}") from None
    return arrays


def _exists(path: Path) -> bool:
    """Whether something is at `path`; DataError when the system refuses to look (a name too
    long, a folder on the way that cannot be searched)."""
    try:
        return file_status(path) is not None
    except InputError as error:
        raise DataError(f"{path}: {error}") from None
