"""The Ray engine on a real local Ray instance (2 CPUs, shared by this module), against the
local engine on the same inputs: a folder of 2,000 PNG files mixed with broken files, odd
names, a FIFO and array files. What it proves: the same records in the same order (same
digits, probabilities within TOLERANCE, identical error records), the same stderr and exit
codes, shards that hold the same records, and a Python entry that gives them too. Without
Ray installed these fail, saying so: `make test` installs the scale extra."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_edge.runtime.pipeline import predict_paths
from mnist_edge.runtime.records import record
from tests.conftest import ROOT
from tests.inputs import make_inputs, png_bytes

pytestmark = pytest.mark.slow
TOLERANCE = 1e-6  # largest difference of a probability from the local engine's
GOOD_FILES = 2000
CLI = str(Path(sys.executable).with_name("mnist-edge"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory, x_test) -> Path:
    folder = tmp_path_factory.mktemp("scale")
    make_inputs(folder, x_test)  # broken images, arrays good and bad, a sub-folder
    for index in range(GOOD_FILES):
        Image.fromarray(x_test[index]).save(folder / f"digit-{index:05d}.png")
    np.savez_compressed(folder / "more-digits.npz", images=x_test[2000:2600])
    (folder / os.fsdecode(b"odd-\xff name\n.png")).write_bytes(
        png_bytes(Image.fromarray(x_test[9]))
    )
    os.mkfifo(folder / "fifo.png")
    return folder


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the module (the CLI run in-process uses it too)."""
    from mnist_edge.scale.cluster import ray_session

    started = time.monotonic()
    with ray_session(cpus=2):
        print(f"Ray started in {time.monotonic() - started:.1f} s")
        yield


@pytest.fixture(scope="module")
def local_run(folder):
    """The local engine's jsonl output for the folder, its stderr and exit code."""
    from typer.testing import CliRunner

    from mnist_edge.cli.app import app

    result = CliRunner().invoke(app, ["predict", "-f", "jsonl", "-r", str(folder)])
    return result


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def assert_same_records(ours: list[dict], theirs: list[dict]) -> float:
    """Same sources in the same order, identical errors, same digits; returns the largest
    difference of a probability (at most TOLERANCE)."""
    assert [r["source"] for r in ours] == [r["source"] for r in theirs]
    largest = 0.0
    for mine, local in zip(ours, theirs, strict=True):
        if "error" in local:
            assert mine == local
            continue
        assert set(mine) == set(local) and mine["label"] == local["label"], local["source"]
        differences = np.subtract(mine["probabilities"], local["probabilities"])
        largest = max(largest, float(np.abs(differences).max()))
    assert largest <= TOLERANCE
    return largest


def test_the_folder_is_what_the_issue_asks_for(local_run):
    lines = records(local_run.stdout)
    assert len(lines) > GOOD_FILES + 600 and local_run.exit_code == 1
    errors = [line for line in lines if "error" in line]
    assert len(errors) >= 10 and any(".npz#" in line["source"] for line in lines)


def test_streamed_records_are_the_local_engines(cli, folder, ray_instance, local_run):
    started = time.monotonic()
    result = cli("predict", "--engine", "ray", "-f", "jsonl", "-r", str(folder))
    seconds = time.monotonic() - started
    assert result.returncode == local_run.exit_code == 1
    assert result.stderr == local_run.stderr  # each failure, then the same summary
    largest = assert_same_records(records(result.stdout), records(local_run.stdout))
    count = len(result.stdout.splitlines())
    print(f"{count} records in {seconds:.1f} s; largest difference {largest:.1e}")


def test_csv_and_top_k_through_the_local_engines_writers(cli, ray_instance):
    args = ["predict", "-f", "csv", "--top-k", "3", "samples", "missing.png"]
    local, ours = cli(*args), cli(*args[:1], "--engine", "ray", *args[1:])
    assert ours.returncode == local.returncode == 1
    assert ours.stdout.splitlines()[0] == local.stdout.splitlines()[0]  # the columns
    assert [row.split(",")[:2] for row in ours.stdout.splitlines()] == [
        row.split(",")[:2] for row in local.stdout.splitlines()
    ]


