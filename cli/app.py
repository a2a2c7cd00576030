"""The `mnist-edge` command. Commands only wire; heavy modules load inside them."""

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mnist_edge.cli.console import fail, warn
from mnist_edge.cli.export import export
from mnist_edge.cli.train import train

if TYPE_CHECKING:
    from mnist_edge.runtime.predictor import Predictor

app = typer.Typer(
    name="mnist-edge",
    help="The Keras MNIST tutorial, from training to a small device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(train)
app.command()(export)


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


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


def open_predictor(model: Path | None, threads: int | None = None) -> "Predictor":
    """The Predictor for --model, or one line and exit 1 when the model is unusable."""
    from mnist_edge.core.errors import ModelError
    from mnist_edge.runtime.predictor import Predictor

    try:
        return Predictor(model, threads=threads)
    except ModelError as error:
        fail(str(error))


@app.command()
def predict(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Image files (PNG, JPEG, BMP, GIF, TIFF, WebP), folders, .npy/.npz arrays "
            "of shape (N, 28, 28), or IDX files (raw or .gz).",
            show_default=False,
        ),
    ],
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
) -> None:
    """Predict the digit in every input. Exit 0: all predicted; 1: some failed; 2: usage."""
    from mnist_edge.runtime.pipeline import predict_paths
    from mnist_edge.runtime.report import make_writer

    predictor = open_predictor(model, threads)
    writer = make_writer(output_format.value, sys.stdout, top_k)
    total = failed = 0
    for prediction in predict_paths(predictor, inputs, recursive, batch_size, workers):
        writer.write(prediction)
        total += 1
        if prediction.error is not None:
            failed += 1
            if output_format != Format.table:  # the table shows errors in its own rows
                warn(f"{prediction.source}: {prediction.error}")
    _summarise(total, failed)


@app.command()
def info(
    model: ModelOption = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ReportFormat.table,
) -> None:
    """Show a model's path, checksum, input/output contract, labels, metrics and versions."""
    from mnist_edge.runtime.info import as_text, describe

    details = describe(open_predictor(model))
    print(json.dumps(details, indent=2) if output_format == ReportFormat.json else as_text(details))


@app.command()
def evaluate(
    data: Annotated[
        Path,
        typer.Argument(
            help="Labelled images: an MNIST npz (its test split), an IDX images file (labels "
            "found beside it), or a folder of images with a labels.csv (file,label).",
            show_default=False,
        ),
    ],
    labels: Annotated[
        Path | None,
        typer.Argument(help="Labels for an array file (IDX or .npy), if not found beside it."),
    ] = None,
    model: ModelOption = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ReportFormat.table,
    batch_size: BatchOption = 1024,
    threads: ThreadsOption = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Also write confusion.png and mistakes.png into this folder."),
    ] = None,
) -> None:
    """Accuracy of a model on a labelled set, with per-digit precision and recall."""
    from mnist_edge.runtime.evaluate import as_table
    from mnist_edge.runtime.evaluate import evaluate as tally
    from mnist_edge.runtime.pipeline import decoded, predicted
    from mnist_edge.runtime.sources import labelled

    predictor = open_predictor(model, threads)
    if not data.exists():
        fail(f"{data}: no such file or directory", code=2)
    items = decoded(labelled(data, labels), lookahead=2 * batch_size)
    result = tally(
        predicted(predictor, items, batch_size),
        on_error=lambda p: warn(f"{p.source}: {p.error}"),
    )
    if result.n == 0:
        fail(f"{data}: no labelled images to evaluate")
    if output_format == ReportFormat.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(as_table(result))
    if plot is not None:
        from mnist_edge.pictures.evaluation import confusion_picture, mistakes_picture

        plot.mkdir(parents=True, exist_ok=True)
        confusion_picture(result.confusion, f"{predictor.model_path.name} on {data.name}").save(
            plot / "confusion.png"
        )
        mistakes_picture(result.mistakes).save(plot / "mistakes.png")
        warn(f"wrote {plot / 'confusion.png'} and {plot / 'mistakes.png'}")
    if result.failed:
        raise typer.Exit(1)


@app.command()
def show(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="An image file, or an array file (.npy, .npz, IDX).",
            show_default=False,
        ),
    ],
    index: Annotated[
        int | None, typer.Option(min=0, help="Which image of an array file. Default: 0.")
    ] = None,
    model: ModelOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="PNG to write. Default: <input>-show.png here."),
    ] = None,
) -> None:
    """Draw an input as given, the 28x28 image the model sees, and the ten probabilities."""
    from mnist_edge.core.errors import InputError
    from mnist_edge.pictures.show import default_output, load_input, render

    predictor = open_predictor(model)
    try:
        shown = load_input(input_path, index)
    except InputError as error:
        fail(f"{input_path}: {error}")
    picture, _ = render(shown, predictor.predict_uint8(shown.model_input[None])[0])
    path = output or default_output(input_path, index)
    picture.save(path)
    print(path)


@app.command()
def bench(
    model: ModelOption = None,
    int8_model: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Default: the shipped int8 model."),
    ] = None,
    threads: ThreadsOption = None,
    data: Annotated[
        Path | None,
        typer.Option(help="MNIST npz or IDX folder for the test images. Default: as `train`."),
    ] = None,
    files: Annotated[
        int, typer.Option(min=0, help="PNG files for the end-to-end figure (0: skip it).")
    ] = 10_000,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ReportFormat.table,
) -> None:
    """Batch-1 latency, throughput by batch size, and end-to-end files/s of `predict`."""
    from mnist_edge.core.errors import DataError
    from mnist_edge.core.mnist import load_mnist
    from mnist_edge.runtime.bench import as_table, run_bench
    from mnist_edge.runtime.predictor import default_model_path

    try:
        images = load_mnist(data).x_test
    except DataError as error:
        fail(str(error))
    models = {
        "float32": open_predictor(model, threads),
        "int8": open_predictor(int8_model or default_model_path(int8=True), threads),
    }
    result = run_bench(models, images, files)
    result["threads"] = threads
    print(
        json.dumps(result, indent=2)
        if output_format == ReportFormat.json
        else as_table(result, threads)
    )


def _summarise(total: int, failed: int) -> None:
    if total == 0:
        fail("no inputs found (name image files, folders, .npy/.npz or IDX files)")
    warn(f"{total - failed} of {total} inputs predicted" + (f", {failed} failed" if failed else ""))
    if failed:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `mnist-edge predict ... | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
