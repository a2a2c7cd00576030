"""The `mnist-edge` command: one Typer app, one module per command. Commands only wire;
heavy modules load inside them, so `mnist-edge --help` starts in a blink."""

import sys
import warnings
from importlib import metadata
from typing import Annotated

import typer

from mnist_edge.cli.bench import bench
from mnist_edge.cli.evaluate import evaluate
from mnist_edge.cli.export import export
from mnist_edge.cli.export_c import export_c
from mnist_edge.cli.info import info
from mnist_edge.cli.models import models
from mnist_edge.cli.predict import predict
from mnist_edge.cli.serve import serve
from mnist_edge.cli.show import show
from mnist_edge.cli.train import train

COMMANDS = (train, export, export_c, predict, info, models, evaluate, show, bench, serve)

app = typer.Typer(
    name="mnist-edge",
    help="The Keras MNIST tutorial, from training to a small device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in COMMANDS:
    app.command()(command)


def print_version(value: bool) -> None:
    if value:
        print(f"mnist-edge {metadata.version('mnist-edge')}")
        raise typer.Exit()


@app.callback()
def setup(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """The Keras MNIST tutorial, from training to a small device."""
    # Every problem with an input is reported in its record; library warnings (Pillow's
    # decompression-bomb and EXIF warnings) would only repeat them as multi-line noise.
    warnings.simplefilter("ignore")


def main() -> None:
    for stream in (sys.stdout, sys.stderr):  # a safety net for text no one made printable
        stream.reconfigure(errors="backslashreplace")
    app()


if __name__ == "__main__":
    main()
