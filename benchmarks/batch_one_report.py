"""One image at a time, rendered: the batch-1 section of docs/performance.md (the measurement
is benchmarks/batch_one.py)."""

import os

from benchmarks.batch_one import (
    BARE,
    CONDITIONS,
    COPYING,
    MODELS,
    OVERHEAD_TARGET,
    PREDICTOR,
    REQUIRED,
    TFLITE,
    THREADS,
    BatchOne,
    Row,
    rows,
)
from benchmarks.latency import (
    BEFORE,
    BUSY,
    CALLS,
    CROSSOVER_ROUNDS,
    CROSSOVER_SIZES,
    IDLE,
    ROUNDS,
    STEPS,
    Timing,
)
from benchmarks.report import markdown_table
from mnist_edge.runtime.predictor import SMALL_BATCH


def like_for_like_table(result: BatchOne) -> str:
    """Median and p99 of every row, idle and busy, and its ratio to TensorFlow Lite's."""
    header = ["model", "threads", "engine"]
    for condition in CONDITIONS:
        header += [f"{condition}: median (µs)", f"{condition}: p99 (µs)"]
    header += [f"÷ {TFLITE}, {condition}" for condition in CONDITIONS]
    lines = []
    for row in rows():
        cells = [row.model, str(row.threads), row.engine]
        for condition in CONDITIONS:
            timing = result.timing(row, condition)
            cells += [f"{timing.median_us:.1f}", f"{timing.p99_us:.1f}"]
        cells += [f"{result.ratio(row, TFLITE, condition):.2f}" for condition in CONDITIONS]
        lines.append(cells)
    return markdown_table(header, lines)


def overhead_table(result: BatchOne) -> str:
    """What the Predictor adds to onnxruntime's bare bound call, how much of that copying
    alone costs (any Python caller that takes an array and returns a new one pays it), and
    how much all that the runtime requires around the call costs, written inline."""
    header = ["model", "threads"]
    for name in (PREDICTOR, "copying alone", "all that is required, inline"):
        header += [f"{name} ÷ bare call, {condition}" for condition in CONDITIONS]
    lines = []
    for model in MODELS:
        for threads in THREADS:
            engines = (PREDICTOR, COPYING, REQUIRED) if threads == 1 else (PREDICTOR,)
            cells = [
                f"{result.ratio(Row(model, threads, engine), BARE, condition):.2f}×"
                for engine in engines
                for condition in CONDITIONS
            ]
            lines.append([model, str(threads), *cells, *[""] * (len(header) - 2 - len(cells))])
    return markdown_table(header, lines)


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
    """The result in a few sentences: the engines like for like, and the Predictor's cost."""

    def median(model: str, threads: int, engine: str, condition: str = IDLE) -> str:
        return f"{result.timing(Row(model, threads, engine), condition).median_us:.1f}"

    def engines(model: str, threads: int, condition: str = IDLE) -> str:
        return (
            ", ".join(
                f"{name} {median(model, threads, engine, condition)}"
                for name, engine in (("TensorFlow Lite", TFLITE), ("bare call", BARE))
            )
            + f", `Predictor.predict` {median(model, threads, PREDICTOR, condition)} µs"
        )

    overhead = " and ".join(
        f"{result.ratio(Row(model, 1, PREDICTOR), BARE):.2f}× ({model}; copying the image in "
        f"and the probabilities out alone: {result.ratio(Row(model, 1, COPYING), BARE):.2f}×; "
        f"all that is required, inline: {result.ratio(Row(model, 1, REQUIRED), BARE):.2f}×)"
        for model in MODELS
    )
    return (
        f"One image, like for like (`make bench`, 1-minute load average {max(result.load):.1f} "
        f"on a {os.cpu_count()}-core machine; medians, second core idle). One thread each: "
        f"float32 {engines('float32', 1)}; int8 (TensorFlow Lite's full-integer model "
        f"against the exporter's) {engines('int8', 1)}. Two threads: float32 "
        f"{engines('float32', 2)}; with the second core busy {engines('float32', 2, BUSY)}. "
        f"The Predictor costs {overhead} onnxruntime's bare bound call (target "
        f"{OVERHEAD_TARGET}×). Both int8 models score "
        + " and ".join(f"{accuracy:.2%} ({name})" for name, accuracy in result.accuracy.items())
        + " on the MNIST test set."
    )


def section(result: BatchOne) -> str:
    """The `batch-1` section of docs/performance.md (the page gives its title)."""
    return "\n\n".join(
        [
            _method(result),
            like_for_like_table(result),
            "#### The Predictor's own cost",
            overhead_table(result),
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
        "Made by `make bench` in the same run as the figures above. Every engine runs a model "
        "made in this run from the same Keras model: TensorFlow Lite its converter's float32 "
        "model and full-integer int8 model (calibrated on the 1,000 training images `export "
        "--int8` calibrates on; uint8 pixels in, float32 probabilities out, as the ONNX int8 "
        "model), onnxruntime the exporter's optimised graph and its int8 quantization. "
        "*Threads* is TensorFlow Lite's `num_threads` and onnxruntime's intra-op threads "
        "(`Predictor(small_batch_threads=2)`: a second thread that spins between calls). "
        f"*{BARE}* is the Predictor's own session and buffers run with nothing around the "
        f"call, the floor of any Python caller; *{COPYING}* adds only what any caller that "
        f"takes an array and returns a new one must do; *{REQUIRED}* adds the rest of what "
        "the runtime requires of every call (a deadline written before it and cleared after, "
        "the check that every row is a probability distribution), with no function calls "
        "around it. Each engine's call on one test image, "
        f"the engines taking turns: {ROUNDS} rounds of {CALLS} calls with the machine's last "
        "core left alone and as many with a busy loop pinned to it (benchmarks/busy.py), the "
        "two alternating two rounds at a time and the order reversed every other round. "
        "Median and p99 over all calls; a ratio is taken within each round, then the median "
        "over the rounds. *Idle* means nothing of the benchmark runs on the second core; on a "
        f"shared machine other work may. Load average (1 min): {result.load[0]:.2f} before, "
        f"{result.load[1]:.2f} after. The steps below run on graphs made in this run (the "
        "readable graph and its optimised copy, each also quantized to int8); their speed-up "
        "is the step's within-round ratio to the first row."
    )
