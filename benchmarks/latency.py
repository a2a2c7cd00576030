"""Batch-1 latency with the candidates interleaved in one process: mnist-edge beside TensorFlow
Lite, and what each change to the Predictor's single-image path bought.

A call takes a few microseconds, and on a shared machine that moves with whatever else runs.
So the candidates take turns: ROUNDS rounds of CALLS calls each, the order reversed every
other round. A candidate's median and p99 are over all its calls; its ratio to another is
taken within each round (both ran within milliseconds of each other), then the median over
the rounds, which holds still when the machine's load changes between rounds.
`idle_and_busy` does the same with the machine's last core alternately left alone and
running a busy loop (benchmarks/busy.py), a Timing for each.
"""

import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks.busy import BusyCore
from mnist_edge.core.contract import IMAGE_SIZE
from mnist_edge.runtime.arrays import checked_pixels, image_count
from mnist_edge.runtime.bound import BoundSession
from mnist_edge.runtime.predictor import SMALL_BATCH, Predictor, open_session
from mnist_edge.runtime.rows import probabilities_in

ROUNDS = 60
CALLS = 250  # per candidate and round
WARMUP = 200  # calls per candidate before the first round: caches, allocators, thread pools
THROUGHPUT_ROUNDS = 10  # rounds of one call on a large batch each, for the folding step
CROSSOVER_SIZES = (1, 2, 4, 8, 16, 32, 64)  # batch sizes timed on one thread and on the pool
CROSSOVER_ROUNDS = 30


@dataclass(frozen=True)
class Timing:
    samples: list[float]  # every call, in microseconds
    round_medians: list[float]  # the median of each round

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99_us(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]

    def ratio_to(self, other: "Timing") -> float:
        """Median over the rounds of (this round's median / the other's)."""
        pairs = zip(self.round_medians, other.round_medians, strict=True)
        return statistics.median(mine / theirs for mine, theirs in pairs)


def interleaved(
    calls: dict[str, Callable[[], object]],
    rounds: int = ROUNDS,
    per_round: int = CALLS,
    warmup: int = WARMUP,
) -> dict[str, Timing]:
    """Every candidate timed in turns with the others."""
    for call in calls.values():
        _times_us(call, warmup)
    timings = {name: Timing([], []) for name in calls}
    for turn in range(rounds):
        _round(calls, turn, per_round, timings)
    return timings


IDLE, BUSY = "second core idle", "second core busy"


def idle_and_busy(
    calls: dict[str, Callable[[], object]], rounds: int = ROUNDS, per_round: int = CALLS
) -> dict[str, dict[str, Timing]]:
    """IDLE and BUSY -> every candidate's Timing: `rounds` rounds of each, alternating two by
    two, so that both orders of the candidates meet both conditions."""
    timings = {condition: {name: Timing([], []) for name in calls} for condition in (IDLE, BUSY)}
    with BusyCore() as busy:
        for condition in (IDLE, BUSY):  # warm up in both: the thread pools spin differently
            busy.set(condition == BUSY)
            for call in calls.values():
                _times_us(call, WARMUP)
        for turn in range(2 * rounds):
            condition = BUSY if turn % 4 >= 2 else IDLE
            busy.set(condition == BUSY)
            _round(calls, turn, per_round, timings[condition])
    return timings


def _round(
    calls: dict[str, Callable[[], object]], turn: int, per_round: int, timings: dict[str, Timing]
) -> None:
    for name in list(calls) if turn % 2 == 0 else list(reversed(calls)):
        times = _times_us(calls[name], per_round)
        timings[name].samples.extend(times)
        timings[name].round_medians.append(statistics.median(times))


def _times_us(call: Callable[[], object], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - started) / 1000)
    return times


# The single-image path as it was, then with each change added to the one before.
BEFORE = "before: `session.run` on the thread pool, every image checked"
UNCHECKED = "uint8 batches go to the model as they are (not re-checked, reshaped or copied)"
ONE_THREAD = f"batches up to {SMALL_BATCH} in a one-thread session (no thread pool to wake)"
BOUND = "input and output buffers bound once per thread (IOBinding)"
FOLDED = (
    "export passes: `pixels / 255` folded into the first layer's weights; int8: the "
    "QuantizeLinear of the uint8 input (scale 1) dropped"
)
DIRECT = (
    "onnxruntime's C++ method called directly, with one RunOptions per thread; rows checked "
    "on the bound output buffer"
)
BUDGETED = "every call under the time budget (a deadline written before it, cleared after)"
STEPS = (BEFORE, UNCHECKED, ONE_THREAD, BOUND, FOLDED, DIRECT, BUDGETED)


