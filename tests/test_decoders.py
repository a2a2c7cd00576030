"""Small images decoded in worker processes: the same records as in-process, in order, and no
worker left behind however the run ends."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.processes import as_at_a_terminal
from mnist_edge.runtime import pipeline
from mnist_edge.runtime.decode import decode_image
from mnist_edge.runtime.decoders import ProcessDecoder
from mnist_edge.runtime.sources import ImageFile, expand
from tests.hostile import make_hostile

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mnist-edge"))
GOOD = 3000  # small files before the hostile ones: the workers are ready by then, or soon


def small_pngs(folder: Path, x_test: np.ndarray, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{index:05d}.png" for index in range(count)]
    for index, path in enumerate(paths):
        Image.fromarray(x_test[index % len(x_test)]).save(path)
    return paths


def predict(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "predict", "-f", "jsonl", *args], capture_output=True, timeout=300, **options
    )


def test_processes_give_the_records_one_thread_gives_hostile_inputs_included(tmp_path, x_test):
    """A folder of small images, then the hostile corpus, in sub-folders read in order: two
    worker processes and one in-process thread write the same bytes and exit codes."""
    small_pngs(tmp_path / "a-small", x_test, GOOD)
    make_hostile(tmp_path / "b-hostile", x_test)
    (tmp_path / "c-small").mkdir()
    for index in range(200):  # after the hostile files, still in the processes
        Image.fromarray(x_test[index]).save(tmp_path / "c-small" / f"{index}.png")
    processes = predict("-r", "--workers", "2", str(tmp_path))
    thread = predict("-r", "--workers", "1", str(tmp_path))
    assert processes.returncode == thread.returncode == 1
    assert processes.stdout == thread.stdout
    assert processes.stderr == thread.stderr
    assert processes.stdout.count(b"\n") > GOOD + 200


def test_worker_processes_give_the_items_of_the_thread(tmp_path, x_test, monkeypatch):
    """Every image file of the hostile corpus (its first is small) decoded by two workers,
    started at the first file and waited for: the same items, in order, as in-process."""
    make_hostile(tmp_path, x_test)
    sources = list(expand([tmp_path], recursive=True))
    sent: list[ImageFile] = []
    start, submit = ProcessDecoder.start, ProcessDecoder.submit

    def start_and_wait(decoder: ProcessDecoder) -> None:
        start(decoder)
        assert all(worker.ready.wait(60) for worker in decoder._workers)

    def counted(decoder: ProcessDecoder, files: list[ImageFile]):
        sent.extend(files)
        return submit(decoder, files)

    monkeypatch.setattr(pipeline, "PROCESSES_START", 1)
    monkeypatch.setattr(ProcessDecoder, "start", start_and_wait)
    monkeypatch.setattr(ProcessDecoder, "submit", counted)
    by_workers = list(pipeline.decoded(sources, 512, workers=2))
    assert sent == [source for source in sources if isinstance(source, ImageFile)]
    in_thread = list(pipeline.decoded(sources, 512, workers=1))
    assert len(by_workers) == len(in_thread) > len(sent) > 20
    for ours, theirs in zip(by_workers, in_thread, strict=True):
        assert (ours.source, ours.error, ours.label) == (theirs.source, theirs.error, theirs.label)
        assert (ours.image is None) == (theirs.image is None)
        assert ours.image is None or np.array_equal(ours.image, theirs.image)


def test_a_killed_worker_costs_its_files_an_error_each_and_the_next_group_goes_on(tmp_path, x_test):
    files = [ImageFile(path) for path in small_pngs(tmp_path, x_test, 8)]
    with ProcessDecoder(1) as decoder:
        decoder.start()
        worker = decoder._workers[0]
        os.kill(worker.process.pid, signal.SIGSTOP)  # holds the group it is sent
        held = decoder.submit(files[:4])
        os.kill(worker.process.pid, signal.SIGKILL)
        lost = held.result(timeout=30)
        assert [item.source for item in lost] == [str(file.path) for file in files[:4]]
        assert {item.error for item in lost} == {
            "not decoded: its decoding process stopped (killed by signal 9)"
        }
        after = decoder.submit(files[4:]).result(timeout=30)  # a new worker
    expected = [decode_image(file) for file in files[4:]]
    assert [item.error for item in after] == [None] * 4
    assert all(np.array_equal(a.image, b.image) for a, b in zip(after, expected, strict=True))


def children(pid: int) -> set[int]:
    """The processes `pid` started (Linux: /proc/PID/task/*/children)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def gone_within(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("cores", [1, 2])
def test_by_default_a_worker_per_core_but_the_commands_own(tmp_path, x_test, cores):
    """The command keeps a core busy itself (listing, model, records): on `cores` cores it
    starts cores - 1 decoding processes (none on one core)."""
    cores = min(cores, len(os.sched_getaffinity(0)))  # a 1-core machine tests 1 twice
    small_pngs(tmp_path, x_test, 20_000)
    process = subprocess.Popen(
        [CLI, "predict", "-f", "jsonl", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores]),
    )
    seen: set[int] = set()
    for lines, _ in enumerate(iter(process.stdout.readline, b"")):
        if lines % 1000 == 0:
            seen |= children(process.pid)  # started by the 128th file, ready ~0.1 s later
    assert process.wait(timeout=60) == 0 and lines + 1 == 20_000
    assert len(seen) == cores - 1


@pytest.mark.parametrize(("cores", "processes"), [(1, 0), (2, 1), (3, 2), (5, 4), (64, 4)])
def test_the_default_number_of_decoding_processes(monkeypatch, cores, processes):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert pipeline.Decoding(None)._processes_wanted() == processes
    assert pipeline.Decoding(1)._processes_wanted() == 0  # --workers 1: all in the command
    assert pipeline.Decoding(3)._processes_wanted() == 3


@pytest.mark.parametrize(("cores", "workers", "threads"), [(2, None, 1), (8, None, 4), (8, 6, 2)])
def test_the_model_leaves_the_decoding_processes_their_cores(
    tmp_path, x_test, monkeypatch, cores, workers, threads
):
    """Once decoding processes start, the model's larger batches run on the cores they leave;
    a thread count asked for is kept. The records are the same either way."""
    from mnist_edge.runtime.predictor import Predictor

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    small_pngs(tmp_path, x_test, pipeline.PROCESSES_START + 300)
    options = pipeline.PipelineOptions(workers=workers)
    shared, asked = Predictor("cnn", spinning=False), Predictor("cnn", threads=3, spinning=False)
    mine = [p.probabilities for p in pipeline.predict_paths(shared, [tmp_path], options)]
    theirs = [p.probabilities for p in pipeline.predict_paths(asked, [tmp_path], options)]
    assert (shared._threads, asked._threads) == (threads, 3)
    assert np.array_equal(np.stack(mine), np.stack(theirs))
    assert np.array_equal(np.stack(mine), Predictor("cnn").predict(x_test[: len(mine)]))


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM", "SIGKILL", "closed pipe"])
def test_no_worker_outlives_the_run(tmp_path, x_test, stop):
    small_pngs(tmp_path, x_test, 20_000)
    process = subprocess.Popen(
        [CLI, "predict", "-f", "jsonl", "--workers", "2", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=as_at_a_terminal,
    )
    workers: set[int] = set()
    for lines, _ in enumerate(iter(process.stdout.readline, b"")):
        if lines >= 3000 and len(workers := children(process.pid)) == 2:
            break  # both started, and the run well under way
    assert len(workers) == 2
    if stop == "closed pipe":
        process.stdout.close()
    else:
        process.send_signal(getattr(signal, stop))
    process.wait(timeout=60)
    assert gone_within(workers, 10), f"left running: {workers}"
    stderr = process.stderr.read()
    assert b"Traceback" not in stderr
    if stop == "SIGINT":
        assert process.returncode == 130
    if stop == "closed pipe":
        assert process.returncode == 141
