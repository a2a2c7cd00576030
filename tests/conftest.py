"""Shared fixtures: the real MNIST data and (once per session) a briefly trained model."""

import os
from pathlib import Path

import numpy as np
import pytest

from mnist_edge.core.mnist import Mnist, load_mnist

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    return load_mnist(ROOT / "data" / "mnist.npz")


@pytest.fixture(scope="session")
def x_test(mnist: Mnist) -> np.ndarray:
    return mnist.x_test


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
