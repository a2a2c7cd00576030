"""`mnist-edge evaluate`: a model's accuracy on a labelled set, and pictures of it."""

import stat
from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import EXIT_FAILED, EXIT_USAGE, fail, warn
from mnist_edge.cli.options import (
    BatchOption,
    ModelOption,
    QuietOption,
    ReportFormat,
    ReportFormatOption,
    ThreadsOption,
    looked_up,
    open_predictor,
)
from mnist_edge.cli.pictures import save_picture
from mnist_edge.cli.progress import Progress


def evaluate(
    data: Annotated[
        Path,
        typer.Argument(
            readable=False,  # an unreadable set is reported as such (exit 1), not as usage
            help="Labelled images: an MNIST npz (its test split), an IDX images file (labels "
            "found beside it), or a folder of images with a labels.csv (file,label).",
            show_default=False,
        ),
    ],
    labels: Annotated[
        Path | None,
        typer.Argument(
            readable=False, help="Labels for an array file (IDX or .npy), if not found beside it."
        ),
    ] = None,
    model: ModelOption = None,
    output_format: ReportFormatOption = ReportFormat.table,
    batch_size: BatchOption = 1024,
    threads: ThreadsOption = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            readable=False, help="Also write confusion.png and mistakes.png into this folder."
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Accuracy of a model on a labelled set, with per-digit precision and recall."""
    from mnist_edge.cli.render import evaluation_table, print_report
    from mnist_edge.runtime.evaluate import evaluate as tally
    from mnist_edge.runtime.pipeline import PipelineOptions, predict_sources
    from mnist_edge.runtime.records import has_error
    from mnist_edge.runtime.sources import labelled

    if looked_up(data) is None:
        fail(f"{data}: no such file or directory", EXIT_USAGE)
    plot_status = looked_up(plot) if plot is not None else None
    if plot_status is not None and not stat.S_ISDIR(plot_status.st_mode):
        fail(f"--plot {plot}: not a folder (it names an existing file)", EXIT_USAGE)
    predictor = open_predictor(model, threads, spinning=False)  # the decoders need the cores
    progress = Progress(enabled=False if quiet else None)
    options = PipelineOptions(batch_size=batch_size, threads=threads)
    predictions = predict_sources(predictor, labelled(data, labels), options)
    predictions = progress.track(predictions, has_error)
    result = tally(predictions, on_error=lambda p: warn(f"{p.source}: {p.error}"))
    if result.n == 0:
        fail(f"{data}: no labelled images to evaluate")
    print_report(result.as_dict(), output_format, lambda: evaluation_table(result))
    if plot is not None:
        from mnist_edge.pictures.evaluation import confusion_picture, mistakes_picture

        title = f"{predictor.model_path.name} on {data.name}"
        save_picture(confusion_picture(result.confusion, title), plot / "confusion.png")
        save_picture(mistakes_picture(result.mistakes), plot / "mistakes.png")
        warn(f"wrote {plot / 'confusion.png'} and {plot / 'mistakes.png'}")
    if result.failed:
        raise typer.Exit(EXIT_FAILED)
