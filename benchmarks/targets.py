"""The issue's targets, checked against the medians of a run: a verdict per target, no asserts.

They are checked here, in the benchmark's output, rather than in timed tests, which would
fail whenever the shared machine is busy.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.backends import ONNX_FLOAT32
from benchmarks.figures import (
    FILES,
    FILES_PER_SECOND,
    FOLDER,
    MAX_RSS_MIB,
    MEDIAN_US,
    SECONDS,
    SPEED_UP_VS_KERAS,
    Figure,
    Key,
    vs_floor,
    vs_keras,
)
from benchmarks.processes import CLI_PROCESS
from harness.processes import MIB

if TYPE_CHECKING:
    from benchmarks.batch_one import BatchOne

FLOOR_RATIO = 0.95  # onnxruntime float32 vs NumPy floor, batch >= 1024
FLOOR_RATIO_LARGEST = 1.0  # and at the largest batch: single-image work must not cost this
KERAS_RATIO = 10  # onnxruntime float32 vs Keras model.predict, batch >= 1024
LATENCY_US = 100  # batch-1, in-process
COLD_START_S = 0.6  # `mnist-edge predict one.png`, whole process
COLD_START_SPEED_UP = 8  # vs a Python script that loads the Keras model
COLD_START_RSS_MIB = 150
RUNTIME_INSTALL_MIB = 250
TRAIN_INSTALL_MIB = 1024  # "well over 1 GiB": at least this
FOLDER_FILES_PER_SECOND = 3000  # 10,000 28x28 PNG files on 2 cores


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool


def verdicts(
    figures: dict[Key, Figure], sizes: dict[str, int], batches: tuple[int, ...]
) -> list[Verdict]:
    """One verdict per target of the issue, from the medians."""

    def median(row: str, column: str) -> float:
        return figures[(row, column)].median

    def at_each_batch(column) -> tuple[str, list[float]]:
        ratios = [median(ONNX_FLOAT32, column(batch)) for batch in batches]
        text = ", ".join(
            f"{ratio:.2f}× @ {batch:,}" for ratio, batch in zip(ratios, batches, strict=True)
        )
        return text, ratios

    floor_text, floor_ratios = at_each_batch(vs_floor)
    keras_text, keras_ratios = at_each_batch(vs_keras)
    latency = median(ONNX_FLOAT32, MEDIAN_US)
    cold, rss = median(CLI_PROCESS, SECONDS), median(CLI_PROCESS, MAX_RSS_MIB)
    speed_up = median(CLI_PROCESS, SPEED_UP_VS_KERAS)
    runtime_mib, train_mib = sizes["runtime venv"] / MIB, sizes["train venv"] / MIB
    files, files_per_second = median(FOLDER, FILES), median(FOLDER, FILES_PER_SECOND)
    return [
        Verdict(
            f"onnxruntime float32 ≥ {FLOOR_RATIO}× NumPy floor, batch ≥ 1024",
            floor_text,
            min(floor_ratios) >= FLOOR_RATIO,
        ),
        Verdict(
            f"onnxruntime float32 ≥ {FLOOR_RATIO_LARGEST:.1f}× NumPy floor, batch {batches[-1]:,}",
            f"{floor_ratios[-1]:.2f}×",
            floor_ratios[-1] >= FLOOR_RATIO_LARGEST,
        ),
        Verdict(
            f"onnxruntime float32 ≥ {KERAS_RATIO}× Keras model.predict, batch ≥ 1024",
            keras_text,
            min(keras_ratios) >= KERAS_RATIO,
        ),
        Verdict(
            f"batch-1 latency < {LATENCY_US} µs in-process (onnxruntime float32)",
            f"{latency:.1f} µs",
            latency < LATENCY_US,
        ),
        Verdict(
            f"cold start `{CLI_PROCESS}` < {COLD_START_S} s", f"{cold:.3f} s", cold < COLD_START_S
        ),
        Verdict(
            f"cold start ≥ {COLD_START_SPEED_UP}× faster than the Keras script",
            f"{speed_up:.1f}×",
            speed_up >= COLD_START_SPEED_UP,
        ),
        Verdict(
            f"cold start peak RSS < {COLD_START_RSS_MIB} MiB",
            f"{rss:.0f} MiB",
            rss < COLD_START_RSS_MIB,
        ),
        Verdict(
            f"runtime-only install < {RUNTIME_INSTALL_MIB} MiB on disk",
            f"{runtime_mib:.0f} MiB",
            runtime_mib < RUNTIME_INSTALL_MIB,
        ),
        Verdict(
            f"train install well over {TRAIN_INSTALL_MIB / 1024:.0f} GiB",
            f"{train_mib:,.0f} MiB",
            train_mib > TRAIN_INSTALL_MIB,
        ),
        Verdict(
            f"`predict` over a folder of 10,000 PNG files ≥ {FOLDER_FILES_PER_SECOND:,} files/s",
            f"{files_per_second:,.0f} files/s ({files:,.0f} files)",
            files_per_second >= FOLDER_FILES_PER_SECOND,
        ),
    ]


def batch_one_verdicts(result: "BatchOne") -> list[Verdict]:
    """The batch-1 targets, from the like-for-like measurement (benchmarks/batch_one.py):
    one thread each, the second core idle."""
    from benchmarks.batch_one import BARE, OVERHEAD_TARGET, PREDICTOR, REQUIRED, TFLITE, Row

    checked = []
    for model in ("float32", "int8"):
        predictor, tflite = Row(model, 1, PREDICTOR), Row(model, 1, TFLITE)
        ratio = result.ratio(predictor, BARE)
        required = result.ratio(Row(model, 1, REQUIRED), BARE)
        checked.append(
            Verdict(
                f"`Predictor.predict` batch-1 median ≤ {OVERHEAD_TARGET}× onnxruntime's bare "
                f"bound call ({model}, 1 thread)",
                f"{ratio:.2f}× (all that is required, inline: {required:.2f}×)",
                ratio <= OVERHEAD_TARGET,
            )
        )
        mine, theirs = result.timing(predictor), result.timing(tflite)
        checked.append(
            Verdict(
                f"onnxruntime {model} batch-1 median and p99 ≤ {TFLITE} {model}'s (1 thread each)",
                f"{mine.median_us:.1f} / {mine.p99_us:.1f} µs against "
                f"{theirs.median_us:.1f} / {theirs.p99_us:.1f} µs",
                mine.median_us <= theirs.median_us and mine.p99_us <= theirs.p99_us,
            )
        )
    return checked
