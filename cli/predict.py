"""`mnist-edge predict`: every input named, a record each, written as it comes."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import EXIT_FAILED, fail, warn, writing_results
from mnist_edge.cli.options import (
    BatchOption,
    Format,
    ModelOption,
    QuietOption,
    ThreadsOption,
    open_predictor,
)
from mnist_edge.cli.progress import Progress

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
        Format, typer.Option("--format", "-f", help="table, jsonl or csv.")
    ] = Format.table,
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
            "only contend for Python's lock), else one per core up to 4.",
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Predict the digit in every input. Exit 0: all predicted; 1: some failed; 2: usage."""
    from mnist_edge.runtime.pipeline import predict_paths
    from mnist_edge.runtime.records import has_error
    from mnist_edge.runtime.report import make_writer

    predictor = open_predictor(model, threads)
    progress = Progress(enabled=False if quiet else None)
    progress.count_in_background(lambda: count_inputs(inputs, recursive))
    predictions = predict_paths(predictor, inputs, recursive, batch_size, workers)
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
