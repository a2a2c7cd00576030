"""Shared fixtures: the real MNIST data, the shipped model, the CLI run in-process, and
(once per session) a briefly trained model of each architecture."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mnist_edge.core.mnist import Mnist, load_mnist
from mnist_edge.runtime import Predictor

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TENSORFLOW_TESTS = {
    "test_augment.py",
    "test_export.py",
    "test_export_cnn.py",
    "test_model.py",
    "test_training.py",
}
SERVE_TESTS = {"test_serve.py", "test_serve_hostile.py", "test_serve_process.py"}
SERVE_TESTS |= {"test_serve_docs.py", "test_serve_abuse.py", "test_serve_lifecycle.py"}
SERVE_TESTS |= {"test_one_path.py"}  # every front end: the service's and Ray's among them
RAY_TESTS = {"test_scale.py", "test_scale_worker.py", "test_scale_cluster.py"}  # scale extra


FAST_SUITE = "not slow"  # `make check`'s marker expression


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In an install without the train, serve and scale extras (`make test-floors` sets
    MNIST_EDGE_RUNTIME_ONLY), their tests cannot even be imported; everywhere else they run.
    The fast suite does not import the TensorFlow modules at all: every test in them is slow
    (tests/test_fast_suite.py holds them to it), and importing TensorFlow takes seconds."""
    name = collection_path.name
    runtime_only = os.environ.get("MNIST_EDGE_RUNTIME_ONLY") == "1"
    if runtime_only and name in TENSORFLOW_TESTS | SERVE_TESTS | RAY_TESTS:
        return True
    if name in TENSORFLOW_TESTS and config.getoption("markexpr") == FAST_SUITE:
        return True
    return None  # let pytest's own rules (--ignore, ...) decide


@dataclass(frozen=True)
class Run:
    """One command's outcome, in-process or in a subprocess."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    return load_mnist(ROOT / "data" / "mnist.npz")


@pytest.fixture(scope="session")
def x_test(mnist: Mnist) -> np.ndarray:
    return mnist.x_test


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    """The shipped model."""
    return Predictor()


def invoke(*args: object) -> Run:
    """Run `mnist-edge ARGS...` in this process (Typer's CliRunner), in the current folder."""
    from typer.testing import CliRunner

    from mnist_edge.cli.app import app

    result = CliRunner().invoke(app, [str(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: show it
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(monkeypatch):
    """Run `mnist-edge ARGS...` in this process (Typer's CliRunner), from the checkout."""

    def run(*args: object, cwd: Path = ROOT) -> Run:
        monkeypatch.chdir(cwd)
        return invoke(*args)

    return run


@pytest.fixture(scope="session")
def short_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.keras (metrics.json beside it) after one epoch on 6,000 images: enough for parity."""
    from mnist_edge.train.config import TrainConfig
    from mnist_edge.train.fit import save_artifacts, train_model

    folder = tmp_path_factory.mktemp("short-model")
    result = train_model(
        TrainConfig(epochs=1, train_limit=6000, seed=0), ROOT / "data" / "mnist.npz"
    )
    return save_artifacts(result, folder)["model"]


@pytest.fixture(scope="session")
def short_cnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CNN's model.keras after one epoch on 6,000 augmented images: enough for parity."""
    from mnist_edge.train.config import CnnConfig
    from mnist_edge.train.fit import save_artifacts, train_model

    folder = tmp_path_factory.mktemp("short-cnn")
    config = CnnConfig(epochs=1, train_limit=6000, seed=0, augment=True)
    return save_artifacts(train_model(config, ROOT / "data" / "mnist.npz"), folder)["model"]
