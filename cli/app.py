"""The `mnist-edge` command: one Typer app, one module per command. Commands only wire;
heavy modules load inside them, so `mnist-edge --help` starts in a blink."""

import sys
import warnings
from typing import Annotated

import typer

from mnist_edge.cli.bench import bench
from mnist_edge.cli.console import EXIT_WRITE, require_stdout, warn, writing_results
from mnist_edge.cli.evaluate import evaluate
from mnist_edge.cli.export import export
from mnist_edge.cli.export_c import export_c
from mnist_edge.cli.info import info
from mnist_edge.cli.models import models
from mnist_edge.cli.predict import predict
from mnist_edge.cli.serve import serve
from mnist_edge.cli.show import show
from mnist_edge.cli.train import train
from mnist_edge.core.streams import STDOUT_CLOSED, StdoutClosed, guard_standard_streams

COMMANDS = (train, export, export_c, predict, info, models, evaluate, show, bench, serve)
NOTHING_ON_STDOUT = {"serve"}  # its log goes to stderr: it runs with stdout closed

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
        from importlib import metadata  # 15 ms that no other command needs

        with writing_results():
            print(f"mnist-edge {metadata.version('mnist-edge')}")
        raise typer.Exit()


@app.callback()
def setup(
    context: typer.Context,
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
    if context.invoked_subcommand not in NOTHING_ON_STDOUT:
        require_stdout()


def main() -> None:
    guard_standard_streams()
    try:
        app()
    except StdoutClosed:  # what Typer writes itself (help, usage) where there is no stdout
        warn(f"error: cannot write the results ({STDOUT_CLOSED})")
        sys.exit(EXIT_WRITE)


if __name__ == "__main__":
    main()
