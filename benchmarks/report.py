"""docs/performance.md's `engines` section: machine, versions, targets, absolute figures,
ratios, noise, method."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.backends import FLOPS_PER_IMAGE
from benchmarks.figures import (
    FILES,
    FILES_PER_SECOND,
    FOLDER,
    LATENCY_VS_KERAS,
    MAX_RSS_MIB,
    MEDIAN_US,
    P99_US,
    SECONDS,
    SPEED_UP_VS_KERAS,
    Figure,
    Key,
    per_second,
    vs_floor,
    vs_keras,
)
from benchmarks.targets import batch_one_verdicts, verdicts
from harness.processes import MIB
from mnist_edge.measure.bench import LATENCY_RUNS

if TYPE_CHECKING:
    from benchmarks.batch_one import BatchOne

NOISY = 0.10  # figures whose repeats spread wider than ±10% are counted as noisy
WIDEST = 8  # the noisiest figures listed by name


@dataclass(frozen=True)
class Results:
    figures: dict[Key, Figure]  # medians and spreads over the repeats
    sizes: dict[str, int]  # bytes on disk, by what was measured
    differences: dict[str, float]  # largest |p - p_keras| of each engine on the test images
    engines: list[str]  # in-process rows, in report order
    processes: list[str]  # whole-process rows, in report order
    batches: tuple[int, ...]  # throughput batch sizes
    repeats: int
    machine: dict[str, object]
    versions: dict[str, dict[str, str]]  # install -> distribution -> version
    command: str  # how this file was made
    load: tuple[float, float]  # 1-minute load average when the run started and ended
    batch_one: "BatchOne | None" = None  # one image at a time, like for like


def render(results: Results) -> str:
    """The `engines` section (its page has the title and says what the figures mean)."""
    return (
        "\n\n".join(
            [
                _header(results),
                _machine(results),
                "### Targets\n\n" + targets_table(results),
                "### In-process, on the 10,000 MNIST test images\n\n" + _engines(results),
                "### Ratios (taken within each repeat, then the median)\n\n" + _ratios(results),
                "### Whole processes\n\n" + _processes(results),
                "### Sizes on disk\n\n" + _sizes(results),
                "### Noise\n\n" + _noise(results),
                _method(results),
            ]
        )
        + "\n"
    )


def _header(results: Results) -> str:
    today = datetime.date.today().isoformat()
    return (
        f"Made by `make bench` (`{results.command}`) on {today}. Each figure is the median "
        f"of {results.repeats} repeat(s); `±x%` is half the min-max range of the repeats, "
        "relative to the median.\n\n"
        f"Taken on a shared {results.machine['cores']}-core virtual machine (see the load average "
        "below): compare figures within this section, and expect a quieter machine to do better."
    )


def _machine(results: Results) -> str:
    machine = results.machine
    lines = [
        "### Machine and versions\n",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores, flags: "
        f"{' '.join(machine['flags']) or 'none of interest'}",
        f"- Load average (1 min): {results.load[0]:.2f} at the start, {results.load[1]:.2f} at "
        f"the end (above {machine['cores']} means other work was waiting for the cores too)",
    ]
    for install, versions in results.versions.items():
        listed = ", ".join(f"{name} {version}" for name, version in versions.items())
        lines.append(f"- {install}: {listed}")
    return "\n".join(lines)


def targets_table(results: Results) -> str:
    """Each target of the issue, what was measured, and whether it was met."""
    checked = verdicts(results.figures, results.sizes, results.batches)
    if results.batch_one:
        checked += batch_one_verdicts(results.batch_one)
    rows = [
        [verdict.target, verdict.measured, "yes" if verdict.met else "**no**"]
        for verdict in checked
    ]
    return markdown_table(["target", "measured (median)", "met"], rows)


def _engines(results: Results) -> str:
    largest = results.batches[-1]
    header = ["engine", MEDIAN_US, P99_US, *map(per_second, results.batches)]
    header += [f"GFLOP/s @ {largest:,}", "max abs diff vs Keras"]
    rows = []
    for engine in results.engines:
        cells = [_cell(results.figures[(engine, column)], "{:,.1f}") for column in header[1:3]]
        cells += [
            _cell(results.figures[(engine, per_second(batch))], "{:,.0f}")
            for batch in results.batches
        ]
        flops = results.figures[(engine, per_second(largest))].median * FLOPS_PER_IMAGE / 1e9
        cells += [f"{flops:.1f}", f"{results.differences[engine]:.1e}"]
        rows.append([engine, *cells])
    return markdown_table(header, rows)


def _ratios(results: Results) -> str:
    columns = [vs_floor(batch) for batch in results.batches]
    columns += [vs_keras(batch) for batch in results.batches] + [LATENCY_VS_KERAS]
    rows = [
        [engine, *(_cell(results.figures[(engine, column)], _ratio) for column in columns)]
        for engine in results.engines
    ]
    return markdown_table(["engine", *columns], rows)


def _processes(results: Results) -> str:
    figures = results.figures
    rows = []
    for process in results.processes:
        speed_up = figures.get((process, SPEED_UP_VS_KERAS))
        rows.append(
            [
                process,
                _cell(figures[(process, SECONDS)], "{:.3f}"),
                _cell(figures[(process, MAX_RSS_MIB)], "{:.0f}"),
                _cell(speed_up, _ratio) if speed_up else "",
            ]
        )
    folder = (
        f"`{FOLDER}`: {figures[(FOLDER, FILES)].median:,.0f} files of 28x28 at "
        f"{_cell(figures[(FOLDER, FILES_PER_SECOND)], '{:,.0f}')} files/s (in-process, "
        "decode + preprocess + model, default threads)."
    )
    header = ["process", SECONDS, MAX_RSS_MIB, SPEED_UP_VS_KERAS]
    return markdown_table(header, rows) + "\n\n" + folder


def _sizes(results: Results) -> str:
    rows = [[name, f"{size / MIB:,.2f}"] for name, size in results.sizes.items()]
    return markdown_table(["what", "MiB"], rows)


def _noise(results: Results) -> str:
    spreads = sorted(
        ((figure.spread, key) for key, figure in results.figures.items()), reverse=True
    )
    middle = spreads[len(spreads) // 2][0]
    noisy = sum(1 for spread, _ in spreads if spread > NOISY)
    widest = "\n".join(
        f"- {row}, {column}: ±{spread:.0%}" for spread, (row, column) in spreads[:WIDEST]
    )
    return (
        f"{len(spreads)} figures over {results.repeats} repeats: median spread ±{middle:.0%}; "
        f"{noisy} spread wider than ±{NOISY:.0%}. The {WIDEST} widest:\n\n{widest}"
    )


def _method(results: Results) -> str:
    return f"""### How it was measured