def path_steps(readable: bytes, optimised: bytes) -> dict[str, Callable[[np.ndarray], object]]:
    """`predict(images)` at each step of STEPS. Every step is a Predictor with the parts not
    yet changed put back as they were, so that two neighbouring steps differ by one change
    only: the readable graph up to BOUND, the optimised one from FOLDED, today's Predictor
    at BUDGETED. The earlier steps are for small uint8 batches only (no chunking)."""
    pool = open_session(readable, "readable.onnx", threads=None)
    single = open_session(readable, "readable.onnx", threads=1)
    before, unchecked, one_thread, bound = (
        Predictor(readable, name="readable.onnx") for _ in range(4)
    )
    before._run = unchecked._run = _session_run(pool, bound)
    one_thread._run = _session_run(single, bound)
    folded, direct, budgeted = (Predictor(optimised, name="optimised.onnx") for _ in range(3))
    for predictor in (bound, folded):
        predictor._small = _rebound(predictor, _WrapperBound)
    direct._small = _rebound(direct, _UnbudgetedBound)
    steps = (
        functools.partial(_predict_as_before, before),
        unchecked.predict,
        one_thread.predict,
        bound.predict,
        folded.predict,
        direct.predict,
        budgeted.predict,
    )
    return dict(zip(STEPS, steps, strict=True))


class _WrapperBound(BoundSession):
    """BoundSession.run as it was: onnxruntime's Python wrapper of the bound call, without a
    RunOptions, and the rows left to `row_problems` (on the copy)."""

    def run(self, batch: np.ndarray, check: bool = False) -> tuple[np.ndarray, bool]:
        buffers = self._buffers(len(batch))
        buffers.images[...] = batch
        self.session.run_with_iobinding(buffers.io_binding)
        return buffers.probabilities.copy(), False

    def _buffers(self, size: int):
        lane = self.lane()
        return lane.by_size.get(size) or self._bind(lane, size)


class _UnbudgetedBound(BoundSession):
    """BoundSession.run without the time budget: the C++ method called bare."""

    def run(self, batch: np.ndarray, check: bool = False) -> tuple[np.ndarray, bool]:
        lane = self.lane()
        buffers = lane.by_size.get(len(batch)) or self._bind(lane, len(batch))
        buffers.images[...] = batch
        self._run(buffers.binding, lane.timer.options)
        checked = check and probabilities_in(buffers.values, buffers.bits)
        return buffers.probabilities.copy(), checked


def _rebound(predictor: Predictor, kind: type[BoundSession]) -> BoundSession:
    small = predictor._small
    return kind(small.session, predictor.input.name, predictor.output.name, small.budget)


def bound_call(predictor: Predictor, image: np.ndarray) -> Callable[[], object]:
    """onnxruntime's bare bound call on one image: the Predictor's C++ method on its bound
    buffers, filled once, with its RunOptions, run again and again with nothing around it
    (the floor of any Python caller of onnxruntime)."""
    small = predictor._small
    small.run(image)  # binds this thread's buffers for one image and fills them
    lane = small.lane()
    binding, options = lane.by_size[len(image)].binding, lane.timer.options
    return functools.partial(small._run, binding, options)


def copying_call(predictor: Predictor, image: np.ndarray) -> Callable[[], object]:
    """The bare bound call with the image copied in and the probabilities copied out: what
    any Python caller that takes an array and returns a new one cannot do without."""
    small = predictor._small
    small.run(image)
    lane = small.lane()
    buffers, options = lane.by_size[len(image)], lane.timer.options

    def call() -> np.ndarray:
        buffers.images[...] = image
        small._run(buffers.binding, options)
        return buffers.probabilities.copy()

    return call


