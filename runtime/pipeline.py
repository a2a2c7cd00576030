"""Streaming prediction: decode in a thread pool, infer in batches, yield results in order.

Memory stays bounded whatever the number of inputs: at most a few batches of decoded
images are alive at once, and each result is handed on as soon as its batch is done.
"""

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from mnist_edge.runtime.decode import array_items, decode_image
from mnist_edge.runtime.images import pixel_count
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.runtime.records import Item, Prediction
from mnist_edge.runtime.sources import ArrayFile, Failed, ImageFile, Source, expand

DEFAULT_BATCH = 256
GROUP = 16  # image files decoded per thread-pool task
SMALL_IMAGE = 100 * 100  # pixels: up to this, one decoding thread is fastest
MAX_WORKERS = 4  # decoding threads at most, by default
NOT_FINITE = "the model gave non-finite probabilities (NaN or infinity)"


def decode_images(sources: list[ImageFile]) -> list[Item]:
    return [decode_image(source) for source in sources]


def decode_workers(first: Path) -> int:
    """Decoding threads for a run, judged from its first image file.

    Small images spend their decoding time in Python, holding the GIL, so more threads only
    contend (2 cores, 28x28 PNGs: 1 thread ~5,000 files/s, 2 threads ~2,600); larger ones
    spend it in C, which runs in parallel (300x300 PNGs: 420 against 680 files/s).
    """
    return 1 if pixel_count(first) <= SMALL_IMAGE else min(MAX_WORKERS, os.cpu_count() or 1)


def decoded(
    sources: Iterable[Source], lookahead: int, workers: int | None = None
) -> Iterator[Item]:
    """Items in input order. Image files are decoded up to `lookahead` ahead in a thread pool
    (`workers` threads, default: see decode_workers), in groups of GROUP so that a tiny file
    does not cost more to schedule than to decode."""
    pool: ThreadPoolExecutor | None = None
    pending: deque[Future | Iterator[Item] | Item] = deque()
    group: list[ImageFile] = []
    try:
        for source in sources:
            if isinstance(source, ImageFile):
                pool = pool or ThreadPoolExecutor(workers or decode_workers(source.path))
                group.append(source)
                if len(group) < GROUP:
                    continue
            if group:
                pending.append(pool.submit(decode_images, group))
                group = []
            if isinstance(source, ArrayFile):
                pending.append(array_items(source))
            elif isinstance(source, Failed):
                pending.append(Item(source.source, None, source.error))
            while len(pending) * GROUP > lookahead:
                yield from _resolve(pending.popleft())
        if group:
            pending.append(pool.submit(decode_images, group))
        while pending:
            yield from _resolve(pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _resolve(entry: Future | Iterator[Item] | Item) -> Iterator[Item]:
    if isinstance(entry, Future):
        yield from entry.result()
    elif isinstance(entry, Item):
        yield entry
    else:
        yield from entry


def predicted(predictor: Predictor, items: Iterable[Item], batch_size: int) -> Iterator[Prediction]:
    """Predictions in item order, the model run once per `batch_size` inputs."""
    window: list[Item] = []
    for item in items:
        window.append(item)
        if len(window) >= batch_size:
            yield from predict_window(predictor, window)
            window = []
    yield from predict_window(predictor, window)


def predict_window(predictor: Predictor, window: list[Item]) -> Iterator[Prediction]:
    """One model call for the decoded items of `window`; a prediction for every item."""
    images = [item.image for item in window if item.image is not None]
    return paired(window, predictor.predict_uint8(np.stack(images)) if images else ())


def paired(window: list[Item], probabilities: Iterable[np.ndarray]) -> Iterator[Prediction]:
    """A prediction for every item of `window`, given the model's rows for its decoded items
    in order (the service computes them elsewhere); non-finite rows become errors."""
    rows = iter(probabilities)
    for item in window:
        if item.image is None:
            yield Prediction(item.source, None, item.error, item.label)
            continue
        row = next(rows)
        finite = bool(np.isfinite(row).all())
        yield Prediction(
            item.source,
            row if finite else None,
            None if finite else NOT_FINITE,
            item.label,
            item.image,
        )


def predict_paths(
    predictor: Predictor,
    paths: list[Path],
    recursive: bool = False,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
) -> Iterator[Prediction]:
    """Everything `paths` names, predicted: a Prediction (or an error) for every input."""
    items = decoded(expand(paths, recursive), lookahead=2 * batch_size, workers=workers)
    return predicted(predictor, items, batch_size)
