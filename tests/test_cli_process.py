"""The installed `mnist-edge` as a real process, where the process boundary is the point:
exit codes seen by a shell, pipes, a full disk, signals, bytes that are not UTF-8."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.processes import as_at_a_terminal
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mnist-edge"))
STRICT_UTF8 = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "en_US.UTF-8"}


def run(*args: str, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], capture_output=True, cwd=ROOT, timeout=120, env=env, **options
    )


def test_samples_through_the_installed_entry_point():
    result = run("predict", "samples", text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "mnist-edge: 10 of 10 inputs predicted\n"


def test_a_reader_that_leaves_early_is_not_a_failure_of_the_inputs():
    """`predict ... | head -1`: exit 141 as for any Unix filter, nothing on stderr."""
    shell = f"set -o pipefail; {CLI} predict -f jsonl data/mnist.npz | head -1"
    result = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.stdout.startswith('{"source": "data/mnist.npz#0"')
    assert result.returncode == 141 and result.stderr == ""


def test_a_full_disk_is_one_line_and_exit_3():
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [CLI, "predict", "samples"], stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
    assert result.returncode == 3
    assert result.stderr == (
        "mnist-edge: error: cannot write the results (No space left on device)\n"
    )


@pytest.mark.parametrize("output_format", ["table", "csv", "jsonl"])
def test_names_that_are_not_utf8_under_a_strict_utf8_terminal(tmp_path, x_test, output_format):
    name = os.fsdecode(b"seven-\xff.png")
    Image.fromarray(x_test[0]).save(tmp_path / name)
    result = run("predict", "-f", output_format, str(tmp_path), env=STRICT_UTF8)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("utf-8")  # valid UTF-8 throughout
    if output_format == "jsonl":
        text = json.loads(text)["source"]
    assert "seven-\\xff.png" in text


def test_show_with_a_name_that_is_not_utf8(tmp_path, x_test):
    name = os.fsdecode(b"nine-\xff.png")
    Image.fromarray(x_test[99]).save(tmp_path / name)
    result = run("show", str(tmp_path / name), "-o", str(tmp_path / "out.png"), env=STRICT_UTF8)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.png").exists()


def test_ctrl_c_stops_a_long_run_cleanly(tmp_path, x_test):
    """SIGINT once the first results are out (the run is then surely under way): exit 130,
    no traceback, even with a FIFO among the files still to come."""
    for index in range(10_000):
        Image.fromarray(x_test[index]).save(tmp_path / f"{index:05d}.png")
    os.mkfifo(tmp_path / "09000-pipe.png")
    process = subprocess.Popen(
        [CLI, "predict", "-f", "jsonl", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=as_at_a_terminal,
    )
    first = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    rest, stderr = process.communicate(timeout=30)
    assert first.startswith(b'{"source"')
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert rest.count(b"\n") < 10_000 - 1  # it stopped before the end


def test_fifo_in_a_folder_does_not_hang(tmp_path, x_test):
    for index in range(3):
        Image.fromarray(x_test[index]).save(tmp_path / f"{index}.png")
    os.mkfifo(tmp_path / "1-fifo.png")
    np.save(tmp_path / "2-array.npy", x_test[:2])
    result = run("predict", str(tmp_path), text=True)
    assert result.returncode == 1
    assert "1-fifo.png: not a regular file (a FIFO)" in result.stdout
    assert "5 of 6 inputs predicted, 1 failed" in result.stderr
