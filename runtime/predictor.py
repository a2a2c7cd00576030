"""Predictor: the ONNX model in onnxruntime, checked against the contract, run in chunks.

Two sessions of the same model: small batches (a single image, a service's request) run in a
one-thread session through buffers bound once (runtime/bound.py), where waking a thread pool
costs more than the arithmetic; larger batches run in a session with a thread per core,
built on first use so that a process that predicts one image never starts the pool. Every
call has a time budget (runtime/budget.py): a model that runs past it ends with ModelError.

Every call's real output is checked, not only the shapes the model declares (shape inference
can hide a model that answers with fewer rows): (N, 10) for N images, else ModelError (a
bound output buffer has that shape, and onnxruntime refuses to write any other into it).
Rows that are not probabilities are named by `row_problems` (runtime/rows.py), which every
front end applies, and `predict` too, so that no caller gets them unchecked.
"""

import functools
import threading
from pathlib import Path

import numpy as np

from mnist_edge.core.contract import (
    LABELS,
    META_LABELS,
    NUM_CLASSES,
    TensorSpec,
    contract_problems,
    decode_metadata,
)
from mnist_edge.core.errors import InputError, ModelError
from mnist_edge.core.files import open_regular
from mnist_edge.core.limits import usable_cores
from mnist_edge.core.text import one_line, printable
from mnist_edge.runtime import catalog  # names only: it imports nothing of the runtime
from mnist_edge.runtime.arrays import IMAGE_SHAPE, as_image_batch, checked_pixels
from mnist_edge.runtime.bound import BoundSession
from mnist_edge.runtime.budget import Budget
from mnist_edge.runtime.rows import row_problems
from mnist_edge.runtime.telemetry import telemetry_off

CHUNK = 1024  # images per onnxruntime call for large inputs; the float32 copy the model makes
# of a chunk (3 MiB) stays in cache: 4096 was ~20% slower at 10,000 images
MAX_MODEL_BYTES = 256 * 2**20  # a digit model is kilobytes to a few megabytes
ORT_FATAL_ONLY = 4  # onnxruntime's log severity: its own warnings and errors would reach
# stderr in colour; every error it raises is reported here, in one line
# Batches up to this size run in the one-thread session, so that a call never waits for a pool
# thread the OS has descheduled. docs/performance.md, "Small batches: one thread or the pool",
# measures both on the machine at hand: there one thread was faster for int8, the pool for float32.
SMALL_BATCH = 8
UINT8 = np.dtype(np.uint8)


def default_model_path(int8: bool = False) -> Path:
    """The default model shipped inside the package (float32, or its int8 quantization)."""
    return catalog.shipped_path(catalog.DEFAULT, int8)


