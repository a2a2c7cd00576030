"""`mnist-edge train`. Importing this module is cheap: TensorFlow loads inside the command."""

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import fail, require
from mnist_edge.cli.options import MnistOption
from mnist_edge.core.errors import DataError
from mnist_edge.train.config import OPTIMIZERS, CnnConfig, TrainConfig, recipe

MLP, CNN = TrainConfig(), CnnConfig()
Architecture = StrEnum("Architecture", {arch: arch for arch in (MLP.arch, CNN.arch)})
DEFAULT_ARCH = Architecture(MLP.arch)


def default_help(text: str, field: str) -> str:
    """'Passes over the data. Default: mlp 8, cnn 15.' from the two recipes."""
    defaults = f"Default: mlp {getattr(MLP, field)}, cnn {getattr(CNN, field)}."
    return f"{text}. {defaults}" if text else defaults


def require_train_extra(command: str) -> None:
    """Exit with one line when the `train` extra (TensorFlow, tf2onnx, onnx) is not installed."""
    require("train", f"'{command}'")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out


def train(
    arch: Annotated[
        Architecture, typer.Option(help="mlp: the tutorial's model; cnn: a small CNN.")
    ] = DEFAULT_ARCH,
    epochs: Annotated[
        int | None, typer.Option(min=1, help=default_help("Passes over the data", "epochs"))
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help=default_help("Images per step", "batch_size"))
    ] = None,
    hidden_units: Annotated[
        int | None,
        typer.Option(min=1, help=f"MLP hidden layer width. Default: {MLP.hidden_units}."),
    ] = None,
    optimizer: Annotated[
        str | None,
        typer.Option(help=f"One of: {', '.join(OPTIMIZERS)}. " + default_help("", "optimizer")),
    ] = None,
    learning_rate: Annotated[
        float | None,
        typer.Option(
            help="Learning rate (the CNN's peak, decaying along a cosine). Default: mlp the "
            f"optimizer's own (1e-3), cnn {CNN.learning_rate:g}."
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for repeatable weights. Default: none (random).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Train on the first N images only (quick runs).")
    ] = None,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment",
            help="Distort the training images on the fly (thickness, slant, rotation, scale, "
            "elastic), as real digits differ from MNIST.",
        ),
    ] = False,
    data: MnistOption = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Artifacts folder.")] = Path(
        "artifacts"
    ),
    h5: Annotated[bool, typer.Option("--h5", help="Also write the legacy model.h5.")] = False,
) -> None:
    """Train the tutorial's model (or the small CNN) on MNIST; write model.keras, history,
    metrics and curves."""
    if hidden_units is not None and arch != Architecture.mlp:
        raise typer.BadParameter("--hidden-units applies to --arch mlp only")
    try:
        config = recipe(
            arch.value,
            epochs=epochs,
            batch_size=batch_size,
            hidden_units=hidden_units,
            optimizer=optimizer,
            learning_rate=learning_rate,
            seed=seed,
            train_limit=limit,
            augment=augment or None,
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
