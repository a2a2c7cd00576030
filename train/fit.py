"""Train the model on MNIST and write the artifacts: model, history, metrics, curves."""

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_edge.core.files import write_json
from mnist_edge.core.mnist import load_mnist
from mnist_edge.train.config import Recipe
from mnist_edge.train.curves import plot_curves
from mnist_edge.train.model import build_model, scale_pixels, steps_per_epoch

MODEL_FILE = "model.keras"
LEGACY_MODEL_FILE = "model.h5"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "training-curves.png"


@dataclass(frozen=True)
class TrainResult:
    model: keras.Model
    history: dict[str, list[float]]  # per-epoch loss, accuracy, val_loss, val_accuracy
    metrics: dict[str, object]  # what metrics.json holds


def train_model(config: Recipe, data: Path | None = None) -> TrainResult:
    """Fit the recipe's model (the tutorial's by default, as the tutorial does); validation
    on the 10,000 test images."""
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow generators
        tf.config.experimental.enable_op_determinism()
    mnist = load_mnist(data)
    x_train, y_train = mnist.x_train[: config.train_limit], mnist.y_train[: config.train_limit]
    x_test = scale_pixels(mnist.x_test)
    model = build_model(config, len(x_train))
    load_before, started = os.getloadavg()[0], time.perf_counter()
    fit = model.fit(
        **training_inputs(config, x_train, y_train),
        epochs=config.epochs,
        validation_data=(x_test, mnist.y_test),
        verbose=1 if sys.stdout.isatty() else 2,
    )
    seconds = time.perf_counter() - started
    test_loss, test_accuracy = model.evaluate(x_test, mnist.y_test, batch_size=1024, verbose=0)
    history = {name: [float(v) for v in values] for name, values in fit.history.items()}
    metrics = {
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "test_images": int(len(x_test)),
        "train_images": int(len(x_train)),
        "train_seconds": round(seconds, 2),
        # a shared machine trains slower: the 1-minute load average before and after
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "recipe": {"arch": config.arch, **asdict(config)},
        "data": str(mnist.source),
        "versions": versions(),
    }
    return TrainResult(model=model, history=history, metrics=metrics)


def training_inputs(config: Recipe, images: np.ndarray, labels: np.ndarray) -> dict:
    """fit()'s data: the arrays as the tutorial gives them, or the augmented pipeline."""
    if not config.augment:
        return {"x": scale_pixels(images), "y": labels, "batch_size": config.batch_size}
    from mnist_edge.train.augment import augmented_dataset

    seed = config.seed if config.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    dataset = augmented_dataset(images, labels, config.batch_size, config.epochs, seed)
    steps = steps_per_epoch(len(images), config.batch_size)
    return {"x": dataset, "steps_per_epoch": steps, "shuffle": False}  # shuffled in the pipeline


def save_artifacts(result: TrainResult, output: Path, h5: bool = False) -> dict[str, Path]:
    """Write model.keras (and model.h5), history.json, metrics.json, training-curves.png."""
    output.mkdir(parents=True, exist_ok=True)
    written = {"model": output / MODEL_FILE}
    result.model.save(written["model"])
    if h5:
        written["h5"] = output / LEGACY_MODEL_FILE
        result.model.save(written["h5"])
    written["history"] = write_json(output / HISTORY_FILE, result.history)
    written["metrics"] = write_json(output / METRICS_FILE, result.metrics)
    recipe = result.metrics["recipe"]
    title = f"MNIST {recipe['arch'].upper()}{' (augmented)' if recipe['augment'] else ''}"
    written["curves"] = plot_curves(result.history, output / CURVES_FILE, title)
    return written


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