@pytest.mark.parametrize("output_format", ["jsonl", "parquet"])
def test_shards_hold_the_same_records(
    cli, folder, ray_instance, local_run, tmp_path, output_format
):
    result = cli(
        "predict",
        "--engine",
        "ray",
        "-r",
        str(folder),
        "--output-dir",
        tmp_path / "out",
        "-f",
        output_format,
    )
    local = records(local_run.stdout)
    failed = sum("error" in line for line in local)
    assert result.returncode == 1 and result.stdout == ""
    summary = f"{len(local) - failed:,} of {len(local):,} inputs predicted, {failed} failed"
    assert result.stderr == f"mnist-edge: {summary}\n"
    shards = sorted((tmp_path / "out").iterdir())
    assert shards and all(shard.suffix == f".{output_format}" for shard in shards)
    ours = read_shards(shards, output_format)
    order = {line["source"]: position for position, line in enumerate(local)}
    ours.sort(key=lambda line: order[line["source"]])  # shards come in no particular order
    print(f"{len(shards)} {output_format} shards")
    assert_same_records(ours, local)


def read_shards(shards: list[Path], output_format: str) -> list[dict]:
    """Records from the shards; Parquet's columns rounded as the jsonl contract rounds."""
    if output_format == "jsonl":
        return [line for shard in shards for line in records(shard.read_text())]
    import pyarrow.parquet

    rows = [row for shard in shards for row in pyarrow.parquet.read_table(shard).to_pylist()]
    return [_as_record(row) for row in rows]


def _as_record(row: dict) -> dict:
    from mnist_edge.runtime.records import Prediction

    probabilities = row["probabilities"]
    array = None if probabilities is None else np.asarray(probabilities, np.float32)
    return record(Prediction(row["source"], array, row["error"]))


def test_the_python_entry_on_read_binary_files(folder, ray_instance, predictor):
    """A user's own Ray job: image bytes from Ray's reader in, predictions out."""
    import ray

    from mnist_edge.scale.engine import predict_dataset

    names = [f"digit-{index:05d}.png" for index in range(300)]
    paths = [str(folder / name) for name in [*names, "truncated.png", "empty.png", "notes.png"]]
    dataset = ray.data.read_binary_files(paths, include_paths=True)
    rows = predict_dataset(dataset, predictor).take_all()  # actors scale, reads get CPUs
    assert set(rows[0]) == {"source", "label", "probability", "probabilities", "error"}
    ours = sorted((_as_record(row) for row in rows), key=lambda line: line["source"])
    local = [record(p) for p in predict_paths(predictor, [Path(path) for path in sorted(paths)])]
    print(f"largest difference {assert_same_records(ours, local):.1e}")


def test_the_python_entry_on_paths(folder, ray_instance, predictor):
    """Rows with only a path: the workers open the files (and report what they cannot)."""
    import ray

    from mnist_edge.scale.engine import predict_dataset

    paths = [str(folder / name) for name in ("digit-00007.png", "truncated.png", "nowhere.png")]
    dataset = ray.data.from_items([{"path": path} for path in paths])
    ours = [_as_record(row) for row in predict_dataset(dataset, workers=1).take_all()]
    local = [record(p) for p in predict_paths(predictor, [Path(path) for path in paths])]
    assert_same_records(ours, local)
    assert ours[2]["error"] == "no such file or directory"


def test_more_workers_than_cpus_is_one_line(cli, ray_instance):
    result = cli("predict", "--engine", "ray", "--workers", "3", "samples")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "mnist-edge: error: 3 workers of 1 threads need 3 CPUs; the cluster has 2\n"
    )


