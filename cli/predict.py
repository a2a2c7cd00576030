"""`mnist-edge predict`: every input named, a record each, written as it comes."""

from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail
from mnist_edge.cli.options import (
    BatchOption,
    Engine,
    Format,
    ModelOption,
    QuietOption,
    ThreadsOption,
    open_predictor,
)
from mnist_edge.cli.results import Output, write_predictions
from mnist_edge.core.limits import MAX_WORKERS

InputsArgument = Annotated[
    list[Path],
    typer.Argument(
        readable=False,  # an unreadable input is its own error record, not a usage error
        help="Image files (PNG, JPEG, BMP, GIF, TIFF, WebP), folders, .npy/.npz arrays "
        "of shape (N, 28, 28), or IDX files (raw or .gz).",
        show_default=False,
    ),
]


def predict(
    inputs: InputsArgument,
    model: ModelOption = None,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="table, jsonl or csv; parquet for --output-dir. Default: table on stdout, "
            "jsonl in --output-dir. In csv, text that starts with = + - or @ (a file name) gets a "
            "leading ' so that a spreadsheet shows it and never runs it as a formula.",
            show_default=False,
        ),
    ] = None,
    top_k: Annotated[
        int, typer.Option(min=0, max=10, help="Also give the k most likely digits.")
    ] = 0,
    batch_size: BatchOption = 256,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also read sub-folders.")
    ] = False,
    threads: ThreadsOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_WORKERS,
            help="Image decoders: worker processes for small images (<= 100x100, once a run "
            "has 128), else threads. Default: one per core up to 4 (processes: one fewer, "
            "as this process takes a core); 1: all in this process. "
            "With --engine ray: Ray actors, default one per CPU of the cluster.",
        ),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="local: this process; ray: Ray Data (the scale extra).")
    ] = Engine.local,
    ray_address: Annotated[
        str | None,
        typer.Option(help="A Ray cluster to run on (--engine ray). Default: a local instance."),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            readable=False,
            help="With --engine ray: shards written there, not stdout.",
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Predict the digit in every input. Exit 0: all predicted; 1: some failed; 2: usage."""
    from mnist_edge.runtime.pipeline import PipelineOptions, predict_paths

    output_format = check_output(output_format, engine, output_dir, ray_address)
    output = Output(output_format, top_k, quiet, output_dir)
    options = PipelineOptions(recursive, batch_size, workers, threads)
    if engine is Engine.ray:
        from mnist_edge.cli.cluster import predict_on_ray

        return predict_on_ray(model, inputs, options, output, ray_address)
    predictor = open_predictor(model, threads, spinning=False)  # the decoders need the cores
    write_predictions(predict_paths(predictor, inputs, options), output, inputs, recursive)


def check_output(
    output_format: Format | None, engine: Engine, output_dir: Path | None, address: str | None
) -> Format:
    """The format to write, or exit 2 when the options do not go together."""
    if engine is Engine.local and (output_dir is not None or address is not None):
        fail("--output-dir and --ray-address need --engine ray", EXIT_USAGE)
    if output_dir is None and output_format is Format.parquet:
        fail("parquet is written to --output-dir only", EXIT_USAGE)
    if output_dir is not None and output_format is Format.table:
        fail("--output-dir writes jsonl, csv or parquet", EXIT_USAGE)
    return output_format or (Format.table if output_dir is None else Format.jsonl)
