"""`mnist-edge predict`: every input named, a record each, written as it comes."""

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mnist_edge.cli.console import EXIT_FAILED, EXIT_USAGE, fail, warn, writing_results
from mnist_edge.cli.options import (
    BatchOption,
    Engine,
    Format,
    ModelOption,
    QuietOption,
    ThreadsOption,
    open_predictor,
)
from mnist_edge.cli.progress import Progress

if TYPE_CHECKING:
    from mnist_edge.runtime.records import Prediction

InputsArgument = Annotated[
    list[Path],
    typer.Argument(
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
            "jsonl in --output-dir.",
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
            help="Image decoding threads. Default: 1 for small images (<= 100x100, where more "
            "only contend for Python's lock), else one per core up to 4. With --engine ray: "
            "Ray actors, default one per CPU of the cluster.",
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
        typer.Option(file_okay=False, help="With --engine ray: shards written there, not stdout."),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Predict the digit in every input. Exit 0: all predicted; 1: some failed; 2: usage."""
    output_format = check_output(output_format, engine, output_dir, ray_address)
    if engine is Engine.ray:
        from mnist_edge.cli.cluster import RayJob, predict_on_ray

        job = RayJob(inputs, recursive, batch_size, workers, threads or 1, ray_address)
        return predict_on_ray(model, job, output_format, top_k, output_dir, quiet)
    from mnist_edge.runtime.pipeline import predict_paths

    predictor = open_predictor(model, threads)
    predictions = predict_paths(predictor, inputs, recursive, batch_size, workers)
    write_predictions(predictions, inputs, recursive, output_format, top_k, quiet)


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


def write_predictions(
    predictions: Iterable["Prediction"],
    inputs: list[Path],
    recursive: bool,
    output_format: Format,
    top_k: int,
    quiet: bool,
) -> None:
    """Each prediction to stdout as it comes (failures also on stderr), then the summary."""
    from mnist_edge.runtime.records import has_error
    from mnist_edge.runtime.report import make_writer

    progress = Progress(enabled=False if quiet else None)
    progress.count_in_background(lambda: count_inputs(inputs, recursive))
    with writing_results():
        writer = make_writer(output_format.value, sys.stdout, top_k)
        for prediction in progress.track(predictions, has_error):
            writer.write(prediction)
            if prediction.error is not None and output_format != Format.table:
                progress.clear()
                warn(f"{prediction.source}: {prediction.error}")  # the table has its own rows
    summarise(progress.done, progress.failed)


def count_inputs(paths: list[Path], recursive: bool) -> int | None:
    """How many inputs `paths` name, when that is known without reading them (None when an
    array file is among them: its images are counted only as it is read)."""
    from mnist_edge.runtime.sources import ArrayFile, expand

    total = 0
    for source in expand(paths, recursive):
        if isinstance(source, ArrayFile):
            return None
        total += 1
    return total


def summarise(total: int, failed: int) -> None:
    if total == 0:
        fail("no inputs found (name image files, folders, .npy/.npz or IDX files)")
    warn(f"{total - failed} of {total} inputs predicted" + (f", {failed} failed" if failed else ""))
    if failed:
        raise typer.Exit(EXIT_FAILED)
