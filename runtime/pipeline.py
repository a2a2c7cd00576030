"""The one path from an input to a prediction: expand -> decode -> model -> record.

Every front end goes through it: `predict`, `evaluate` and `show` with the files named on the
command line, the service with uploaded bytes, the Ray engine's workers with rows of a
dataset. They differ only in how inputs arrive and where the predictions go.

- expand: runtime/sources.py names the inputs (image files, array files, failures).
- decode: `decoded` turns sources into items, in input order, with the limits and one-line
  errors of runtime/decode.py and runtime/array_inputs.py; image files are decoded ahead of
  the model, in a pool of threads or, for many small images, in worker processes
  (runtime/decoders.py).
- model: `predicted` runs the model once per batch (the Predictor chunks and checks the
  output's shape) and checks every row (`row_problems`); a model that fails costs its batch
  an error record each, never the run.
- record: runtime/records.py, one function for every output format.

Memory stays bounded whatever the number of inputs: at most a few batches of decoded images
are alive at once, and each prediction is handed on as soon as its batch is done.
"""

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_edge.core.errors import ModelError
from mnist_edge.core.limits import MAX_BATCH, MAX_WORKERS, default_decode_threads, usable_cores
from mnist_edge.runtime.decode import decode_image, source_items
from mnist_edge.runtime.decoders import ProcessDecoder
from mnist_edge.runtime.images import pixel_count
from mnist_edge.runtime.predictor import Predictor, row_problems
from mnist_edge.runtime.records import Item, Prediction, batch_rows
from mnist_edge.runtime.sources import ImageFile, Source, expand

DEFAULT_BATCH = 256
LOOKAHEAD = 2  # batches decoded ahead of the model
GROUP = 16  # image files decoded per thread-pool task
PROCESS_GROUP = 64  # per worker-process task: sending a group costs ~100 µs
PROCESSES_START = 128  # small image files in a run before worker processes are started
SMALL_IMAGE = 100 * 100  # pixels: up to this, decoding is mostly Python (see decode_threads)


@dataclass(frozen=True)
class PipelineOptions:
    """How a run goes; the command line maps its options onto this."""

    recursive: bool = False  # folders: also their sub-folders
    batch_size: int = DEFAULT_BATCH  # images per model call
    workers: int | None = None  # decoders: threads, or processes for small images (Ray:
    # actors); None: threads one per core up to 4, processes one fewer (see Decoding)
    threads: int | None = None  # onnxruntime threads for large batches; None: one per core

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH:,}")
        if self.workers is not None and not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"workers must be 1 to {MAX_WORKERS}")


def predict_paths(
    predictor: Predictor, paths: list[Path], options: PipelineOptions | None = None
) -> Iterator[Prediction]:
    """Everything `paths` names, predicted: a Prediction (or an error) for every input."""
    options = options or PipelineOptions()
    return predict_sources(predictor, expand(paths, options.recursive), options)


def predict_sources(
    predictor: Predictor, sources: Iterable[Source], options: PipelineOptions | None = None
) -> Iterator[Prediction]:
    """A Prediction (or an error) for every input of `sources`, in order."""
    options = options or PipelineOptions()
    lookahead = LOOKAHEAD * options.batch_size
    items = decoded(sources, lookahead, options.workers, predictor.share_cores)
    return predicted(predictor, items, options.batch_size)


def decode_threads(small: bool) -> int:
    """Decoding threads for a run, judged from its first image file: `small` or not.

    Small images spend their decoding time in Python, holding the GIL, so more threads only
    contend (2 cores, 28x28 PNGs: 1 thread 27,000-31,000 files/s, 2 threads 19,000-24,000):
    they go to worker processes instead (see Decoding). Larger ones spend it in C, which runs in
    parallel (300x300 PNGs: 420 against 680 files/s).
    """
    return 1 if small else default_decode_threads()


def decoded(
    sources: Iterable[Source],
    lookahead: int,
    workers: int | None = None,
    on_processes: Callable[[int], None] | None = None,
) -> Iterator[Item]:
    """Items in input order. Image files are decoded up to `lookahead` ahead, in groups (a
    tiny file must not cost more to schedule than to decode): in a pool of threads, or for
    small images in worker processes once a run has PROCESSES_START of them (see Decoding),
    told to `on_processes(count)` when they start; array files are read a block at a time as
    the model takes them."""
    with Decoding(workers, on_processes) as decoding:
        pending: deque[Callable[[], Iterable[Item]]] = deque()
        for source in sources:
            if isinstance(source, ImageFile):
                pending.extend(decoding.add(source))
            else:
                pending.extend(decoding.flush())
                pending.append(functools.partial(source_items, source))
            while len(pending) * decoding.group > lookahead:
                yield from pending.popleft()()
        pending.extend(decoding.flush())
        while pending:
            yield from pending.popleft()()


