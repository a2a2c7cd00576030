"""The batch-1 benchmark's machinery (benchmarks/latency.py, busy.py): its statistics, its
turn-taking, the busy second core, and calls that differ in overhead only. The timings
themselves are not judged here.

Beside the benchmarks rather than in tests/, so that tests/ never imports benchmarks/ (pytest
collects both folders; `make check` runs it)."""

import os
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.busy import BusyCore
from benchmarks.latency import (
    BUSY,
    IDLE,
    STEPS,
    Timing,
    bound_call,
    copying_call,
    idle_and_busy,
    interleaved,
    path_steps,
    required_call,
)
from mnist_edge.core.mnist import load_mnist
from mnist_edge.runtime import Predictor
from mnist_edge.runtime.catalog import TUTORIAL, shipped_path


@pytest.fixture(scope="module")
def x_test() -> np.ndarray:
    return load_mnist().x_test


def test_ratios_are_taken_within_rounds():
    """Round medians 10/20/40 against 5/10/20: 2.0 in every round, whatever the load did."""
    mine = Timing(samples=[10.0, 20.0, 40.0], round_medians=[10.0, 20.0, 40.0])
    reference = Timing(samples=[5.0, 10.0, 20.0], round_medians=[5.0, 10.0, 20.0])
    assert mine.ratio_to(reference) == 2.0
    assert mine.median_us == 20.0 and mine.p99_us == 40.0


def test_candidates_take_turns_in_alternating_order():
    seen = []
    calls = {name: (lambda name=name: seen.append(name)) for name in "abc"}
    timings = interleaved(calls, rounds=4, per_round=2, warmup=0)
    assert "".join(seen) == "aabbcc" + "ccbbaa" + "aabbcc" + "ccbbaa"
    assert all(len(t.samples) == 8 and len(t.round_medians) == 4 for t in timings.values())


def test_every_step_gives_the_predictors_probabilities(x_test):
    """The steps before BOUND put old parts back into a Predictor: same arithmetic, so the
    same probabilities bit for bit, for one image and for a small batch."""
    for model in (shipped_path(TUTORIAL), shipped_path(TUTORIAL, int8=True)):
        graph = model.read_bytes()
        steps = path_steps(graph, graph)
        assert list(steps) == list(STEPS)
        for images in (x_test[:1], x_test[1:6]):
            expected = Predictor(graph).predict(images)
            for name, predict in steps.items():
                assert np.array_equal(predict(images), expected), f"{model.name}: {name}"


def test_the_bare_call_runs_on_the_predictors_own_buffers(x_test):
    """The floor row times the very call the Predictor makes, on an image it has bound."""
    predictor = Predictor(TUTORIAL)
    bound_call(predictor, x_test[7:8])()
    buffers = predictor._small.lane().by_size[1]
    assert np.array_equal(buffers.images, x_test[7:8])
    assert np.array_equal(buffers.probabilities, Predictor(TUTORIAL).predict(x_test[7:8]))


def test_the_copying_floor_copies_in_runs_and_copies_out(x_test):
    """What it times is a real prediction: the image's probabilities, in a new array."""
    predictor = Predictor(TUTORIAL)
    first, second = copying_call(predictor, x_test[3:4])(), copying_call(predictor, x_test[3:4])()
    assert first is not second
    assert np.array_equal(first, Predictor(TUTORIAL).predict(x_test[3:4]))


def test_the_required_floor_predicts_and_refuses_what_is_not_probabilities(x_test, tmp_path):
    """What it times is the Predictor's own work without its dispatch: the same probabilities
    in a new array, and a model whose rows are not probabilities refused."""
    from harness.broken_models import logits_model

    predictor = Predictor(TUTORIAL)
    call = required_call(predictor, x_test[3:4])
    first, second = call(), call()
    assert first is not second
    assert np.array_equal(first, Predictor(TUTORIAL).predict(x_test[3:4]))
    logits = Predictor(logits_model(tmp_path / "logits.onnx"))
    with pytest.raises(AssertionError, match="not probabilities"):
        required_call(logits, x_test[3:4])()


def process_state(pid: int) -> str:
    """R (running), S (sleeping), T (stopped)... from /proc."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def settles_to(pid: int, states: str, seconds: float = 10.0) -> str:
    """The process's state once it is one of `states` (a signal takes effect when the kernel
    next schedules the process: on a busy machine, not at once); its last state otherwise."""
    deadline = time.monotonic() + seconds
    state = process_state(pid)
    while state not in states and time.monotonic() < deadline:
        time.sleep(0.01)
        state = process_state(pid)
    return state


def test_the_busy_core_spins_only_while_set_and_goes_away():
    with BusyCore() as busy:
        pid = busy._process.pid
        assert os.sched_getaffinity(pid) == {max(os.sched_getaffinity(0))}
        assert settles_to(pid, "T") == "T"
        busy.set(True)
        assert settles_to(pid, "RS") in "RS"  # running, or waiting for its turn on the core
        busy.set(False)
        assert settles_to(pid, "T") == "T"
    assert not Path(f"/proc/{pid}").exists()


def test_idle_and_busy_rounds_alternate_two_by_two(monkeypatch):
    """Both conditions see both orders of the candidates, and as many rounds each."""
    states = []
    monkeypatch.setattr(BusyCore, "set", lambda self, busy: states.append(busy))
    calls = {name: (lambda: None) for name in "ab"}
    timings = idle_and_busy(calls, rounds=4, per_round=3)
    assert states[3:] == [False, False, True, True] * 2  # after: stopped, warm-ups in both
    for condition in (IDLE, BUSY):
        assert all(
            len(t.round_medians) == 4 and len(t.samples) == 12 for t in timings[condition].values()
        )


def test_the_tables_and_targets_take_each_ratio_against_its_own_kind():
    """Made-up timings (TensorFlow Lite 10 µs, the bare call 12, copying 13, all that is
    required 14.4, the Predictor 15, twice that in every other round): each ratio is to the
    same model and threads, as the rounds give it; 15 / 12 misses the 1.1 target."""
    from benchmarks.batch_one import BARE, COPYING, PREDICTOR, REQUIRED, TFLITE, BatchOne, rows
    from benchmarks.batch_one_report import like_for_like_table, overhead_table
    from benchmarks.targets import batch_one_verdicts

    micros = {TFLITE: 10.0, BARE: 12.0, COPYING: 13.0, REQUIRED: 14.4, PREDICTOR: 15.0}
    timings = {
        condition: {
            row.name: Timing([micros[row.engine]] * 4, [micros[row.engine], 2 * micros[row.engine]])
            for row in rows()
        }
        for condition in (IDLE, BUSY)
    }
    result = BatchOne(timings, {}, {}, {}, {}, 1, (0.0, 0.0))
    like = like_for_like_table(result)
    assert like.count("| 1.20 | 1.20 |") == 4  # the bare call, each model and threads
    assert like.count("| 1.50 | 1.50 |") == 4  # the Predictor
    overhead = overhead_table(result).splitlines()
    assert overhead[2] == "| float32 | 1 | 1.25× | 1.25× | 1.08× | 1.08× | 1.20× | 1.20× |"
    assert overhead[3] == "| float32 | 2 | 1.25× | 1.25× |  |  |  |  |"
    verdicts = batch_one_verdicts(result)
    measured = "1.25× (all that is required, inline: 1.20×)"
    assert [verdict.measured for verdict in verdicts[::2]] == [measured, measured]
    assert not any(verdict.met for verdict in verdicts)
