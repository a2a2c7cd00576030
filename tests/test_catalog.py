"""The shipped models by name: `--model cnn`, Predictor("cnn"), `mnist-edge models`."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from harness.targets import CNN_MAX_PARAMETERS
from mnist_edge.core.contract import META_ARCHITECTURE, META_TRAINING
from mnist_edge.runtime import Predictor, catalog
from mnist_edge.runtime.catalog import UnknownModel
from mnist_edge.runtime.info import shipped_models
from tests.conftest import ROOT

MODELS = catalog.MODELS
NAMES = ["mlp", "mlp.int8", "cnn", "cnn.int8"]


def test_every_shipped_model_is_in_the_package():
    assert catalog.names() == NAMES
    files = sorted(path.name for path in MODELS.glob("*.onnx"))
    assert files == sorted(f"mnist-{name}.onnx" for name in NAMES)


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("cnn", "mnist-cnn.onnx"),
        ("CNN", "mnist-cnn.onnx"),
        ("mnist-cnn", "mnist-cnn.onnx"),
        ("mnist-cnn.onnx", "mnist-cnn.onnx"),
        ("cnn.int8", "mnist-cnn.int8.onnx"),
        ("cnn-int8", "mnist-cnn.int8.onnx"),
        ("mnist-cnn.int8.onnx", "mnist-cnn.int8.onnx"),
        ("mlp", "mnist-mlp.onnx"),
        ("mnist-mlp", "mnist-mlp.onnx"),
    ],
)
def test_names_resolve_to_the_shipped_files(name, file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file of that name here
    assert catalog.resolve(name) == MODELS / file


def test_a_file_of_that_name_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cnn").write_bytes(b"mine")
    assert catalog.resolve("cnn") == tmp_path.joinpath("cnn").relative_to(tmp_path)


def test_unknown_name_is_one_line_listing_the_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownModel) as error:
        Predictor("resnet")
    message = str(error.value)
    assert "\n" not in message and message.startswith("resnet: ")
    assert "mlp, mlp.int8, cnn, cnn.int8" in message
    with pytest.raises(UnknownModel, match="nope/x.onnx: no such file or directory$"):
        Predictor("nope/x.onnx")


def test_predictor_by_name_is_the_file_it_names(x_test):
    by_name, by_path = Predictor("cnn"), Predictor(MODELS / "mnist-cnn.onnx")
    assert by_name.model_path == by_path.model_path
    assert by_name.metadata[META_ARCHITECTURE]["name"] == "cnn"
    assert (by_name.predict(x_test[:100]) == by_path.predict(x_test[:100])).all()


def test_int8_twin():
    assert catalog.int8_twin("cnn") == MODELS / "mnist-cnn.int8.onnx"
    default_twin = MODELS / f"mnist-{catalog.DEFAULT}.int8.onnx"
    assert catalog.int8_twin(None) == default_twin == MODELS / "mnist-cnn.int8.onnx"
    assert catalog.int8_twin("some/model.onnx") == default_twin


def test_listing_reads_each_models_metadata():
    rows = {row["name"]: row for row in shipped_models()}
    assert list(rows) == NAMES and [n for n, row in rows.items() if row["default"]] == ["cnn"]
    for name, row in rows.items():
        predictor = Predictor(name)
        assert row["bytes"] == (MODELS / f"mnist-{name}.onnx").stat().st_size
        assert row["parameters"] == predictor.metadata[META_ARCHITECTURE]["parameters"]
        assert row["epochs"] == predictor.metadata[META_TRAINING]["epochs"]
    assert rows["mlp"]["parameters"] == 203_530 and rows["cnn"]["parameters"] <= CNN_MAX_PARAMETERS
    assert rows["cnn"]["augmented"] is True and rows["mlp"]["augmented"] is False


def test_models_command(cli):
    table = cli("models")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[3].startswith("cnn *") and [line.split()[0] for line in lines[1:5]] == NAMES
    rows = json.loads(cli("models", "--format", "json").stdout)
    assert [row["name"] for row in rows] == NAMES
    for row, line in zip(rows, lines[1:5], strict=True):
        assert f"{row['test_accuracy']:.2%}" in line


@pytest.mark.slow  # bench and evaluate run for seconds
@pytest.mark.parametrize("command", ["info", "evaluate", "bench"])
def test_commands_take_a_model_name(cli, command, mnist):
    args = {
        "info": ["info", "--model", "cnn", "--format", "json"],
        "evaluate": ["evaluate", "data/mnist.npz", "--model", "cnn.int8", "-f", "json"],
        "bench": ["bench", "--model", "cnn", "--files", "0", "--format", "json"],
    }[command]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    if command == "info":
        details = json.loads(result.stdout)
        digest = hashlib.sha256((MODELS / "mnist-cnn.onnx").read_bytes()).hexdigest()
        assert details["architecture"]["name"] == "cnn" and details["sha256"] == digest
    if command == "evaluate":  # the int8 CNN's accuracy, counted here with numpy
        digits = Predictor("cnn.int8").predict(mnist.x_test).argmax(axis=1)
        assert json.loads(result.stdout)["accuracy"] == float(np.mean(digits == mnist.y_test))
    if command == "bench":
        models = json.loads(result.stdout)["models"]
        assert models["float32"]["model"].endswith("mnist-cnn.onnx")
        assert models["int8"]["model"].endswith("mnist-cnn.int8.onnx")


def test_show_draws_the_named_models_probabilities(cli, mnist, tmp_path, monkeypatch):
    """`show --model cnn` on a test digit the two models read differently: the picture is the
    one drawn from Predictor("cnn")'s probabilities, and its verdict is not the MLP's."""
    from PIL import Image

    from mnist_edge.pictures.show import HEADER, render, show_source, shown
    from mnist_edge.runtime.pipeline import predict_sources

    index = first_disagreement(mnist)
    pictures = {}
    for name in ("cnn", "mlp"):
        output = tmp_path / f"{name}.png"
        result = cli("show", "data/mnist.npz", "--index", index, "--model", name, "-o", output)
        assert result.returncode == 0, result.stderr
        pictures[name] = np.asarray(Image.open(output).convert("RGB"))
    monkeypatch.chdir(ROOT)  # the input named as on the command line, as its header shows it
    source = show_source(Path("data/mnist.npz"), index)
    (prediction,) = predict_sources(Predictor("cnn"), [source])
    probabilities = Predictor("cnn").predict(mnist.x_test[index : index + 1])[0]
    expected, _ = render(shown(prediction, source), probabilities)
    assert np.array_equal(pictures["cnn"], np.asarray(expected.convert("RGB")))
    assert not np.array_equal(pictures["cnn"][:HEADER], pictures["mlp"][:HEADER])


def first_disagreement(mnist) -> int:
    """The first test digit the tutorial's MLP and the CNN read as different digits."""
    digits = [
        Predictor(name).predict(mnist.x_test[:1000]).argmax(axis=1) for name in ("mlp", "cnn")
    ]
    return int(np.flatnonzero(digits[0] != digits[1])[0])


def test_predict_with_an_unknown_model_name_is_a_usage_error(cli):
    result = cli("predict", "--model", "resnet", "samples")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "resnet: no such model file, nor a shipped model (shipped: mlp" in result.stderr


def test_every_shipped_model_goes_by_its_command_line_name(tmp_path):
    """The service's model names and the page's are the names --model takes."""
    assert [catalog.model_name(catalog.shipped_path(name)) for name in NAMES] == NAMES
    own = tmp_path / "mnist-cnn.onnx"  # a user's file that only looks like a shipped one
    own.write_bytes(catalog.shipped_path("cnn").read_bytes())
    assert catalog.model_name(own) == "mnist-cnn"
