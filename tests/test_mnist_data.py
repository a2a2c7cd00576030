"""The MNIST loader: verified arrays from npz or IDX, clear failures, no unpickling."""

from pathlib import Path

import numpy as np
import pytest

from mnist_edge.core import mnist as mnist_module
from mnist_edge.core.arrayfiles import write_idx
from mnist_edge.core.errors import DataError
from mnist_edge.core.mnist import IDX_NAMES, find_mnist, load_mnist

LABEL_COUNTS_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_npz_is_the_real_mnist(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28)
    assert np.bincount(mnist.y_test).tolist() == LABEL_COUNTS_TEST
    assert mnist.y_test[99] == 9  # the tutorial's image


def test_idx_folder_gives_the_same_arrays(tmp_path, mnist):
    """Images raw, labels gzip-compressed (as downloads often are): both names are found."""
    for key, name in IDX_NAMES.items():
        suffix = ".gz" if key.startswith("y") else ""
        write_idx(tmp_path / f"{name}{suffix}", getattr(mnist, key))
    loaded = load_mnist(tmp_path)
    assert np.array_equal(loaded.x_train, mnist.x_train)
    assert np.array_equal(loaded.y_test, mnist.y_test)


def test_idx_folder_missing_a_file(tmp_path, mnist):
    write_idx(tmp_path / IDX_NAMES["x_test"], mnist.x_test)
    with pytest.raises(DataError, match="no train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_corrupt_data_fails_the_checksum(tmp_path, mnist):
    x_test = mnist.x_test.copy()
    x_test[0, 14, 14] ^= 1  # one bit of one pixel
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=mnist.x_train, y_train=mnist.y_train, x_test=x_test, y_test=mnist.y_test)
    with pytest.raises(DataError, match="'x_test' is not the MNIST data"):
        load_mnist(path)


def test_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, features=np.zeros(3))
    with pytest.raises(DataError, match="missing x_train, y_train, x_test, y_test; has features"):
        load_mnist(path)


def test_pickled_npz_is_never_unpickled(tmp_path):
    path = tmp_path / "pickled.npz"
    objects = np.array([{"payload": 1}], dtype=object)
    np.savez(path, x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(DataError, match="pickled Python objects; refused"):
        load_mnist(path)


def test_not_an_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("hello")
    with pytest.raises(DataError, match=str(path)):
        load_mnist(path)


def test_missing_given_path(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_mnist(tmp_path / "nowhere.npz")


def test_search_order_and_advice(tmp_path, monkeypatch):
    """--data, then data/mnist.npz (cwd, then the checkout), then Keras's cache; else advice."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mnist_module, "CHECKOUT_DATA", tmp_path / "checkout" / "mnist.npz")
    monkeypatch.setattr(mnist_module, "KERAS_CACHE", tmp_path / "keras" / "mnist.npz")
    with pytest.raises(DataError, match="MNIST not found .* nothing is downloaded"):
        find_mnist()
    for place in ("keras/mnist.npz", "checkout/mnist.npz", "data/mnist.npz"):
        (tmp_path / place).parent.mkdir()
        (tmp_path / place).touch()
        assert find_mnist() == (tmp_path / place).resolve()
    given = tmp_path / "given.npz"
    given.touch()
    assert find_mnist(given) == given


def test_loader_finds_the_committed_copy_from_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_mnist() == Path(mnist_module.CHECKOUT_DATA)
