"""Expanding what the user names into inputs: order, labels, and folders no one planned for."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_edge.runtime.decode import source_items
from mnist_edge.runtime.sources import (
    SORTED_LIMIT,
    ArrayFile,
    Failed,
    ImageFile,
    expand,
    labelled,
)


def names(sources) -> list[str]:
    return [Path(s.path).name if hasattr(s, "path") else s.source for s in sources]


def test_folders_are_read_in_name_order_and_hidden_files_skipped(tmp_path):
    for name in ("b.png", "a.png", ".hidden.png", "notes.txt", "c.npy"):
        (tmp_path / name).touch()
    assert names(expand([tmp_path])) == ["a.png", "b.png", "c.npy"]


def test_a_folder_of_exactly_the_sorted_limit_is_in_name_order(tmp_path):
    for index in reversed(range(SORTED_LIMIT)):
        (tmp_path / f"{index:05d}.png").touch()
    listed = names(expand([tmp_path]))
    assert len(listed) == SORTED_LIMIT and listed == sorted(listed)


def test_a_tree_deeper_than_the_recursion_limit(tmp_path):
    """1,100 nested folders, a file at the bottom: found, without a RecursionError."""
    depth = max(1100, sys.getrecursionlimit() + 100)
    folder = tmp_path
    for _ in range(depth):  # os.makedirs would itself recurse
        folder = folder / "d"
        folder.mkdir()
    (folder / "deep.png").touch()
    (tmp_path / "top.png").touch()
    try:
        assert names(expand([tmp_path], recursive=True)) == ["deep.png", "top.png"]
    finally:  # shutil.rmtree (and so pytest's clean-up) would itself recurse
        (folder / "deep.png").unlink()
        while folder != tmp_path:
            folder.rmdir()
            folder = folder.parent


def test_fifo_named_like_an_image_is_an_error_not_a_hang(tmp_path, x_test):
    os.mkfifo(tmp_path / "a-pipe.png")
    Image.fromarray(x_test[0]).save(tmp_path / "b-seven.png")
    items = [item for source in expand([tmp_path]) for item in source_items(source)]
    assert [item.source.rsplit("/", 1)[1] for item in items] == ["a-pipe.png", "b-seven.png"]
    assert items[0].error == "not a regular file (a FIFO)"
    assert items[1].image is not None


def test_devices_named_as_arrays_are_errors(tmp_path):
    for name in ("zero.npz", "zero-idx3-ubyte", "zero.npy"):
        (tmp_path / name).symlink_to("/dev/zero")
    errors = {item.error for s in expand([tmp_path]) for item in source_items(s)}
    assert errors == {"not a regular file (a character device)"}


def test_labels_are_read_only_when_wanted(tmp_path):
    (tmp_path / "a.png").touch()
    (tmp_path / "labels.csv").write_text("file,label\na.png,7\n")
    listed = str(tmp_path / "a.png")  # a folder's listing names its files by strings
    assert list(expand([tmp_path])) == [ImageFile(listed)]
    assert list(labelled(tmp_path)) == [ImageFile(listed, 7)]


@pytest.mark.parametrize("value", ["12", "-1", "7.9", "seven", " "])
def test_a_label_that_is_not_a_digit_fails_that_image(tmp_path, value):
    (tmp_path / "a.png").touch()
    (tmp_path / "b.png").touch()
    (tmp_path / "labels.csv").write_text(f"a.png,{value}\nb.png,3\n")
    first, second = labelled(tmp_path)
    assert isinstance(first, Failed) and "is not a digit 0-9" in first.error
    assert second == ImageFile(str(tmp_path / "b.png"), 3)


def test_latin1_labels_match_latin1_file_names(tmp_path):
    name = os.fsdecode("caf\xe9.png".encode("latin-1"))  # not valid UTF-8 on disk
    (tmp_path / name).touch()
    (tmp_path / "labels.csv").write_bytes("caf\xe9.png,4\n".encode("latin-1"))
    assert list(labelled(tmp_path)) == [ImageFile(str(tmp_path / name), 4)]


def test_unreadable_labels_file_is_reported_once(tmp_path):
    (tmp_path / "a.png").touch()
    (tmp_path / "labels.csv").mkdir()
    first, second = labelled(tmp_path)
    assert isinstance(first, Failed) and first.source.endswith("labels.csv")
    assert second == ImageFile(str(tmp_path / "a.png"))


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([1, 2, 99]), "label 99 of image 2 is not a digit 0-9"),
        (np.array([1, -10, 2]), "label -10 of image 1 is not a digit 0-9"),
        (np.array([1.0, 7.9, 2.0]), "labels are float64, not integers 0-9"),
        (np.array([1, 2]), "labels of shape (2,) do not match 3 images"),
    ],
)
def test_array_labels_outside_0_to_9_fail_the_file(tmp_path, x_test, labels, message):
    np.savez(tmp_path / "set.npz", x_test=x_test[:3], y_test=labels)
    (source,) = labelled(tmp_path / "set.npz")
    (item,) = source_items(source)
    assert item.image is None and message in item.error


def test_array_labels_are_not_needed_to_predict(tmp_path, x_test):
    np.savez(tmp_path / "set.npz", x_test=x_test[:3], y_test=np.array([1, 2, 99]))
    items = [item for s in expand([tmp_path / "set.npz"]) for item in source_items(s)]
    assert [item.error for item in items] == [None, None, None]


def test_empty_array_file_says_so(tmp_path):
    np.save(tmp_path / "none.npy", np.zeros((0, 28, 28), np.uint8))
    (item,) = source_items(ArrayFile(tmp_path / "none.npy"))
    assert item.error == "holds no images (shape (0, 28, 28))"


def test_blank_image_in_an_array_is_no_digit_like_a_blank_picture(tmp_path, x_test):
    np.save(tmp_path / "two.npy", np.stack([x_test[0], np.zeros((28, 28), np.uint8)]))
    first, blank = source_items(ArrayFile(tmp_path / "two.npy"))
    assert first.error is None and blank.error.startswith("no digit found")
