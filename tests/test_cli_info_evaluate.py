"""`mnist-edge info` and `mnist-edge evaluate` on every kind of labelled set."""

import csv
import hashlib
import json

import numpy as np
from PIL import Image

from mnist_edge.core.arrayfiles import write_idx
from mnist_edge.runtime import Predictor, default_model_path
from mnist_edge.runtime.preprocess import to_mnist
from mnist_edge.train.config import CnnConfig


def counted(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> tuple[float, list]:
    """Accuracy and confusion matrix (rows the true digit), counted here with numpy."""
    digits = predictor.predict(images).argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (labels, digits), 1)
    return float(np.mean(digits == labels)), confusion.tolist()


def test_info_describes_the_shipped_model(cli):
    result = cli("info", "--format", "json")
    details = json.loads(result.stdout)
    assert details["path"] == str(default_model_path())
    assert details["sha256"] == hashlib.sha256(default_model_path().read_bytes()).hexdigest()
    assert details["input"] == {"name": "image", "dtype": "uint8", "shape": ["batch", 28, 28]}
    assert details["output"] == {
        "name": "probabilities",
        "dtype": "float32",
        "shape": ["batch", 10],
    }
    assert details["labels"] == list("0123456789")
    assert details["architecture"]["name"] == "cnn"  # the default
    assert details["training"]["epochs"] == CnnConfig().epochs  # the recipe it was trained by
    assert {"tensorflow", "keras", "tf2onnx", "onnx"} <= set(details["versions"])
    table = cli("info").stdout
    assert "sha256: " + details["sha256"] in table and "test_accuracy" in table


def test_evaluate_npz_counts_what_the_model_reads(cli, predictor, mnist):
    result = json.loads(cli("evaluate", "data/mnist.npz", "--format", "json").stdout)
    accuracy, confusion = counted(predictor, mnist.x_test, mnist.y_test)
    assert result["n"] == 10000
    assert result["accuracy"] == accuracy and result["confusion"] == confusion
    rows = np.array(result["confusion"]).sum(axis=1).tolist()
    assert rows == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # MNIST's test split


def test_evaluate_idx_pair(cli, tmp_path, mnist, predictor):
    images, labels = tmp_path / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(images, mnist.x_test[:500])
    write_idx(labels, mnist.y_test[:500])
    found_beside = json.loads(cli("evaluate", str(images), "-f", "json").stdout)
    elsewhere = tmp_path / "elsewhere-labels.idx"
    write_idx(elsewhere, mnist.y_test[:500])
    given = json.loads(cli("evaluate", str(images), str(elsewhere), "-f", "json").stdout)
    accuracy, confusion = counted(predictor, mnist.x_test[:500], mnist.y_test[:500])
    assert found_beside["n"] == given["n"] == 500
    assert found_beside["accuracy"] == given["accuracy"] == accuracy
    assert found_beside["confusion"] == given["confusion"] == confusion


def test_evaluate_folder_with_labels_csv(cli, tmp_path, mnist, predictor):
    rows = [("file", "label")]
    for index in range(40):
        name = f"digit-{index}.png"
        picture = 255 - mnist.x_test[index] if index % 2 else mnist.x_test[index]  # both polarities
        Image.fromarray(picture).save(tmp_path / name)
        rows.append((name, int(mnist.y_test[index])))
    with open(tmp_path / "labels.csv", "w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    result = cli("evaluate", str(tmp_path), "-f", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    pictures = np.stack([to_mnist(Image.open(tmp_path / name)) for name, _ in rows[1:]])
    labels = np.array([label for _, label in rows[1:]])
    assert (report["accuracy"], report["confusion"]) == counted(predictor, pictures, labels)
    assert report["n"] == 40 and report["accuracy"] >= 0.95
    table = cli("evaluate", str(tmp_path)).stdout
    assert table.startswith("accuracy ") and "precision" in table and "recall" in table


def test_evaluate_reports_failures_and_exits_1(cli, tmp_path, mnist):
    Image.fromarray(mnist.x_test[0]).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_text("nope")
    (tmp_path / "labels.csv").write_text("good.png,7\nbad.png,1\n")
    result = cli("evaluate", str(tmp_path), "-f", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"] == 1 and "bad.png" in result.stderr


def test_evaluate_unlabelled_data_is_refused(cli, tmp_path, mnist):
    np.save(tmp_path / "x.npy", mnist.x_test[:10])
    result = cli("evaluate", str(tmp_path / "x.npy"))
    assert result.returncode == 1 and "no labelled images" in result.stderr


def test_evaluate_labels_outside_0_to_9_fail_the_file(cli, tmp_path, mnist):
    labels = mnist.y_test[:5].copy()
    labels[3] = 99
    np.savez(tmp_path / "set.npz", x_test=mnist.x_test[:5], y_test=labels)
    result = cli("evaluate", tmp_path / "set.npz")
    assert result.returncode == 1
    assert "label 99 of image 3 is not a digit 0-9" in result.stderr


def test_evaluate_plot_must_be_a_folder(cli, tmp_path):
    (tmp_path / "a-file").touch()
    result = cli("evaluate", "data/mnist.npz", "--plot", tmp_path / "a-file")
    assert result.returncode == 2 and "not a folder" in result.stderr


def test_info_json_is_strict_and_says_what_the_file_holds(cli):
    """No NaN or Infinity in the JSON, and every field is the model file's own metadata, read
    here with onnxruntime."""
    import onnxruntime

    details = json.loads(cli("info", "-f", "json").stdout, parse_constant=lambda name: 1 / 0)
    session = onnxruntime.InferenceSession(default_model_path(), providers=["CPUExecutionProvider"])
    stored = session.get_modelmeta().custom_metadata_map
    assert details["training"] == json.loads(stored["training_metrics"])
    for key in ("architecture", "input_contract", "output_contract", "labels", "versions"):
        assert details[key] == json.loads(stored[key]), key
    assert details["preprocessing"] == stored["preprocessing"]
    assert details["source_sha256"] == stored["source_sha256"]
    assert details["bytes"] == default_model_path().stat().st_size


def test_show_and_evaluate_report_a_truncated_npz_in_one_line(cli, tmp_path, mnist):
    path = tmp_path / "cut.npz"
    np.savez_compressed(path, x_test=mnist.x_test[:300], y_test=mnist.y_test[:300])
    path.write_bytes(path.read_bytes()[:5000])
    for args in (["show", path, "-o", tmp_path / "x.png"], ["evaluate", path]):
        result = cli(*args)
        assert result.returncode == 1, args
        assert "not a readable zip archive" in result.stderr and result.stderr.count("\n") <= 2