def test_the_installed_command_starts_and_stops_its_own_ray(short_tmp):
    """A real process: only the tool's lines on stderr, and nothing of Ray left behind
    (no temporary files, no processes, no token in the home folder) once it has exited."""
    home = short_tmp / "home"
    environment = without_ray_variables(TMPDIR=str(short_tmp), HOME=str(home))
    started = time.monotonic()
    result = subprocess.run(
        [CLI, "predict", "--engine", "ray", "-f", "jsonl", "samples"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=300,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stderr == "mnist-edge: 10 of 10 inputs predicted\n"
    local = subprocess.run(
        [CLI, "predict", "-f", "jsonl", "samples"], capture_output=True, text=True, cwd=ROOT
    )
    assert_same_records(records(result.stdout), records(local.stdout))
    assert [path for path in short_tmp.iterdir() if "ray" in path.name] == []  # onnxruntime
    # leaves a .ses file in any TMPDIR
    assert not (home / ".ray").exists()  # Ray keeps a local instance's token there by default
    print(f"`predict --engine ray samples`: {seconds:.1f} s, Ray start-up and shut-down included")
    assert processes_left(short_tmp) == []


@pytest.mark.parametrize("pause", [0.0, 1.0], ids=["at-once", "output-waiting"])
def test_sigterm_ends_a_run_and_its_ray(folder, short_tmp, pause):
    """SIGTERM in the middle of a run: exit 143, nothing on stderr, nothing of Ray left. After
    `pause` seconds unread, the output fills its pipe and batches wait in Ray Data's threads
    (one that fetched a block after Ray was shut down made Ray end the process with 1)."""
    process = ray_run_on(folder, short_tmp)
    process.stdout.readline()  # the table's header
    process.stdout.readline()  # a record: Ray runs
    time.sleep(pause)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143 and stderr == b""
    assert [path for path in short_tmp.iterdir() if "ray" in path.name] == []
    assert processes_left(short_tmp) == []


def test_a_reader_that_leaves_ends_a_run_and_its_ray(folder, short_tmp):
    """The reader of the records goes away while batches are in flight: exit 141, nothing on
    stderr, nothing of Ray left."""
    process = ray_run_on(folder, short_tmp)
    process.stdout.readline()
    time.sleep(1.0)  # the pipe fills
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141 and stderr == b""
    assert [path for path in short_tmp.iterdir() if "ray" in path.name] == []
    assert processes_left(short_tmp) == []


def ray_run_on(folder: Path, short_tmp: Path) -> subprocess.Popen:
    """`predict --engine ray` of `folder` 20 times over, as a table: failures in its rows, so
    that stderr has nothing to say until the summary."""
    command = [CLI, "predict", "--engine", "ray", *[str(folder)] * 20]
    environment = {**os.environ, "TMPDIR": str(short_tmp)}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=environment
    )


def without_ray_variables(**variables: str) -> dict[str, str]:
    """This process's environment with `variables`, but none of Ray's (a local instance run
    in this process sets some, and a user's would change what Ray does)."""
    ours = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
    return {**ours, **variables}


def processes_left(folder: Path, grace: float = 2.0) -> list[str]:
    """processes_using(folder) after `grace` seconds for the kernel to finish ending them."""
    deadline = time.monotonic() + grace
    while (left := processes_using(folder)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture
def short_tmp():
    """A temporary folder with a short name: Ray puts its sockets below (107 bytes at most)."""
    folder = Path(tempfile.mkdtemp(prefix="scale-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def processes_using(folder: Path) -> list[str]:
    """The command lines of pids_using(folder)."""
    found = []
    for pid in pids_using(folder):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        found.append(command.decode(errors="replace")[:200])
    return found


def pids_using(folder: Path) -> list[int]:
    """Processes whose environment names `folder` (TMPDIR, which every process the command
    started inherits: Ray's workers rename themselves, but keep their environment)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if os.fsencode(folder) in environment and entry.name != str(os.getpid()):
            found.append(int(entry.name))
    return found
