"""Hostile cases only a real process shows: an unprivileged user. Each asserts the
records, stderr exactly, and the exit code.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.privileges import unprivileged

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mnist-edge"))
TIMEOUT = 120  # seconds, far above any case: a hang fails instead of stalling the suite


def run(command: list[str], cwd: Path, **options) -> subprocess.CompletedProcess:
    """`command` in `cwd`; stdout and stderr captured unless `options` say otherwise."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    return subprocess.run(command, cwd=cwd, text=True, timeout=TIMEOUT, **{**streams, **options})


def summary(predicted: int, total: int) -> str:
    failed = total - predicted
    return f"mnist-edge: {predicted} of {total} inputs predicted" + (
        f", {failed} failed\n" if failed else "\n"
    )


@pytest.fixture
def folder(tmp_path: Path, x_test: np.ndarray) -> Path:
    """seven.png and two.png (MNIST test images 0 and 1), their labels.csv, a blank.npy of
    5,000 images (a record and a line on stderr each), and a small array to bench."""
    Image.fromarray(x_test[0]).save(tmp_path / "seven.png")
    Image.fromarray(x_test[1]).save(tmp_path / "two.png")
    (tmp_path / "labels.csv").write_text("seven.png,7\ntwo.png,2\n")
    np.save(tmp_path / "blank.npy", np.zeros((5000, 28, 28), np.uint8))
    np.save(tmp_path / "few.npy", x_test[:64])
    return tmp_path


def test_unreadable_inputs_of_an_unprivileged_user_are_their_records(folder):
    """Typer's own readable check gave a usage error (exit 2) and predicted nothing."""
    (folder / "unreadable.png").write_bytes((folder / "seven.png").read_bytes())
    (folder / "locked").mkdir()
    (folder / "locked" / "inside.png").write_bytes((folder / "two.png").read_bytes())
    (folder / "unreadable.png").chmod(0)
    (folder / "locked").chmod(0)
    names = ["seven.png", "unreadable.png", "locked", "locked/inside.png", "two.png"]
    result = run(unprivileged([CLI, "predict", "-f", "jsonl", *names]), folder)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    errors = {
        "unreadable.png": "permission denied",
        "locked": "cannot list folder (permission denied)",
        "locked/inside.png": "permission denied",
    }
    assert [record["source"] for record in records] == names
    assert [record.get("error") for record in records] == [errors.get(name) for name in names]
    assert [records[0]["label"], records[-1]["label"]] == [7, 2]
    lines = "".join(f"mnist-edge: {name}: {error}\n" for name, error in errors.items())
    assert result.stderr == lines + summary(2, 5)
    assert result.returncode == 1


def test_show_of_an_unreadable_file_is_one_line(folder):
    (folder / "seven.png").chmod(0)
    result = run(unprivileged([CLI, "show", "seven.png", "-o", "out.png"]), folder)
    assert result.stderr == "mnist-edge: error: seven.png: permission denied\n"
    assert result.returncode == 1 and not (folder / "out.png").exists()