class Predictor:
    """Digit probabilities for MNIST-format images.

    >>> predictor = Predictor()                       # the default shipped model (or "cnn")
    >>> predictor.predict(x_test[:3]).argmax(axis=1)  # uint8 (N, 28, 28) -> (N, 10)
    """

    def __init__(
        self,
        model: Path | str | bytes | None = None,
        threads: int | None = None,
        name: str = "model.onnx",
        budget: float | None = None,
        small_batch_threads: int = 1,
        spinning: bool = True,
    ) -> None:
        """`model`: a path, a shipped model's name ("cnn": runtime/catalog.py), the model
        file's bytes (named `name` in messages), or None for the default shipped model.
        `threads`: onnxruntime threads for batches over SMALL_BATCH (None: one per core).
        `budget`: seconds a model call may take (None: $MNIST_EDGE_MODEL_BUDGET, else 30).
        `small_batch_threads`: threads for the smaller batches; 1 runs them on the calling
        thread, 2 keeps a second one spinning between calls: faster on an idle device,
        slower when other work holds the other core (docs/performance.md, "One image").
        `spinning`: whether the threads of larger batches spin between parallel sections,
        as onnxruntime's do by default; False where the process has other work for the
        cores between batches (`predict` on files: the decoders, which lost ~15% of their
        rate to spinning threads on 2 cores)."""
        if isinstance(model, bytes):
            self.model_path, self.model_bytes = Path(name), model
        else:
            self.model_path = catalog.resolve(model) if model is not None else default_model_path()
        name = printable(str(self.model_path))
        if not isinstance(model, bytes):
            try:
                self.model_bytes = _read_model(self.model_path)
            except InputError as error:
                raise ModelError(f"{name}: {error}") from None
        if (threads is not None and threads < 1) or small_batch_threads < 1:
            raise ValueError("threads must be at least 1")
        self._name, self._threads, self._spinning = name, threads, spinning
        self._threads_asked, self._small_threads = threads, small_batch_threads
        self.budget = Budget(budget)
        single = open_session(self.model_bytes, name, threads=small_batch_threads)
        inputs = [_spec(arg) for arg in single.get_inputs()]
        outputs = [_spec(arg) for arg in single.get_outputs()]
        problems = contract_problems(inputs, outputs)
        if problems:
            raise ModelError(f"{name}: not an mnist-edge model: {'; '.join(problems)}")
        self.input = inputs[0]
        self.output = outputs[0]
        raw = single.get_modelmeta().custom_metadata_map
        self.metadata = decode_metadata(raw)
        labels = self.metadata.get(META_LABELS, list(LABELS))
        self.labels = tuple(str(label) for label in labels)
        if len(self.labels) != NUM_CLASSES:
            raise ModelError(f"{name}: metadata lists {len(self.labels)} labels, not 10")
        self._small = BoundSession(single, self.input.name, self.output.name, self.budget)
        same = threads == small_batch_threads and (spinning or threads == 1)
        self._pool = single if same else None  # for larger batches
        self._pool_lock = threading.Lock()

    def predict(self, images: np.ndarray) -> np.ndarray:
        """float32 probabilities (N, 10) for images (N, 28, 28): uint8, or float in [0, 1].

        uint8 input goes to the model as it is; other input is checked and converted one
        chunk at a time, so memory stays flat however large N is. ValueError for unusable
        images; ModelError when the model fails, runs past its budget, or gives rows that
        are not probabilities.
        """
        if (
            type(images) is np.ndarray
            and images.dtype is UINT8
            and images.shape[1:] == IMAGE_SHAPE
            and len(images) <= CHUNK
        ):  # the common case, taken first: every uint8 image is usable as it is
            probabilities, checked = self._run(images, check=True)
        else:
            probabilities, checked = self._predict_converted(images), False
        if not checked:
            for index, problem in enumerate(row_problems(probabilities)):
                if problem is not None:
                    raise ModelError(f"{self._name}: image {index}: {problem}")
        return probabilities

    def predict_uint8(self, batch: np.ndarray) -> np.ndarray:
        """The model on a checked uint8 (N, 28, 28) batch, CHUNK images a call, no conversions:
        the path of every front end, which then checks the rows (`row_problems`). ModelError
        when the model fails to run or its output is not (N, 10)."""
        if len(batch) <= CHUNK:
            return self._run(batch)[0]
        chunks = [
            self._run(batch[start : start + CHUNK])[0] for start in range(0, len(batch), CHUNK)
        ]
        return np.concatenate(chunks)

    def share_cores(self, taken: int) -> None:
        """Leave `taken` cores to other work of the process (`predict`'s decoding processes):
        batches over SMALL_BATCH then run on the other cores, one thread each (at least one).
        On 2 cores beside one decoding process, one model thread read a folder of PNG files
        4-8% faster with the CNN than two, whose second thread waited for the decoder's
        core. Nothing changes when a thread count was asked for."""
        if self._threads_asked is not None:
            return
        threads = max(1, usable_cores() - taken)
        with self._pool_lock:
            if threads != self._threads:
                self._threads, self._pool = threads, None  # built again on next use

    def _predict_converted(self, images: np.ndarray) -> np.ndarray:
        try:
            batch = as_image_batch(np.asarray(images))
        except InputError as error:
            raise ValueError(f"images: {error}") from None
        probabilities = np.empty((len(batch), NUM_CLASSES), dtype=np.float32)
        for start in range(0, len(batch), CHUNK):
            chunk = self._checked(batch[start : start + CHUNK], start)
            probabilities[start : start + CHUNK] = self._run(chunk)[0]
        return probabilities

    def _checked(self, chunk: np.ndarray, offset: int) -> np.ndarray:
        if chunk.dtype == np.uint8:  # every uint8 image is usable as it is
            return chunk
        pixels, problems = checked_pixels(chunk)
        for index, problem in enumerate(problems):
            if problem is not None:
                raise ValueError(f"image {offset + index}: {problem}")
        return pixels

    def _run(self, batch: np.ndarray, check: bool = False) -> tuple[np.ndarray, bool]:
        """The model's (N, 10) output for a uint8 batch, and with `check`, whether its rows
        are known to be probabilities (the bound path checks them where it costs least;
        False: not yet known)."""
        if len(batch) == 0:
            return np.empty((0, NUM_CLASSES), dtype=np.float32), True
        try:
            if len(batch) <= SMALL_BATCH:
                return self._small.run(batch, check)  # an (N, 10) buffer: see the top
            output = self._run_unbound(self._pool_session(), batch)
        except ModelError:
            raise
        except Exception:  # onnxruntime's own types: a model that fails on real data, or
            # whose real output does not fit the buffer bound for it: run it unbound, so that
            # the output's shape, or the model's own error, is what is reported
            output = self._run_unbound(self._small.session, batch)
        if output.shape != (len(batch), NUM_CLASSES):
            raise ModelError(_shape_problem(output.shape))
        return output, False

    def _run_unbound(self, session, batch: np.ndarray) -> np.ndarray:
        """`session` on `batch` through its own C++ method (runtime/bound.py says why)."""
        run = functools.partial(session._sess.run, [self.output.name])  # (feed, run_options)
        feed = {self.input.name: np.ascontiguousarray(batch)}
        try:
            return self.budget.call(self.budget.timer(), len(batch), run, feed)[0]
        except ModelError:
            raise
        except Exception as error:  # onnxruntime raises its own types
            raise ModelError(f"the model failed to run ({_first_line(error)})") from None

    def _pool_session(self):
        """The session with onnxruntime's thread pool, built by the first call that needs it."""
        if self._pool is None:
            with self._pool_lock:  # concurrent first calls build it once
                if self._pool is None and self._threads == self._small_threads == 1:
                    self._pool = self._small.session  # no pool: the one-thread session
                elif self._pool is None:
                    self._pool = open_session(
                        self.model_bytes, self._name, self._threads, self._spinning
                    )
        return self._pool


