"""`mnist-edge predict`: every input gets a record, the formats keep their contract."""

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness.broken_models import nan_model
from tests.conftest import ROOT
from tests.inputs import make_inputs

SAMPLES = sorted((ROOT / "samples").iterdir())
SUCCESS_KEYS = {"source", "label", "probability", "probabilities"}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, x_test):
    folder = tmp_path_factory.mktemp("mixed")
    return folder, make_inputs(folder, x_test)


def test_samples_are_read_right(cli):
    result = cli("predict", "--format", "jsonl", *map(str, SAMPLES))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(SAMPLES)
    for record in records:
        true_digit = int(Path(record["source"]).stem.split("-")[1])  # mnist-7.png, drawn-4-...
        assert record["label"] == true_digit, record["source"]
    assert "10 of 10 inputs predicted" in result.stderr


def test_jsonl_contract(cli, x_test, tmp_path):
    result = cli("predict", "-f", "jsonl", str(ROOT / "samples" / "mnist-9.png"), "missing.png")
    assert result.returncode == 1
    good, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert set(good) == SUCCESS_KEYS
    assert isinstance(good["label"], int) and len(good["probabilities"]) == 10
    assert good["probability"] == good["probabilities"][good["label"]]
    assert abs(sum(good["probabilities"]) - 1) < 1e-4
    assert bad == {"source": "missing.png", "error": "no such file or directory"}


def test_top_k(cli, x_test):
    result = cli("predict", "-f", "jsonl", "--top-k", "3", str(ROOT / "samples" / "mnist-9.png"))
    record = json.loads(result.stdout)
    assert [entry["label"] for entry in record["top_k"]][0] == record["label"] == 9
    probabilities = [entry["probability"] for entry in record["top_k"]]
    assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)


def test_csv_has_the_same_records(cli):
    paths = [str(ROOT / "samples" / "mnist-7.png"), "missing.png"]
    rows = list(csv.DictReader(io.StringIO(cli("predict", "-f", "csv", *paths).stdout)))
    jsonl = [json.loads(line) for line in cli("predict", "-f", "jsonl", *paths).stdout.splitlines()]
    assert rows[0]["label"] == str(jsonl[0]["label"]) and rows[0]["error"] == ""
    assert [float(rows[0][f"p{d}"]) for d in range(10)] == jsonl[0]["probabilities"]
    assert rows[1]["error"] == "no such file or directory" and rows[1]["label"] == ""


def test_table_is_readable(cli):
    result = cli("predict", str(ROOT / "samples" / "mnist-9.png"))
    header, line = result.stdout.splitlines()
    assert header.split()[:3] == ["digit", "confidence", "source"]
    assert line.split()[0] == "9" and line.endswith("mnist-9.png")


def test_mixed_folder_gives_a_record_for_every_input(cli, mixed):
    folder, expected = mixed
    result = cli("predict", "-f", "jsonl", "--recursive", "--batch-size", "4", str(folder))
    assert result.returncode == 1
    records = {
        str(Path(r["source"]).relative_to(folder)): r
        for r in map(json.loads, result.stdout.splitlines())
    }
    assert set(records) == set(expected)
    for name, error in expected.items():
        record = records[name]
        if error is None:
            assert set(record) == SUCCESS_KEYS, record
        else:
            assert set(record) == {"source", "error"} and error in record["error"], record
            assert "\n" not in record["error"]
            assert f"{record['source']}: {record['error']}" in result.stderr
    failed = sum(error is not None for error in expected.values())
    assert (
        f"{len(expected) - failed} of {len(expected)} inputs predicted, {failed} failed"
        in result.stderr
    )


def test_good_records_in_a_mixed_folder_are_right(cli, mixed):
    folder, _ = mixed
    result = cli("predict", "-f", "jsonl", "-r", str(folder))
    digits = {
        Path(r["source"]).name: r.get("label") for r in map(json.loads, result.stdout.splitlines())
    }
    assert digits["a-seven.png"] == 7 and digits["B-TWO.PNG"] == 2
    assert digits["drawn-nine.jpg"] == 9 and digits["deep-one.png"] == 1
    assert [digits[f"three.npy#{i}"] for i in range(3)] == [1, 0, 4]


def test_without_recursive_sub_folders_are_not_read(cli, mixed):
    folder, _ = mixed
    result = cli("predict", "-f", "jsonl", str(folder))
    assert "deep-one.png" not in result.stdout and "three.npy#0" in result.stdout


