"""Hostile cases only a real process shows: an unprivileged user, closed and failing standard
streams, onnxruntime writing to the home, and broken models (a library's log line goes to
descriptor 2, past any in-process capture). Each asserts the records, stderr exactly, and the
exit code.

The rule for the streams (core/streams.py): the results on stdout are what matters. A line
that cannot be written on stderr loses no record and changes no exit code; a stdout closed
from the start is one line and exit 3, before any work.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.broken_models import eleven_model, failing_model, logits_model, one_row_model
from tests.privileges import unprivileged

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mnist-edge"))
TIMEOUT = 120  # seconds, far above any case: a hang fails instead of stalling the suite
STDOUT_CLOSED = "mnist-edge: error: cannot write the results (standard output is closed)\n"
TELEMETRY = Path(".cache/Microsoft/DeveloperTools/.onnxruntime")  # under $HOME
# Each also suppresses onnxruntime's telemetry: left in, the home test could not fail.
TELEMETRY_OFF = ("CI", "ORT_DISABLE_TELEMETRY", "ORT_RUNNING_UNIT_TESTS")


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


COMMANDS = {  # every command that writes results on stdout, on inputs of the fixture
    "predict": ["predict", "-f", "jsonl", "seven.png", "blank.npy", "two.png"],
    "evaluate": ["evaluate", "."],
    "show": ["show", "seven.png", "-o", "out.png"],
    "info": ["info"],
    "models": ["models"],
    "bench": ["bench", "--data", "few.npy", "--files", "0", "-f", "json"],
    "help": ["--help"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_closed_stdout_is_one_line_and_exit_3_before_any_work(folder, command):
    """`>&-` gave an AttributeError traceback (exit 1)."""
    result = run(
        [CLI, *COMMANDS[command]],
        folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
    )
    assert result.stderr == STDOUT_CLOSED
    assert result.returncode == 3
    assert not (folder / "out.png").exists()  # show stopped before drawing


@pytest.mark.parametrize("stderr", ["closed", "/dev/full"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_stderr_that_cannot_be_written_loses_no_result(folder, command, stderr):
    """`2>&-` predicted nothing (exit 1); `2>/dev/full` made a successful run exit 1. The run
    must give what it gives with stderr open: the same results, the same exit code."""
    reference = run([CLI, *COMMANDS[command]], folder)
    with open("/dev/full", "w") as full:
        if stderr == "closed":
            options = {"stderr": subprocess.DEVNULL, "preexec_fn": lambda: os.close(2)}
        else:
            options = {"stderr": full}
        result = run([CLI, *COMMANDS[command]], folder, stdout=subprocess.PIPE, **options)
    assert result.returncode == reference.returncode
    if command == "bench":  # timings differ from run to run: the same figures, measured
        assert json.loads(result.stdout).keys() == json.loads(reference.stdout).keys()
    else:
        assert result.stdout == reference.stdout


def test_a_stderr_reader_that_leaves_loses_no_record(folder):
    """The reader of stderr reads one line and goes: the run went on to exit 141 with most
    records unwritten. 5,000 lines (~450 kB) cannot all wait in the pipe, so the tool writes
    to a pipe that has surely lost its reader."""
    with open(folder / "out.jsonl", "w") as out:
        process = subprocess.Popen(
            [CLI, *COMMANDS["predict"]], cwd=folder, stdout=out, stderr=subprocess.PIPE
        )
        first = process.stderr.readline()
        process.stderr.close()
        code = process.wait(timeout=TIMEOUT)
    records = [json.loads(line) for line in (folder / "out.jsonl").read_text().splitlines()]
    assert first.startswith(b"mnist-edge: blank.npy#0: no digit found")
    assert len(records) == 5002 and [records[0]["label"], records[-1]["label"]] == [7, 2]
    assert code == 1  # blank images failed, as with stderr open


def bare_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in TELEMETRY_OFF}
    return {**env, "HOME": str(home)}


def test_a_missing_home_stays_missing(folder):
    """onnxruntime 1.32 created $HOME and its telemetry folder there on every run."""
    home = folder / "no-such-home"
    control = run([sys.executable, "-c", "import onnxruntime"], folder, env=bare_env(home))
    assert control.returncode == 0 and (home / TELEMETRY).is_dir()  # what the test would see
    shutil.rmtree(home)
    result = run([CLI, "predict", "-f", "jsonl", "seven.png"], folder, env=bare_env(home))
    assert result.returncode == 0 and json.loads(result.stdout)["label"] == 7
    assert result.stderr == summary(1, 1)
    assert not home.exists()


def test_an_unwritable_home_gets_no_warning(folder):
    """Where the home cannot be written, onnxruntime warned in colour on stderr."""
    home = folder / "read-only-home"
    home.mkdir(mode=0o555)
    bare = [sys.executable, "-c", "import onnxruntime"]
    control = run(unprivileged(bare), folder, env=bare_env(home))
    assert "\x1b[" in control.stderr  # what the test would see
    command = unprivileged([CLI, "predict", "-f", "jsonl", "seven.png"])
    result = run(command, folder, env=bare_env(home))
    assert result.returncode == 0 and json.loads(result.stdout)["label"] == 7
    assert result.stderr == summary(1, 1)
    assert list(home.iterdir()) == []


BROKEN_MODELS = {  # what each gives, and the record's error for every input
    "one-row": (one_row_model, "the model's output does not have one row per image"),
    "logits": (logits_model, "the model gave values outside [0, 1]: not probabilities (logits?)"),
    "eleven": (eleven_model, "the model's output has rows of shape (11,), not (10,)"),
    "fails": (failing_model, "the model failed to run ([ONNXRuntimeError] : 2 : INVALID_ARGUMENT"),
}


@pytest.mark.parametrize("name", list(BROKEN_MODELS))
def test_a_broken_model_costs_each_input_one_record(folder, x_test, name):
    """A model that loads but answers wrongly, or fails when run: a record and a line each,
    in the one-thread session (one image) and the pooled one (twelve), and nothing of
    onnxruntime's own on stderr. A model with fewer rows than images lost the batch to
    "generator raised StopIteration"."""
    make, error = BROKEN_MODELS[name]
    model = make(folder / f"{name}.onnx")
    np.save(folder / "twelve.npy", x_test[:12])
    sources = ["seven.png", *[f"twelve.npy#{index}" for index in range(12)]]
    for batch in ("1", "13"):
        command = [CLI, "predict", "-f", "jsonl", "--model", str(model), "--batch-size", batch]
        result = run([*command, "seven.png", "twelve.npy"], folder)
        records = [json.loads(line) for line in result.stdout.splitlines()]
        if name == "one-row" and batch == "1":  # one image, one row: the model is right
            assert all("error" not in record for record in records) and result.returncode == 0
            continue
        assert [record["source"] for record in records] == sources
        assert all(record["error"].startswith(error) for record in records), records[0]
        lines = [f"mnist-edge: {r['source']}: {r['error']}\n" for r in records]
        assert result.stderr == "".join(lines) + summary(0, 13)
        assert result.returncode == 1