class Decoding:
    """Where a run's image files are decoded, chosen from its first one: `add(file)` and
    `flush()` give what is ready to be waited for, in order, as calls that return items.

    Large images: `workers` threads (default: decode_threads). Small ones: one thread; once
    the run has PROCESSES_START of them, `workers` processes are started (none with 1 worker)
    and take over as soon as they are ready (~0.1 s); a run of a few files never starts them.
    By default one process per core but one, up to 4 (none on 1 core): the command keeps a
    core busy itself (listing, the model, the records: about as much CPU a file as decoding
    it), and on 2 cores one worker beside it read 10,000 files 15% faster than two.
    """

    def __init__(
        self, workers: int | None, on_processes: Callable[[int], None] | None = None
    ) -> None:
        self.workers = workers
        self._on_processes = on_processes
        self._files: list[ImageFile] = []
        self._seen = 0
        self._threads: ThreadPoolExecutor | None = None
        self._processes: ProcessDecoder | None = None
        self._small = False

    def __enter__(self) -> "Decoding":
        return self

    def __exit__(self, *_: object) -> None:
        if self._threads is not None:
            self._threads.shutdown(cancel_futures=True)
        if self._processes is not None:
            self._processes.close()

    def add(self, file: ImageFile) -> list[Callable[[], Iterable[Item]]]:
        if self._threads is None:
            self._small = pixel_count(Path(file.path)) <= SMALL_IMAGE
            self._threads = ThreadPoolExecutor(self.workers or decode_threads(self._small))
        self._seen += 1
        if self._seen == PROCESSES_START and self._small and (count := self._processes_wanted()):
            self._processes = ProcessDecoder(count)
            self._processes.start()  # the thread goes on decoding until they are ready
            if self._on_processes is not None:
                self._on_processes(count)
        self._files.append(file)
        return self.flush() if len(self._files) >= self.group else []

    def flush(self) -> list[Callable[[], Iterable[Item]]]:
        """The files added since the last group, as one group (none if there are none)."""
        files, self._files = self._files, []
        if not files:
            return []
        if self._processes is not None and self._processes.ready():
            return [self._processes.submit(files).result]
        assert self._threads is not None
        return [self._threads.submit(_decode_group, files).result]

    @property
    def group(self) -> int:
        """Files per group: more for a worker process, where sending a group costs more."""
        ready = self._processes is not None and self._processes.ready()
        return PROCESS_GROUP if ready else GROUP

    def _processes_wanted(self) -> int:
        if self.workers is not None:
            return self.workers if self.workers > 1 else 0
        return min(default_decode_threads(), usable_cores() - 1)


def predicted(predictor: Predictor, items: Iterable[Item], batch_size: int) -> Iterator[Prediction]:
    """Predictions in item order, the model run once per `batch_size` inputs."""
    window: list[Item] = []
    for item in items:
        window.append(item)
        if len(window) >= batch_size:
            yield from predict_window(predictor, window)
            window = []
    yield from predict_window(predictor, window)


def predict_window(predictor: Predictor, window: list[Item]) -> list[Prediction]:
    """One model call for the decoded items of `window`; a prediction for every item."""
    images = [item.image for item in window if item.image is not None]
    try:
        probabilities = predictor.predict_uint8(np.stack(images)) if images else None
    except ModelError as error:
        return unpredicted(window, str(error))
    return paired(window, probabilities)


def paired(window: list[Item], probabilities: np.ndarray | None) -> list[Prediction]:
    """A prediction for every item of `window`, given the model's rows for its decoded items
    in order (the service computes them elsewhere); rows that are not probabilities become
    errors."""
    if probabilities is None:  # nothing in the window was decoded
        return unpredicted(window, "")
    rounded, best = batch_rows(probabilities)
    rows = iter(zip(probabilities, row_problems(probabilities), rounded, best, strict=True))
    predictions = []
    for item in window:
        if item.image is None:
            predictions.append(_failed(item, ""))
            continue
        row, problem, values, digit = next(rows)
        if problem is not None:
            predictions.append(_failed(item, problem))
        else:
            predictions.append(
                Prediction(item.source, row, None, item.label, item.image, values, digit)
            )
    return predictions


def unpredicted(window: list[Item], error: str) -> list[Prediction]:
    """The window's predictions when the model gave none: each item's own error, else
    `error` (why the model failed)."""
    return [_failed(item, error) for item in window]


def _failed(item: Item, error: str) -> Prediction:
    """The prediction of an item that has none: its own error, else `error`."""
    return Prediction(item.source, None, item.error or error, item.label)


def _decode_group(sources: list[ImageFile]) -> list[Item]:
    return [decode_image(source) for source in sources]
