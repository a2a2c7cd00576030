"""Options that several commands share, declared once, the model they open, and the paths
they name looked up."""

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail
from mnist_edge.core.limits import MAX_BATCH, MAX_THREADS
from mnist_edge.runtime import catalog  # names only: no NumPy, no onnxruntime

if TYPE_CHECKING:
    from mnist_edge.runtime.predictor import Predictor


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"  # shards of --engine ray --output-dir only


class Engine(StrEnum):
    local = "local"
    ray = "ray"


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


ModelOption = Annotated[
    str | None,
    typer.Option(
        help=f"ONNX model file, or a shipped model's name: {', '.join(catalog.names())} "
        f"(`mnist-edge models`). Default: {catalog.DEFAULT}.",
        show_default=False,
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_THREADS,
        help="onnxruntime threads for large batches (one image: one), at most 4 per core "
        f"({MAX_THREADS} here). Default: one per core (for predict and evaluate, one per core "
        "the decoding processes leave, once they start).",
    ),
]
BatchOption = Annotated[
    int, typer.Option(min=1, max=MAX_BATCH, help=f"Images per model call (at most {MAX_BATCH:,}).")
]
ReportFormatOption = Annotated[ReportFormat, typer.Option("--format", "-f", help="table or json.")]
MnistOption = Annotated[
    Path | None,
    typer.Option(
        readable=False,  # the data's own check says what is wrong with it
        help="MNIST as an npz file or a folder of the four IDX files (raw or .gz). "
        "Default: data/mnist.npz, then ~/.keras/datasets/mnist.npz.",
        show_default=False,
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress line on a terminal's stderr.")
]


def looked_up(path: Path) -> os.stat_result | None:
    """What `path` names (None: nothing), or one line and exit 1 when the system refuses to
    look (a name too long, a folder on the way that cannot be searched)."""
    from mnist_edge.core.errors import InputError
    from mnist_edge.core.files import file_status

    try:
        return file_status(path)
    except InputError as error:
        fail(f"{path}: {error}")


def open_predictor(
    model: str | Path | None, threads: int | None = None, spinning: bool = True
) -> "Predictor":
    """The Predictor for --model, or one line and exit 1 when the model is unusable (2 when
    it names neither a file nor a shipped model). `spinning`: see Predictor."""
    from mnist_edge.core.errors import ModelError
    from mnist_edge.runtime.catalog import UnknownModel
    from mnist_edge.runtime.predictor import Predictor

    try:
        return Predictor(model, threads=threads, spinning=spinning)
    except UnknownModel as error:
        fail(str(error), EXIT_USAGE)
    except ModelError as error:
        fail(str(error))
