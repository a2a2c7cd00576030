"""Speed of the runtime: batch-1 latency, throughput by batch size, files/s end to end.

Figures, not verdicts: compare them within one run on one machine (see `make bench`).
"""

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnist_edge.measure.machine import machine
from mnist_edge.runtime.predictor import SMALL_BATCH, Predictor

BATCH_SIZES = (1, 32, 256, 1024, 10_000)
LATENCY_RUNS = 5000
MIN_SECONDS = 0.5  # each throughput figure times at least this long
FOLDER_FILES = 10_000


def latency_us(
    call: Callable[[], object], runs: int = LATENCY_RUNS, warmup: int = 200
) -> dict[str, float]:
    """Median and 99th percentile of one call, in microseconds."""
    for _ in range(min(warmup, runs)):  # warm caches, thread pools and allocators
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "median_us": statistics.median(samples),
        "p99_us": samples[min(len(samples) - 1, int(0.99 * len(samples)))],
        "runs": runs,
    }


def throughput(predict: Callable[[np.ndarray], object], images: np.ndarray, batch: int) -> float:
    """Images per second when `predict` is called on consecutive batches of `batch`."""
    batches = [images[i : i + batch] for i in range(0, len(images) - batch + 1, batch)]
    predict(batches[0])
    done, started = 0, time.perf_counter()
    while True:
        for chunk in batches:
            predict(chunk)
            done += len(chunk)
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return done / elapsed


def bench_model(predictor: Predictor, images: np.ndarray) -> dict[str, object]:
    """Batch-1 latency and throughput at each of BATCH_SIZES for one model."""
    one = np.ascontiguousarray(images[:1])
    return {
        "model": str(predictor.model_path),
        "bytes": len(predictor.model_bytes),
        "latency_batch_1": latency_us(lambda: predictor.predict(one)),
        "images_per_second": {
            str(batch): throughput(predictor.predict, images, batch)
            for batch in BATCH_SIZES
            if batch <= len(images)
        },
    }


def bench_folder(predictor: Predictor, images: np.ndarray, files: int = FOLDER_FILES) -> dict:
    """End-to-end `predict` over a folder of 28x28 PNG files: decode, preprocess, infer."""
    from PIL import Image

    from mnist_edge.runtime.pipeline import predict_paths

    with tempfile.TemporaryDirectory() as folder:
        for index in range(files):
            image = Image.fromarray(images[index % len(images)])
            image.save(Path(folder) / f"{index:05d}.png")
        started = time.perf_counter()
        count = sum(1 for _ in predict_paths(predictor, [Path(folder)]))
        elapsed = time.perf_counter() - started
    return {"files": count, "seconds": elapsed, "files_per_second": count / elapsed}


def run_bench(
    models: dict[str, Predictor], images: np.ndarray, folder_files: int = FOLDER_FILES
) -> dict[str, object]:
    """Every figure of `mnist-edge bench`, JSON-able."""
    import onnxruntime

    result: dict[str, object] = {
        "machine": machine(),
        "onnxruntime": onnxruntime.__version__,
        "small_batch": SMALL_BATCH,  # the largest batch run in the one-thread session
        "models": {name: bench_model(predictor, images) for name, predictor in models.items()},
    }
    if folder_files:
        first = next(iter(models.values()))
        result["predict_png_folder"] = bench_folder(first, images, folder_files)
    return result
