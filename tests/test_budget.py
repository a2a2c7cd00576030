"""Every model call has a time budget (runtime/budget.py): a model that never answers (an ONNX
Loop of 10^12 steps, harness/broken_models.py) ends with one line, and is not called again.

Each call that must end is run in a thread joined with HANG_SECONDS, so that a watchdog that
fails makes the test fail instead of hanging the suite. Times are printed, not asserted,
except that a stopped call did wait its budget (a lower bound no load can break).
"""

import multiprocessing
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from harness.broken_models import endless_loop_model
from mnist_edge.core.errors import ModelError
from mnist_edge.runtime.budget import DEFAULT_SECONDS, ENVIRONMENT, budget_seconds
from mnist_edge.runtime.predictor import SMALL_BATCH, Predictor

BUDGET = 0.3  # seconds: long enough for a real call on a busy machine, short for a test
HANG_SECONDS = 60  # far past any budget here: a call still running then has hung


@pytest.fixture(scope="module")
def endless(tmp_path_factory) -> Path:
    return endless_loop_model(tmp_path_factory.mktemp("models") / "endless.onnx")


def outcome(call) -> tuple[object, float]:
    """What `call()` returned or raised, and its seconds; fails if it runs past HANG_SECONDS."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(call())
        except Exception as error:  # the outcome under test
            result.append(error)

    started = time.perf_counter()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    assert not thread.is_alive(), f"the call still runs after {HANG_SECONDS} s"
    return result[0], time.perf_counter() - started


@pytest.mark.parametrize("images", [1, SMALL_BATCH + 1])  # the bound path, the pool's
def test_a_model_that_never_answers_is_stopped_at_its_budget(endless, x_test, images):
    predictor = Predictor(endless, budget=BUDGET)
    error, seconds = outcome(lambda: predictor.predict(x_test[:images]))
    print(f"\nstopped after {seconds:.2f} s (budget {BUDGET} s, batch of {images})")
    assert isinstance(error, ModelError)
    assert str(error) == f"the model took longer than {BUDGET} s on a batch of {images}"
    assert seconds >= BUDGET


def test_a_stopped_model_is_not_called_again(endless, x_test):
    """A model that hangs on one batch would hang on the next: every later call fails at once,
    saying why, so a run over many batches waits the budget once."""
    predictor = Predictor(endless, budget=BUDGET)
    outcome(lambda: predictor.predict(x_test[:1]))
    for images in (x_test[:1], x_test[:100], x_test[:2000].astype(np.float32) / 255):
        error, seconds = outcome(lambda images=images: predictor.predict(images))
        print(f"later call on {len(images)} images: {seconds * 1000:.1f} ms")
        assert str(error) == f"not run: the model took longer than {BUDGET} s on an earlier batch"


def test_a_model_that_answers_in_time_is_untouched(x_test):
    """The shipped model under a short budget: the same probabilities as under the default,
    for one image, a small batch and one past a chunk."""
    quick, default = Predictor(budget=BUDGET), Predictor()
    for images in (x_test[:1], x_test[:SMALL_BATCH], x_test[:1500]):
        assert np.array_equal(quick.predict(images), default.predict(images))


def test_a_stale_terminate_flag_does_not_end_the_next_call(x_test):
    """The watchdog may set a call's flag just as it returns; the thread's next call must run
    anyway (and leave the flag cleared), not fail as if it had taken too long."""
    predictor = Predictor()
    expected = predictor.predict(x_test[:1])
    timer = predictor.budget.timer()
    timer.options.terminate = True
    assert np.array_equal(predictor.predict(x_test[:1]), expected)
    assert timer.options.terminate is False


def test_the_budget_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert budget_seconds() == DEFAULT_SECONDS == 30
    monkeypatch.setenv(ENVIRONMENT, " 2.5 ")
    assert budget_seconds() == 2.5
    assert budget_seconds(7) == 7.0
    assert Predictor().budget.seconds == 2.5


@pytest.mark.parametrize("text", ["soon", "0", "-1", "inf", "nan"])
def test_a_budget_that_is_not_a_positive_number_is_one_line(monkeypatch, text):
    monkeypatch.setenv(ENVIRONMENT, text)
    with pytest.raises(ModelError, match="seconds") as caught:
        Predictor()
    assert "\n" not in str(caught.value)


def _predict_in_child(model: Path, images: np.ndarray, answers) -> None:
    predictor = Predictor(model, budget=BUDGET)
    try:
        predictor.predict(images)
        answers.put("answered")
    except ModelError as error:
        answers.put(str(error))


@pytest.mark.slow
def test_a_forked_child_has_a_watchdog_of_its_own(endless, x_test):
    """A child forked after the watchdog started has none of its parent's threads: the budget
    must still end its calls."""
    Predictor(budget=BUDGET).predict(x_test[:1])  # the watchdog runs in this process
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_predict_in_child, args=(endless, x_test[:1], answers))
    child.start()
    child.join(HANG_SECONDS)
    if child.is_alive():
        child.kill()
        pytest.fail(f"the child's call still runs after {HANG_SECONDS} s")
    assert answers.get(timeout=5) == f"the model took longer than {BUDGET} s on a batch of 1"
