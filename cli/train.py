"""`mnist-edge train`. Importing this module is cheap: TensorFlow loads inside the command."""

import importlib.util
import os
from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import fail
from mnist_edge.core.errors import DataError
from mnist_edge.train.config import OPTIMIZERS, TrainConfig

DEFAULTS = TrainConfig()
TRAIN_PACKAGES = ("tensorflow", "keras", "tf2onnx", "onnx")
DATA_HELP = (
    "MNIST as an npz file or a folder of the four IDX files (raw or .gz). "
    "Default: data/mnist.npz, then ~/.keras/datasets/mnist.npz."
)


def require_train_extra(command: str) -> None:
    """Exit with one line when the `train` extra (TensorFlow, tf2onnx, onnx) is not installed."""
    missing = [name for name in TRAIN_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        fail(
            f"'{command}' needs the train extra ({', '.join(missing)} not installed): "
            "pip install 'mnist-edge[train]'"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out


def train(
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training images.")] = (
        DEFAULTS.epochs
    ),
    batch_size: Annotated[int, typer.Option(min=1, help="Images per gradient step.")] = (
        DEFAULTS.batch_size
    ),
    hidden_units: Annotated[int, typer.Option(min=1, help="Width of the hidden layer.")] = (
        DEFAULTS.hidden_units
    ),
    optimizer: Annotated[
        str, typer.Option(help=f"One of: {', '.join(OPTIMIZERS)}.")
    ] = DEFAULTS.optimizer,
    learning_rate: Annotated[
        float | None, typer.Option(help="Learning rate. Default: the optimizer's own (1e-3).")
    ] = DEFAULTS.learning_rate,
    seed: Annotated[
        int | None, typer.Option(help="Seed for repeatable weights. Default: none (random).")
    ] = DEFAULTS.seed,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Train on the first N images only (quick runs).")
    ] = DEFAULTS.train_limit,
    data: Annotated[Path | None, typer.Option(help=DATA_HELP)] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Artifacts folder.")] = Path(
        "artifacts"
    ),
    h5: Annotated[bool, typer.Option("--h5", help="Also write the legacy model.h5.")] = False,
) -> None:
    """Train the tutorial's model on MNIST; write model.keras, history, metrics and curves."""
    try:
        config = TrainConfig(
            epochs, batch_size, hidden_units, optimizer, learning_rate, seed, limit
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    require_train_extra("train")
    from mnist_edge.train.fit import save_artifacts, train_model

    try:
        result = train_model(config, data)
    except DataError as error:
        fail(str(error))
    written = save_artifacts(result, output, h5=h5)
    metrics = result.metrics
    print(
        f"test accuracy {metrics['test_accuracy']:.2%}, test loss {metrics['test_loss']:.4f} "
        f"({metrics['train_seconds']:.0f} s for {config.epochs} epochs)"
    )
    for path in written.values():
        print(f"wrote {path}")
