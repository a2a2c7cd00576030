"""Small batches through onnxruntime with buffers bound once, one set per thread.

At batch 1 the model's arithmetic (0.4 MFLOP) takes well under a microsecond; the rest of a
call is overhead. `session.run` builds an input dict, checks names, allocates the output and
wraps it on every call; an IOBinding bound once to an input and an output buffer does none of
that, so a call is: copy the pixels in, run, copy the probabilities out.

The run is the session's own C++ method (`session._sess`, as onnxruntime's Python wrapper
calls it, from 1.17 to 1.32), with a RunOptions made once per thread: the wrapper's
`run_with_iobinding` costs ~10% more per call, and on onnxruntime 1.31 and 1.32 ~24 µs more
when given a RunOptions (it looks up an absent graph-capture entry, which raises a C++
exception), and a RunOptions is how the time budget ends a call (runtime/budget.py).

A bound buffer must not be shared between concurrent calls (a service calls the Predictor
from a pool of worker threads), so each thread gets its own bindings, one per batch size up
to the caller's limit: at most a few kilobytes a thread.
"""

import threading
from dataclasses import dataclass, field

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.runtime.budget import Budget, Timer
from mnist_edge.runtime.rows import probabilities_in


@dataclass(frozen=True, slots=True)
class _Buffers:
    io_binding: object  # onnxruntime.IOBinding, the Python wrapper of `binding` (unused
    # here; benchmarks/latency.py times the wrapper's call through it)
    binding: object  # its C++ SessionIOBinding, bound to the two arrays below
    images: np.ndarray  # uint8 (N, 28, 28), the model's input
    probabilities: np.ndarray  # float32 (N, 10), the model's output
    values: "memoryview[float]"  # the output's values ("f") and bits ("I"), flat, made once:
    bits: "memoryview[int]"  # the row check costs a third of what it costs on a new array


@dataclass(frozen=True, slots=True)
class _Lane:
    """What one thread needs to call the session: its Timer and its buffers by batch size."""

    timer: Timer
    by_size: dict[int, _Buffers] = field(default_factory=dict)


class BoundSession:
    """`run(batch)`: the session on a uint8 (N, 28, 28) batch, through per-thread buffers,
    within `budget`."""

    def __init__(self, session, input_name: str, output_name: str, budget: Budget) -> None:
        self.session = session
        self.budget = budget
        self._run = session._sess.run_with_iobinding  # (binding, run_options): see above
        self._input_name = input_name
        self._output_name = output_name
        self._local = threading.local()  # .lane: the calling thread's _Lane

    def run(self, batch: np.ndarray, check: bool = False) -> tuple[np.ndarray, bool]:
        """float32 probabilities (N, 10), a new array the caller owns, and with `check`,
        whether every row is a probability distribution (False: not known; ask
        runtime/rows.py's row_problems)."""
        try:
            lane = self._local.lane
        except AttributeError:
            lane = self.lane()
        buffers = lane.by_size.get(len(batch)) or self._bind(lane, len(batch))
        buffers.images[...] = batch
        self.budget.call(lane.timer, len(batch), self._run, buffers.binding)
        checked = check and probabilities_in(buffers.values, buffers.bits)
        return buffers.probabilities.copy(), checked

    def lane(self) -> _Lane:
        """The calling thread's lane (made on its first call)."""
        lane = getattr(self._local, "lane", None)
        if lane is None:
            lane = self._local.lane = _Lane(self.budget.timer())
        return lane

    def _bind(self, lane: _Lane, size: int) -> _Buffers:
        images = np.zeros((size, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
        probabilities = np.zeros((size, NUM_CLASSES), np.float32)
        binding = self.session.io_binding()
        binding.bind_input(self._input_name, "cpu", 0, np.uint8, images.shape, images.ctypes.data)
        binding.bind_output(
            self._output_name,
            "cpu",
            0,
            np.float32,
            probabilities.shape,
            probabilities.ctypes.data,
        )
        # onnxruntime reads and writes the two arrays through the binding: the lane holds both
        raw = probabilities.data.cast("B")
        values, bits = raw.cast("f"), raw.cast("I")
        buffers = _Buffers(binding, binding._iobinding, images, probabilities, values, bits)
        lane.by_size[size] = buffers
        return buffers