def open_session(model_bytes: bytes, name: str, threads: int | None, spinning: bool = True):
    """An onnxruntime session of the model; `threads` None: one per core (its default).

    One thread means no pool at all: the call runs on the caller's thread. A pool keeps
    onnxruntime's default of spinning between parallel sections unless `spinning` is False
    (turned off, the int8 model lost ~10% of its throughput at 10,000 images, but a spinning
    thread holds a core that other work of the process could use).
    """
    telemetry_off()  # before the import: onnxruntime reads the switch when it loads
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = ORT_FATAL_ONLY
    if threads is not None:
        options.intra_op_num_threads = threads
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own types for bad files
        raise ModelError(f"{name}: not a loadable ONNX model ({_first_line(error)})") from None


def _shape_problem(shape: tuple[int, ...]) -> str:
    """What is wrong with an output's real shape, in words that do not depend on how many
    images were in the batch (every front end batches differently: the message is the same)."""
    if len(shape) != 2 or shape[1] != NUM_CLASSES:
        return f"the model's output has rows of shape {shape[1:]}, not ({NUM_CLASSES},)"
    return "the model's output does not have one row per image"


def _first_line(error: Exception) -> str:
    return one_line(str(error).strip().split("\n")[0]) or type(error).__name__


def _read_model(path: Path) -> bytes:
    """The model file's bytes (read once: the session is built from them, not from a path
    that a FIFO or a device could stand behind)."""
    with open_regular(path) as stream:
        if stream.seek(0, 2) > MAX_MODEL_BYTES:
            raise InputError(f"larger than {MAX_MODEL_BYTES // 2**20} MiB; not an mnist-edge model")
        stream.seek(0)
        return stream.read()


def _spec(arg) -> TensorSpec:
    """A TensorSpec from onnxruntime's NodeArg ('tensor(uint8)' -> 'uint8')."""
    dtype = arg.type.removeprefix("tensor(").removesuffix(")")
    dtype = "float32" if dtype == "float" else dtype
    return TensorSpec(arg.name, dtype, tuple(arg.shape))
