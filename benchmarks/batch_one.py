"""One image at a time: mnist-edge beside TensorFlow Lite, and what each change bought.

Part of `make bench` (benchmarks/run.py): every engine's batch-1 call interleaved with the
others (benchmarks/latency.py), then the Predictor's single-image path step by step, on
graphs made here from the same Keras model: the readable graph the exporter proves parity
on, and its optimised copy (export/optimise.py), each also quantized to int8 as `export
--int8` does.
"""

import os
from dataclasses import dataclass

import numpy as np

from benchmarks.backends import (
    NUMPY_FLOOR,
    ONNX_FLOAT32,
    ONNX_INT8,
    TFLITE,
    Backend,
    Images,
    TFLiteRunner,
)
from benchmarks.latency import (
    BEFORE,
    CALLS,
    CROSSOVER_ROUNDS,
    CROSSOVER_SIZES,
    ROUNDS,
    STEPS,
    Timing,
    bound_call,
    calling,
    crossover,
    folding_throughput,
    interleaved,
    step_timings,
)
from benchmarks.report import markdown_table
from mnist_edge.runtime.predictor import SMALL_BATCH

TFLITE_ONE_THREAD = "TensorFlow Lite (XNNPACK), 1 thread"
PREDICTORS = (ONNX_FLOAT32, ONNX_INT8)
# onnxruntime's own call on the Predictor's bound buffers, nothing else: the floor of any
# Python caller of onnxruntime, Predictor or not.
BARE = {name: f"{name}, `run_with_iobinding` alone" for name in PREDICTORS}
ENGINES = (TFLITE, TFLITE_ONE_THREAD, NUMPY_FLOOR, *PREDICTORS, *BARE.values())
MODELS = ("float32", "int8")


@dataclass(frozen=True)
class BatchOne:
    engines: dict[str, Timing]  # ENGINES, interleaved
    steps: dict[str, dict[str, Timing]]  # model -> STEPS, interleaved
    folding: dict[str, float]  # model -> images/s of the optimised graph / the readable's
    crossover: dict[str, dict[int, tuple[Timing, Timing]]]  # model -> size -> (one, pool)
    batch: int  # images per call for `folding`
    load: tuple[float, float]  # 1-minute load average before and after


def measure(
    backends: list[Backend], images: Images, models: dict[str, tuple[bytes, bytes]]
) -> BatchOne:
    """Everything of this section; `models`: model -> (readable, optimised), see graphs()."""
    load_before = os.getloadavg()[0]
    by_name = {backend.name: backend for backend in backends}
    calls = {
        name: calling(by_name[name].predict, _one(images, by_name[name]))
        for name in ENGINES
        if name in by_name
    }
    one_thread = TFLiteRunner(by_name[TFLITE].predict.content, threads=1)
    calls[TFLITE_ONE_THREAD] = calling(one_thread, np.ascontiguousarray(images.scaled[:1]))
    for name, bare in BARE.items():
        calls[bare] = bound_call(by_name[name].predict.__self__, _one(images, by_name[name]))
    engines = interleaved({name: calls[name] for name in ENGINES})
    one = np.ascontiguousarray(images.uint8[:1])
    steps = {model: step_timings(*models[model], one) for model in MODELS}
    folding = {model: folding_throughput(*models[model], images.uint8) for model in MODELS}
    crossovers = {model: crossover(models[model][1], images.uint8) for model in MODELS}
    load = (load_before, os.getloadavg()[0])
    return BatchOne(engines, steps, folding, crossovers, len(images.uint8), load)


def _one(images: Images, backend: Backend) -> np.ndarray:
    return np.ascontiguousarray(images.for_backend(backend)[:1])


def engines_table(result: BatchOne) -> str:
    """Median, p99 and the within-round ratio to each TensorFlow Lite configuration."""
    tflite, single = result.engines[TFLITE], result.engines[TFLITE_ONE_THREAD]
    rows = [
        [
            f"**{name}** (Predictor)" if name in PREDICTORS else name,
            f"{timing.median_us:.1f}",
            f"{timing.p99_us:.1f}",
            f"{timing.ratio_to(tflite):.2f}",
            f"{timing.ratio_to(single):.2f}",
        ]
        for name, timing in result.engines.items()
    ]
    header = ["engine", "median (µs)", "p99 (µs)", f"÷ {TFLITE}", f"÷ {TFLITE_ONE_THREAD}"]
    return markdown_table(header, rows)


def steps_table(result: BatchOne) -> str:
    """Each change to the single-image path, cumulative, with its effect on both models."""
    rows = []
    for step in STEPS:
        cells = [step]
        for model in MODELS:
            timing = result.steps[model][step]
            before = result.steps[model][BEFORE]
            cells += [f"{timing.median_us:.1f}", f"{timing.p99_us:.1f}", _speed_up(timing, before)]
        rows.append(cells)
    header = ["change (each adds to the ones above)"]
    for model in MODELS:
        header += [f"{model} median (µs)", f"{model} p99 (µs)", f"{model} speed-up"]
    return markdown_table(header, rows)