def required_call(predictor: Predictor, image: np.ndarray) -> Callable[[], object]:
    """The bare bound call with everything the runtime requires around it, in one function:
    the image copied in, the call under its deadline (runtime/budget.py), every row checked
    (runtime/rows.py), the probabilities copied out. What `Predictor.predict` costs beyond
    this is its own dispatch: checking its argument, finding the thread's buffers."""
    small = predictor._small
    small.run(image)
    lane = small.lane()
    buffers, timer, run, seconds = (
        lane.by_size[len(image)],
        lane.timer,
        small._run,
        small.budget.seconds,
    )
    binding, options, values, bits = buffers.binding, timer.options, buffers.values, buffers.bits

    def call() -> np.ndarray:
        buffers.images[...] = image
        timer.deadline = time.monotonic() + seconds
        try:
            run(binding, options)
        finally:
            timer.deadline = 0.0
        if not probabilities_in(values, bits):
            raise AssertionError("the model gave rows that are not probabilities")
        return buffers.probabilities.copy()

    return call


def _session_run(session, predictor: Predictor) -> Callable[..., tuple[np.ndarray, bool]]:
    """Predictor._run as it was: `session.run` with an input dict, on a contiguous batch."""
    fetch, feed = [predictor.output.name], predictor.input.name
    return lambda batch, check=False: (
        session.run(fetch, {feed: np.ascontiguousarray(batch)})[0],
        False,
    )


def _predict_as_before(predictor: Predictor, images: np.ndarray) -> object:
    """Predictor.predict as it was for a small batch: reshaped, and every image checked."""
    array = np.asarray(images)
    batch = array.reshape(image_count(array.shape, array.dtype), IMAGE_SIZE, IMAGE_SIZE)
    pixels, problems = checked_pixels(batch)
    for index, problem in enumerate(problems):
        if problem is not None:
            raise ValueError(f"image {index}: {problem}")
    return predictor._run(np.ascontiguousarray(pixels))[0]


def step_timings(readable: bytes, optimised: bytes, image: np.ndarray) -> dict[str, Timing]:
    """Batch-1 timings of every step of STEPS, interleaved. Each step must give what BEFORE
    gives (bit for bit except FOLDED and later: those run the optimised graph)."""
    steps = path_steps(readable, optimised)
    expected = steps[BEFORE](image)
    for name, predict in steps.items():
        if STEPS.index(name) < STEPS.index(FOLDED) and not np.array_equal(predict(image), expected):
            raise AssertionError(f"'{name}' changes the probabilities")
    return interleaved({name: calling(predict, image) for name, predict in steps.items()})


def folding_throughput(readable: bytes, optimised: bytes, images: np.ndarray) -> float:
    """Images/s of the optimised graph over the readable one's (today's Predictor, one call on
    all `images` each, alternating), median of the ratios of THROUGHPUT_ROUNDS rounds."""
    calls = {
        "readable": calling(Predictor(readable, name="readable.onnx").predict, images),
        "optimised": calling(Predictor(optimised, name="optimised.onnx").predict, images),
    }
    timings = interleaved(calls, rounds=THROUGHPUT_ROUNDS, per_round=1, warmup=1)
    return timings["readable"].ratio_to(timings["optimised"])


def calling(predict: Callable[[np.ndarray], object], images: np.ndarray) -> Callable[[], object]:
    """A call of `predict` on `images`, as `interleaved` takes it."""
    return lambda: predict(images)


def crossover(model: bytes, images: np.ndarray) -> dict[int, tuple[Timing, Timing]]:
    """Batch size -> (one-thread session, thread-pool session) timings, interleaved: where the
    pool starts to pay, which is what SMALL_BATCH should be."""
    one = open_session(model, "model.onnx", threads=1)
    pool = open_session(model, "model.onnx", threads=None)
    feed = one.get_inputs()[0].name
    timings = {}
    for size in CROSSOVER_SIZES:
        batch = {feed: np.ascontiguousarray(images[:size])}
        calls = {"one": _run(one, batch), "pool": _run(pool, batch)}
        result = interleaved(calls, rounds=CROSSOVER_ROUNDS, per_round=max(20, CALLS // size))
        timings[size] = (result["one"], result["pool"])
    return timings


def _run(session, feed: dict[str, np.ndarray]) -> Callable[[], object]:
    return lambda: session.run(None, feed)