- One process (the train venv) runs every engine on the same 10,000 test images, engine
  after engine, in each repeat. Keras, TensorFlow Lite and the NumPy floor get float32
  pixels / 255 prepared beforehand; the ONNX models get uint8 pixels and scale inside the
  graph, so their time includes that conversion. onnxruntime, XNNPACK and OpenBLAS get one
  thread per core; TensorFlow keeps its default (also one per core).
- Batch-1 latency: `mnist_edge.measure.bench.latency_us` (warm-up, then up to
  {LATENCY_RUNS:,} calls on one image; engines slower than 200 µs a call get as many calls as
  fit in a second, at least 30). Throughput: `bench.throughput` over consecutive batches
  for at least 0.5 s.
- Keras `model.predict` is called with `batch_size` equal to the batch (not its default of 32).
- The NumPy floor is relu(x W1 + b1) W2 + b2 and a softmax with the model's own weights:
  {FLOPS_PER_IMAGE:,} floating-point operations per image, two BLAS calls. It is checked to
  agree with Keras within the export's parity tolerance before anything is timed.
- TensorFlow Lite: the Keras model exported as a SavedModel, converted by
  `tf.lite.TFLiteConverter`, run by `tf.lite.Interpreter` (XNNPACK delegate, one thread per
  core), the input resized to each batch.
- Whole processes are spawned fresh through a small parent, `/usr/bin/time` (max RSS; wall
  time from spawn to exit). One untimed run of each comes first, so the OS file cache is
  warm: "cold" is a new interpreter, not an empty page cache. `mnist-edge` runs from a fresh
  venv holding `pip install .` without extras (the device install); the Keras script
  (`benchmarks/keras_predict.py`) runs in the train venv.
- Sizes are `du` of each venv (pip and setuptools included; the train venv is the
  development environment, with the dev, serve and scale extras too) and of each model
  file; sizes and memory are in binary units (1 MiB = 2^20 bytes) throughout.
- Reproduce: `make bench`."""


def _cell(figure: Figure, number: str | Callable[[float], str]) -> str:
    text = number(figure.median) if callable(number) else number.format(figure.median)
    return f"{text} ±{figure.spread:.0%}"


def _ratio(value: float) -> str:
    """Three significant figures at most, never in exponent form: 0.954, 13.5, 2,444."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
