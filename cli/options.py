"""Options that several commands share, declared once, and the model they open."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mnist_edge.cli.console import fail

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
    Path | None,
    typer.Option(
        exists=True, dir_okay=False, help="ONNX model file. Default: the model shipped inside."
    ),
]
ThreadsOption = Annotated[
    int | None, typer.Option(min=1, help="onnxruntime threads. Default: one per core.")
]
BatchOption = Annotated[int, typer.Option(min=1, help="Images per model call.")]
ReportFormatOption = Annotated[ReportFormat, typer.Option("--format", "-f", help="table or json.")]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress line on a terminal's stderr.")
]


def open_predictor(model: Path | None, threads: int | None = None) -> "Predictor":
    """The Predictor for --model, or one line and exit 1 when the model is unusable."""
    from mnist_edge.core.errors import ModelError
    from mnist_edge.runtime.predictor import Predictor

    try:
        return Predictor(model, threads=threads)
    except ModelError as error:
        fail(str(error))