def _speed_up(timing: Timing, before: Timing) -> str:
    return "1.00×" if timing is before else f"{before.ratio_to(timing):.2f}×"


def crossover_table(result: BatchOne) -> str:
    """Small batches on one thread and on the pool: where SMALL_BATCH should be."""
    rows = []
    for size in CROSSOVER_SIZES:
        cells = [f"{size:,}"]
        for model in MODELS:
            one, pool = result.crossover[model][size]
            cells += [f"{one.median_us:.1f}", f"{pool.median_us:.1f}", f"{pool.ratio_to(one):.2f}"]
        rows.append(cells)
    header = ["batch"]
    for model in MODELS:
        header += [f"{model} one thread (µs)", f"{model} pool (µs)", f"{model} pool ÷ one"]
    return markdown_table(header, rows)


def summary(result: BatchOne) -> str:
    """The result in two sentences: where the Predictor stands against TensorFlow Lite."""
    tflite = result.engines[TFLITE]
    parts = [
        f"{name.removeprefix('onnxruntime ')} {result.engines[name].median_us:.1f} µs median, "
        f"{result.engines[name].p99_us:.1f} µs p99"
        for name in PREDICTORS
    ]
    folding = ", ".join(f"{result.folding[m]:.2f}× ({m})" for m in MODELS)
    bare = " and ".join(
        f"{result.engines[BARE[name]].median_us:.1f} µs ({name.removeprefix('onnxruntime ')}, "
        f"{result.engines[BARE[name]].ratio_to(tflite):.2f}× TensorFlow Lite's whole call)"
        for name in PREDICTORS
    )
    return (
        f"One image through `Predictor.predict`: {parts[0]}; {parts[1]}; TensorFlow Lite "
        f"(XNNPACK, one thread per core) {tflite.median_us:.1f} µs median, {tflite.p99_us:.1f} "
        f"µs p99, and {result.engines[TFLITE_ONE_THREAD].median_us:.1f} µs with one thread "
        f"(`make bench`, 1-minute load average {max(result.load):.1f} on a "
        f"{os.cpu_count()}-core machine). onnxruntime's own call on buffers "
        f"bound once, with no Python work around it (the floor of any Python caller), takes "
        f"{bare} in median. The export passes also change "
        f"throughput at batch {result.batch:,}: {folding}."
    )


def section(result: BatchOne) -> str:
    """The `batch-1` section of docs/performance.md."""
    return "\n\n".join(
        [
            _method(result),
            engines_table(result),
            summary(result),
            "#### What each change to the single-image path bought",
            steps_table(result),
            "#### Small batches: one thread or the pool",
            f"`session.run` on the shipped models, interleaved ({CROSSOVER_ROUNDS} rounds); the "
            f"Predictor runs batches up to {SMALL_BATCH} on one thread (a ratio above 1 in "
            "the last column: one thread is faster).",
            crossover_table(result),
        ]
    )


def _method(result: BatchOne) -> str:
    return (
        f"Made by `make bench` in the same run as the figures above. Every engine's call on "
        f"one test image, the engines taking turns: {ROUNDS} rounds of "
        f"{CALLS} calls each, the order "
        "reversed every other round. Median and p99 over all calls; a ratio is taken within "
        "each round, then the median over the rounds, so a change in the machine's load "
        "between rounds moves both sides of it. Load average (1 min): "
        f"{result.load[0]:.2f} before, {result.load[1]:.2f} after. The steps below run on "
        "graphs made in this run from the same Keras model (the readable graph and its "
        "optimised copy, each also quantized to int8); their speed-up is the step's "
        "within-round ratio to the first row."
    )


def graphs(keras_model, train_images: np.ndarray) -> dict[str, tuple[bytes, bytes]]:
    """model -> (readable, optimised) serialized: the exporter's graph before and after its
    passes, float32 and quantized to int8 as `export --int8` does."""
    from mnist_edge.export.convert import keras_to_onnx
    from mnist_edge.export.optimise import optimise
    from mnist_edge.export.quantize import calibration_set, quantize_int8

    readable = keras_to_onnx(keras_model)
    optimised, _ = optimise(readable)
    calibration = calibration_set(train_images)
    int8 = quantize_int8(readable, calibration)
    int8_optimised, _ = optimise(quantize_int8(optimised, calibration))
    pairs = {"float32": (readable, optimised), "int8": (int8, int8_optimised)}
    return {
        model: (a.SerializeToString(), b.SerializeToString()) for model, (a, b) in pairs.items()
    }
