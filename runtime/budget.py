"""A time budget for every model call: a model that runs too long (an ONNX Loop of 10^12
iterations, a graph far too large for the device) ends with one ModelError, not a hang.

Each thread calls the model with a RunOptions of its own (`Timer`), and a call writes its
deadline there before it starts and clears it after: a clock read and two attribute stores,
well under a microsecond, so the batch-1 path keeps its speed (docs/performance.md). One watchdog
thread serves every call of the process: it wakes every TICK_FRACTION of the smallest budget
in use (at most once a second) and sets `terminate` on the RunOptions of a call past its
deadline. onnxruntime checks that flag before each node it runs, in a Loop's body too (its
own test Loop.InfiniteLoopTermination), and ends the call with an error that `Budget.call`
turns into one line. One operator is not interrupted midway: the call ends when it returns.

The default: a shipped model takes at most ~0.1 s for the largest call the runtime makes
(CHUNK, 1,024 images, the CNN here on a busy machine) and a small board 10-100x more, so 30 s
leaves a margin of 3x on the slowest device while a model that hangs costs one wait, not one
per batch (the Predictor does not call it again). MNIST_EDGE_MODEL_BUDGET changes it.
"""

import os
import threading
import weakref
from collections.abc import Callable
from time import monotonic
from typing import Any, TypeVar

from mnist_edge.core.errors import ModelError

DEFAULT_SECONDS = 30.0
ENVIRONMENT = "MNIST_EDGE_MODEL_BUDGET"  # seconds, for every Predictor of the process
TICK_FRACTION = 0.1  # the watchdog looks this often (a fraction of the budget), so a call
# ends at most 10% past its budget, once its current operator returns
LONGEST_TICK = 1.0  # seconds
SHORTEST_TICK = 0.01
Result = TypeVar("Result")


class BudgetExceeded(ModelError):
    """A model call ran past its budget and was ended."""


def budget_seconds(seconds: float | None = None) -> float:
    """The budget of a model call: `seconds`, else $MNIST_EDGE_MODEL_BUDGET, else 30 s.
    ModelError for a value that is not a positive number of seconds."""
    if seconds is None:
        text = os.environ.get(ENVIRONMENT, "").strip()
        if not text:
            return DEFAULT_SECONDS
        try:
            seconds = float(text)
        except ValueError:
            raise ModelError(f"{ENVIRONMENT}={text[:40]!r}: not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise ModelError(
            f"a model's time budget must be a positive number of seconds, not {seconds}"
        )
    return float(seconds)


class Timer:
    """One thread's model calls: the RunOptions they run with, and the current deadline
    (0.0 between calls). A thread makes one call at a time, so one Timer serves them all."""

    __slots__ = ("options", "deadline", "__weakref__")

    def __init__(self) -> None:
        import onnxruntime

        self.options = onnxruntime.RunOptions()
        self.deadline = 0.0


class Budget:
    """One model's time budget: how long a call may take, and whether one took longer (then
    the model is not called again: a model that hangs on one batch would hang on the next,
    and a run would wait the budget once per batch)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = budget_seconds(seconds)
        self.exceeded: str | None = None  # why the model is not called any more
        _WATCHDOG.expect(self.seconds)

    def timer(self) -> Timer:
        """The calling thread's Timer, watched by the watchdog."""
        timer = getattr(_local, "timer", None)
        if timer is None:
            timer = _local.timer = Timer()
            _WATCHDOG.watch(timer)
        return timer

    def call(self, timer: Timer, size: int, run: Callable[[Any, Any], Result], arg: Any) -> Result:
        """`run(arg, timer.options)`, ended by the watchdog past the budget: BudgetExceeded
        then, naming how many images (`size`) the call had. (One argument, not *args: this
        is the batch-1 path, where packing a tuple shows.)"""
        if self.exceeded is not None:
            raise ModelError(self.exceeded)
        deadline = timer.deadline = monotonic() + self.seconds
        try:
            return run(arg, timer.options)
        except Exception:
            if not timer.options.terminate:
                raise  # the model's own failure: the caller reports it
            timer.options.terminate = False
            if monotonic() < deadline:  # the flag was meant for this thread's previous
                # call, which returned just before the watchdog set it: run this one again
                return self.call(timer, size, run, arg)
            self.exceeded = (
                f"not run: the model took longer than {self.seconds:g} s on an earlier batch"
            )
            raise BudgetExceeded(
                f"the model took longer than {self.seconds:g} s on a batch of {size:,}"
            ) from None
        finally:
            timer.deadline = 0.0


class _Watchdog:
    """The thread that ends calls past their deadline; started by the first Timer."""

    def __init__(self) -> None:
        self._timers: weakref.WeakSet[Timer] = weakref.WeakSet()  # a dead thread's goes
        self._lock = threading.Lock()
        self._tick = LONGEST_TICK
        self._retick = threading.Event()  # set when the tick shortens: sleep less at once
        self._thread: threading.Thread | None = None
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        """In a child process, which has none of its parent's threads: a watchdog of its own
        for the Timers it inherited."""
        self._lock, self._retick, self._thread = threading.Lock(), threading.Event(), None
        if self._timers:
            self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="model-budget", daemon=True)
        self._thread.start()

    def watch(self, timer: Timer) -> None:
        with self._lock:
            self._timers.add(timer)
            if self._thread is None:
                self._start()

    def expect(self, seconds: float) -> None:
        """Look often enough for a budget of `seconds`."""
        tick = max(SHORTEST_TICK, min(self._tick, seconds * TICK_FRACTION))
        if tick < self._tick:
            self._tick = tick
            self._retick.set()

    def _run(self) -> None:
        while True:
            if self._retick.wait(self._tick):
                self._retick.clear()
            now = monotonic()
            with self._lock:
                timers = list(self._timers)
            for timer in timers:
                deadline = timer.deadline
                if deadline and now > deadline:
                    timer.options.terminate = True


_local = threading.local()
_WATCHDOG = _Watchdog()
