"""What `predict` writes, for both engines: each record as it comes (failures also on
stderr), then the summary line and the exit code."""

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mnist_edge.cli.console import EXIT_FAILED, fail, warn, writing_results
from mnist_edge.cli.options import Format
from mnist_edge.cli.progress import Progress

if TYPE_CHECKING:
    from mnist_edge.runtime.records import Prediction


@dataclass(frozen=True)
class Output:
    """How and where `predict` writes its records."""

    format: Format
    top_k: int = 0  # also the k most likely digits
    quiet: bool = False  # no progress line
    folder: Path | None = None  # shards written there by the Ray engine's workers, not stdout


def write_predictions(
    predictions: Iterable["Prediction"], output: Output, inputs: list[Path], recursive: bool
) -> None:
    """Each prediction to stdout as it comes (failures also on stderr), then the summary.
    `inputs` are counted in the background, for the progress line's time left."""
    from mnist_edge.runtime.records import has_error
    from mnist_edge.runtime.report import make_writer

    progress = Progress(enabled=False if output.quiet else None)
    progress.count_in_background(lambda: count_inputs(inputs, recursive))
    with writing_results():
        writer = make_writer(output.format.value, sys.stdout, output.top_k)
        for prediction in progress.track(predictions, has_error):
            writer.write(prediction)
            if prediction.error is not None and output.format != Format.table:
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
    """The run's last line on stderr; exit 1 when any input failed (or none was found)."""
    if total == 0:
        fail("no inputs found (name image files, folders, .npy/.npz or IDX files)")
    warn(
        f"{total - failed:,} of {total:,} inputs predicted"
        + (f", {failed:,} failed" if failed else "")
    )
    if failed:
        raise typer.Exit(EXIT_FAILED)