def test_the_tutorial_check_from_the_data_file(cli):
    result = cli("predict", "-f", "jsonl", "data/mnist.npz", "--batch-size", "1000")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 10000
    record = json.loads(lines[99])
    assert record["source"] == "data/mnist.npz#99" and record["label"] == 9


@pytest.mark.parametrize(
    "args", [["--format", "xml", "samples"], ["--top-k", "-1", "samples"], [], ["--bogus"]]
)
def test_usage_errors_exit_2(cli, args):
    result = cli("predict", *args)
    assert result.returncode == 2


def test_missing_model_is_a_usage_error(cli):
    result = cli("predict", "--model", "nowhere.onnx", "samples")
    assert result.returncode == 2 and "nowhere.onnx" in result.stderr


def test_broken_model_is_one_line(cli, tmp_path):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"\x00garbage")
    result = cli("predict", "--model", str(model), "samples")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "not a loadable ONNX model" in result.stderr


def test_empty_folder_is_a_failure(cli, tmp_path):
    result = cli("predict", str(tmp_path))
    assert result.returncode == 1 and "no inputs found" in result.stderr


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("seven.bmp", {}),
        ("seven.gif", {}),
        ("seven.tif", {}),
        ("seven.TIFF", {"compression": "tiff_lzw"}),
        ("seven.webp", {"lossless": True}),
        ("seven.JPEG", {"quality": 90}),
        ("seven-16bit.png", {}),
        ("seven-palette.png", {}),
    ],
)
def test_every_image_format(cli, tmp_path, x_test, name, options):
    from PIL import Image

    picture = Image.fromarray(255 - x_test[0]).resize((140, 140))  # a 7, dark on light
    if "16bit" in name:
        picture = Image.fromarray(np.asarray(picture).astype(np.uint16) * 257)
    elif "palette" in name or name.endswith(".gif"):
        picture = picture.convert("P")
    elif name.lower().endswith((".jpeg", ".webp")):
        picture = picture.convert("RGB")
    picture.save(tmp_path / name, **options)
    record = json.loads(cli("predict", "-f", "jsonl", str(tmp_path / name)).stdout)
    assert record.get("label") == 7, record


def test_symlink_loops_are_not_followed(cli, tmp_path, x_test):
    from PIL import Image

    Image.fromarray(x_test[0]).save(tmp_path / "seven.png")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    result = cli("predict", "-r", "-f", "jsonl", str(tmp_path))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    assert json.loads(result.stdout)["label"] == 7  # the one real file, read once


def test_model_that_is_not_a_regular_file(cli):
    result = cli("predict", "--model", "/dev/null", "samples")
    assert result.returncode == 1
    assert "/dev/null: not a regular file (a character device)" in result.stderr


def test_non_finite_model_output_is_an_error_record(cli, tmp_path):
    """A model whose probabilities are NaN: error records, strict JSON, exit 1."""
    model = nan_model(tmp_path / "nan.onnx")
    result = cli("predict", "-f", "jsonl", "--model", model, "samples/mnist-7.png")
    record = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(name))
    assert record == {
        "source": "samples/mnist-7.png",
        "error": "the model gave non-finite probabilities (NaN or infinity)",
    }
    assert result.returncode == 1


def test_progress_is_never_written_to_a_pipe(cli):
    """Under the test runner stderr is not a terminal: only the summary line reaches it."""
    result = cli("predict", "samples")
    assert result.stderr == "mnist-edge: 10 of 10 inputs predicted\n"


def test_table_columns_line_up_with_top_k(cli):
    paths = [str(ROOT / "samples" / name) for name in ("drawn-3-transparent.png", "mnist-7.png")]
    header, *rows = cli("predict", "--top-k", "3", *paths).stdout.splitlines()
    column = header.index("source")
    assert header.index("next best") < column
    assert [row[column:] for row in rows] == paths  # every source starts under its header


@pytest.mark.parametrize("command", ["predict", "serve"])
def test_threads_past_four_a_core_are_a_usage_error_stated_in_the_help(cli, command):
    """5,000 onnxruntime threads ran for minutes and 100,000 grew memory by 50 MB/s."""
    bound = 4 * (os.cpu_count() or 1)
    result = cli(command, "--threads", str(bound + 1), "samples")
    assert result.returncode == 2 and "--threads" in result.stderr
    assert f"[1<=x<={bound}]" in cli(command, "--help").stdout  # the bound, in the help
    if command == "predict":
        assert cli(command, "--threads", str(bound), "samples").returncode == 0
