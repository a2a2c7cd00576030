"""`mnist-edge info` and `mnist-edge evaluate` on every kind of labelled set."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_edge.core.idx import write_idx
from mnist_edge.runtime import default_model_path
from mnist_edge.runtime.info import file_sha256
from tests.conftest import ROOT

CLI = str(Path(sys.executable).with_name("mnist-edge"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_info_describes_the_shipped_model():
    result = run("info", "--format", "json")
    details = json.loads(result.stdout)
    assert details["path"] == str(default_model_path())
    assert details["sha256"] == file_sha256(default_model_path())
    assert details["input"] == {"name": "image", "dtype": "uint8", "shape": ["batch", 28, 28]}
    assert details["output"] == {
        "name": "probabilities",
        "dtype": "float32",
        "shape": ["batch", 10],
    }
    assert details["labels"] == list("0123456789")
    assert details["training"]["epochs"] == 8
    assert {"tensorflow", "keras", "tf2onnx", "onnx"} <= set(details["versions"])
    table = run("info").stdout
    assert "sha256: " + details["sha256"] in table and "test_accuracy" in table


def test_evaluate_npz_equals_what_training_reported():
    details = json.loads(run("info", "-f", "json").stdout)
    result = json.loads(run("evaluate", "data/mnist.npz", "--format", "json").stdout)
    assert result["n"] == 10000
    assert result["accuracy"] == details["training"]["test_accuracy"]
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert confusion.sum(axis=1).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_evaluate_idx_pair(tmp_path, mnist):
    images, labels = tmp_path / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(images, mnist.x_test[:500])
    write_idx(labels, mnist.y_test[:500])
    found_beside = json.loads(run("evaluate", str(images), "-f", "json").stdout)
    elsewhere = tmp_path / "elsewhere-labels.idx"
    write_idx(elsewhere, mnist.y_test[:500])
    given = json.loads(run("evaluate", str(images), str(elsewhere), "-f", "json").stdout)
    assert found_beside["n"] == given["n"] == 500
    assert found_beside["accuracy"] == given["accuracy"] > 0.95


def test_evaluate_folder_with_labels_csv(tmp_path, mnist):
    rows = [("file", "label")]
    for index in range(40):
        name = f"digit-{index}.png"
        picture = 255 - mnist.x_test[index] if index % 2 else mnist.x_test[index]  # both polarities
        Image.fromarray(picture).save(tmp_path / name)
        rows.append((name, int(mnist.y_test[index])))
    with open(tmp_path / "labels.csv", "w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    result = run("evaluate", str(tmp_path), "-f", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 40 and report["accuracy"] >= 0.95
    table = run("evaluate", str(tmp_path)).stdout
    assert table.startswith("accuracy ") and "precision" in table and "recall" in table


def test_evaluate_reports_failures_and_exits_1(tmp_path, mnist):
    Image.fromarray(mnist.x_test[0]).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_text("nope")
    (tmp_path / "labels.csv").write_text("good.png,7\nbad.png,1\n")
    result = run("evaluate", str(tmp_path), "-f", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"] == 1 and "bad.png" in result.stderr


def test_evaluate_unlabelled_data_is_refused(tmp_path, mnist):
    np.save(tmp_path / "x.npy", mnist.x_test[:10])
    result = run("evaluate", str(tmp_path / "x.npy"))
    assert result.returncode == 1 and "no labelled images" in result.stderr
