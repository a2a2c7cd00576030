"""The cluster engine's pieces that need no running Ray: the work of one actor against the
local engine, the input rows the driver makes, and the command line's option checks."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pyarrow
import pytest
from PIL import Image

from mnist_edge.runtime.pipeline import predict_paths
from mnist_edge.scale.inputs import entries, rows_table
from mnist_edge.scale.worker import DigitReader, predictions_of
from tests.conftest import ROOT
from tests.inputs import png_bytes

TOLERANCE = 1e-6  # largest difference of a probability from the local engine's
SAMPLES = sorted((ROOT / "samples").iterdir())


@pytest.fixture(scope="module")
def reader(predictor) -> DigitReader:
    """An actor's work, built from the model's bytes as on a worker (here, in-process)."""
    return DigitReader(predictor.model_bytes, name="mnist-mlp.onnx")


def assert_same(ours, theirs) -> float:
    """Same sources, errors and digits; returns the largest difference of a probability."""
    assert [p.source for p in ours] == [p.source for p in theirs]
    assert [p.error for p in ours] == [p.error for p in theirs]
    largest = 0.0
    for mine, local in zip(ours, theirs, strict=True):
        if local.error is None:
            assert mine.digit == local.digit, local.source
            largest = max(largest, float(np.abs(mine.probabilities - local.probabilities).max()))
    assert largest <= TOLERANCE
    return largest


def test_rows_of_every_kind_give_the_local_engines_records(reader, predictor, tmp_path, x_test):
    truncated = png_bytes(Image.fromarray(x_test[3]))[:60]
    (tmp_path / "truncated.png").write_bytes(truncated)
    local = list(predict_paths(predictor, [*SAMPLES, tmp_path / "truncated.png", Path("gone.png")]))
    rows = {
        "source": [str(path) for path in SAMPLES] + [str(tmp_path / "truncated.png"), "gone.png"],
        "path": [None] * len(SAMPLES) + [None, str(Path("gone.png").absolute())],
        "bytes": [path.read_bytes() for path in SAMPLES] + [truncated, None],
    }
    ours = list(predictions_of(reader(pyarrow.table(rows))))
    print(f"largest difference from the local engine: {assert_same(ours, local):.1e}")


def test_the_drivers_rows_carry_names_files_arrays_and_errors(reader, predictor, tmp_path, x_test):
    """Files as their names and absolute paths (any bytes), arrays as checked pixels."""
    odd = tmp_path / os.fsdecode(b"seven-\xff\n.png")
    Image.fromarray(x_test[0]).save(odd)
    np.save(tmp_path / "pair.npy", x_test[1:3])
    os.mkfifo(tmp_path / "fifo.png")  # never opened for reading: it would block
    inputs = [tmp_path, Path("missing.png")]
    table = rows_table(list(entries(inputs, recursive=False)))
    assert table.column("source").to_pylist()[-1] == b"missing.png"
    ours = list(predictions_of(reader(table)))
    local = list(predict_paths(predictor, inputs))
    assert_same(ours, local)
    assert ours[-1].error == "no such file or directory"
    assert "seven-\\xff\\n.png" in ours[-2].source
    assert ours[0].error == "not a regular file (a FIFO)"


def test_rows_without_a_name_are_refused(reader):
    with pytest.raises(ValueError, match="name every input"):
        reader(pyarrow.table({"bytes": [b"\x89PNG"]}))


def test_without_the_extra_the_engine_says_how_to_install_it(cli, monkeypatch):
    find = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find(name, *a)
    )
    result = cli("predict", "--engine", "ray", "samples")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "mnist-edge: error: --engine ray needs the scale extra (ray not installed): "
        f"pip install -e '{ROOT}[scale]'\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--output-dir", "out"], 2, "--output-dir and --ray-address need --engine ray"),
        (["--engine", "ray", "-f", "parquet"], 2, "parquet is written to --output-dir only"),
        (["--engine", "ray", "--output-dir", "out", "-f", "table"], 2, "writes jsonl, csv"),
        (["--engine", "ray", "--ray-address", "nonsense"], 2, "is not HOST:PORT"),
        (["--engine", "ray", "--ray-address", "127.0.0.1:1"], 1, "no Ray cluster answers"),
    ],
)
def test_options_that_cannot_work_are_one_line(cli, args, code, message):
    result = cli("predict", *args, "samples")
    assert result.returncode == code and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr
