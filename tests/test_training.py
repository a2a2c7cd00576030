"""Training: it learns, it repeats with a seed, and the default recipe reaches its target."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from harness.targets import MLP_TEST_ACCURACY
from mnist_edge.train.config import CnnConfig, TrainConfig
from mnist_edge.train.fit import train_model
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # TensorFlow

DATA = ROOT / "data" / "mnist.npz"


def test_short_run_learns():
    result = train_model(TrainConfig(epochs=2, train_limit=6000, seed=1), DATA)
    loss, accuracy = result.history["loss"], result.history["val_accuracy"]
    print(f"loss per epoch {loss}, validation accuracy {accuracy}")
    assert loss[1] < loss[0]
    assert accuracy[-1] > 0.85  # chance is 0.10
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_same_seed_same_weights():
    config = TrainConfig(epochs=1, train_limit=3000, seed=7)
    first, second = (train_model(config, DATA).model.get_weights() for _ in range(2))
    other = train_model(TrainConfig(epochs=1, train_limit=3000, seed=8), DATA).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.slow
def test_default_recipe_reaches_target(tmp_path):
    """The full tutorial run: 8 epochs on 60,000 images (about 30-50 s on 2 cores)."""
    result = train_model(TrainConfig(seed=0), DATA)
    print(
        f"default recipe: {result.metrics['test_accuracy']:.4f} test accuracy in "
        f"{result.metrics['train_seconds']} s"
    )
    assert result.metrics["test_accuracy"] >= MLP_TEST_ACCURACY
    assert len(result.history["val_accuracy"]) == 8
    assert result.metrics["test_accuracy"] == pytest.approx(result.history["val_accuracy"][-1])


@pytest.mark.slow
def test_cli_writes_the_artifacts(tmp_path):
    command = [
        sys.executable,
        "-m",
        "mnist_edge.cli.app",
        "train",
        "--epochs",
        "2",
        "--limit",
        "3000",
        "--seed",
        "3",
        "--h5",
        "--output",
        str(tmp_path),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "val_accuracy" in run.stdout  # Keras's per-epoch progress is shown
    for name in ("model.keras", "model.h5", "history.json", "metrics.json", "training-curves.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == 2
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["recipe"]["seed"] == 3 and metrics["train_images"] == 3000
    assert set(metrics["versions"]) >= {"tensorflow", "keras", "numpy"}
    with Image.open(tmp_path / "training-curves.png") as curves:
        assert curves.size == (1200, 480)


def test_cli_bad_option_is_a_usage_error():
    command = [sys.executable, "-m", "mnist_edge.cli.app", "train", "--optimizer", "lbfgs"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "optimizer must be one of" in run.stderr and "Traceback" not in run.stderr


def test_cnn_short_augmented_run_learns():
    config = CnnConfig(epochs=2, train_limit=3000, seed=1, augment=True)
    result = train_model(config, DATA)
    loss, accuracy = result.history["loss"], result.history["val_accuracy"]
    print(f"CNN, augmented: loss per epoch {loss}, validation accuracy {accuracy}")
    assert loss[1] < loss[0] and accuracy[-1] > 0.85
    assert result.metrics["recipe"]["arch"] == "cnn" and result.metrics["recipe"]["augment"]


def test_cnn_augmented_same_seed_same_weights():
    config = CnnConfig(epochs=1, train_limit=1000, seed=7, augment=True)
    first, second = (train_model(config, DATA).model.get_weights() for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_cli_trains_the_cnn(tmp_path):
    command = [
        sys.executable, "-m", "mnist_edge.cli.app", "train", "--arch", "cnn", "--augment",
        "--epochs", "1", "--limit", "1000", "--seed", "2", "--output", str(tmp_path),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["recipe"]["arch"] == "cnn" and metrics["recipe"]["augment"] is True
    assert metrics["recipe"]["filters"] == list(CnnConfig().filters)
    assert len(metrics["load_average"]) == 2


def test_cli_hidden_units_are_for_the_mlp_only():
    command = [sys.executable, "-m", "mnist_edge.cli.app", "train", "--arch", "cnn"]
    run = subprocess.run([*command, "--hidden-units", "8"], capture_output=True, text=True)
    assert run.returncode == 2 and "--hidden-units applies to --arch mlp only" in run.stderr
