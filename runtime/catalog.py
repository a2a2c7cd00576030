"""The models shipped inside the package, by name: what `--model cnn` and Predictor("cnn") open.

Each architecture ships as `mnist-<name>.onnx` (float32) and `mnist-<name>.int8.onnx`. A
model is named by its architecture ("cnn"), its file's stem ("mnist-cnn"), or its file's
name ("mnist-cnn.onnx"), with ".int8" (or "-int8") for the quantized one.
"""

import os
from pathlib import Path

from mnist_edge.core.errors import ModelError
from mnist_edge.core.text import printable

MODELS = Path(__file__).parent / "models"
ARCHITECTURES = ("mlp", "cnn")  # shipped, the default first
DEFAULT = "cnn"  # reads real photos and drawings best
TUTORIAL = "mlp"  # the Keras tutorial's model: what `make demo` trains, what Keras is compared with
INT8 = ".int8"


class UnknownModel(ModelError):
    """Neither a model file nor the name of a shipped model (a usage error)."""


def names() -> list[str]:
    """Every shipped model's short name: mlp, mlp.int8, cnn, cnn.int8."""
    return [f"{arch}{kind}" for arch in ARCHITECTURES for kind in ("", INT8)]


def shipped_path(name: str, int8: bool = False) -> Path:
    """The file of shipped model `name` ("cnn", "cnn.int8", ...), `int8` for its int8 twin."""
    arch, quantized = split_name(name)
    return MODELS / f"mnist-{arch}{INT8 if int8 or quantized else ''}.onnx"


def resolve(model: str | os.PathLike) -> Path:
    """The file `model` names: an existing path as it is, else a shipped model's file.

    Raises UnknownModel (one line listing the shipped names) when it is neither: an empty
    name (which pathlib would read as "."), a folder, or a name that is nowhere.
    """
    shown, shipped = printable(str(model)), f"shipped: {', '.join(names())}"
    if not os.fspath(model):
        raise UnknownModel(
            f'"": an empty name; name an ONNX model file or a shipped model ({shipped})'
        )
    path = Path(model)
    if os.path.isdir(path):
        raise UnknownModel(
            f"{shown}: a folder; name an ONNX model file or a shipped model ({shipped})"
        )
    if os.path.lexists(path):
        return path
    try:
        return shipped_path(str(model))
    except KeyError:
        pass
    if os.sep in str(model):
        raise UnknownModel(f"{shown}: no such file or directory")
    raise UnknownModel(f"{shown}: no such model file, nor a shipped model ({shipped})")


def split_name(name: str) -> tuple[str, bool]:
    """("cnn", True) for "cnn.int8", "mnist-cnn-int8", "mnist-cnn.int8.onnx", ...; KeyError
    when `name` names no shipped architecture."""
    short = name.lower().removesuffix(".onnx").removeprefix("mnist-")
    for marker in (INT8, "-int8", "_int8"):
        if short.endswith(marker):
            short = short.removesuffix(marker)
            if short in ARCHITECTURES:
                return short, True
    if short not in ARCHITECTURES:
        raise KeyError(name)
    return short, False


def model_name(path: Path) -> str:
    """The name a model goes by (the service's model name, the page's): a shipped model's
    short name ("cnn.int8"), else its file's name without ".onnx"."""
    if path.resolve().parent == MODELS.resolve():
        try:
            arch, int8 = split_name(path.name)
            return arch + (INT8 if int8 else "")
        except KeyError:
            pass
    return path.name.removesuffix(".onnx")


def int8_twin(model: str | None) -> Path:
    """The int8 model to set beside `model` (a shipped name, or None for the default): its
    own int8 file; the default's for anything else."""
    try:
        return shipped_path(model or DEFAULT, int8=True)
    except KeyError:
        return shipped_path(DEFAULT, int8=True)
