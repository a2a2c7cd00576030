"""`mnist-edge show`: the tutorial's closing plot, for any input."""

import os
import stat
from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail, writing_results
from mnist_edge.cli.options import ModelOption, looked_up, open_predictor
from mnist_edge.cli.pictures import save_picture


def show(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            readable=False,  # an unreadable input is reported as such (exit 1), not as usage
            help="An image file, or an array file (.npy, .npz, IDX).",
            show_default=False,
        ),
    ],
    index: Annotated[
        int | None, typer.Option(min=0, help="Which image of an array file. Default: 0.")
    ] = None,
    model: ModelOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            readable=False,
            help="PNG file (or folder) to write. Default: <input>-show.png here.",
        ),
    ] = None,
) -> None:
    """Draw an input as given, the 28x28 image the model sees, and the ten probabilities."""
    from mnist_edge.core.errors import InputError
    from mnist_edge.pictures.show import default_output, out_of_range, render, show_source, shown
    from mnist_edge.runtime.pipeline import predict_sources

    path = output_path(output, default_output(input_path, index))
    predictor = open_predictor(model)
    try:
        source = show_source(input_path, index)
    except InputError as error:
        fail(f"{input_path}: {error}")
    predictions = list(predict_sources(predictor, [source]))  # one, or none past the end
    if not predictions:
        fail(f"{input_path}: {out_of_range(source)}")
    prediction = predictions[0]
    if prediction.error is not None:
        fail(f"{prediction.source}: {prediction.error}")
    picture, _ = render(shown(prediction, source), prediction.probabilities)
    save_picture(picture, path)
    with writing_results():
        print(path)


def output_path(output: str | None, default: Path) -> Path:
    """--output as given; inside it when it is a folder, or ends with a slash (a folder to
    make); a usage error unless it is a PNG."""
    if output is None:
        return default
    path = Path(output)
    status = looked_up(path)
    if output.endswith(("/", os.sep)) or (status is not None and stat.S_ISDIR(status.st_mode)):
        return path / default.name
    if path.suffix.lower() != ".png":
        fail(f"--output {output}: pictures are written as PNG; name a .png file", EXIT_USAGE)
    return path
