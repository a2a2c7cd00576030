"""The figures of one run, keyed (row, column), and their median and spread over the repeats.

Ratios are taken inside each repeat, then summarised like any other figure: two engines
timed a few seconds apart share the machine's mood, so their ratio is steadier than the
ratio of two medians taken minutes apart.
"""

import statistics
from dataclasses import dataclass

from benchmarks.backends import KERAS_PREDICT, NUMPY_FLOOR
from benchmarks.processes import CLI_PROCESS, KERAS_PROCESS

Key = tuple[str, str]  # (row, column): (engine or process, what was measured)
Sample = dict[Key, float]  # one repeat's figures

MEDIAN_US = "batch-1 median (µs)"
P99_US = "batch-1 p99 (µs)"
LATENCY_VS_KERAS = "batch-1 speed-up vs Keras predict (×)"
SECONDS = "wall time (s)"
MAX_RSS_MIB = "max RSS (MiB)"
SPEED_UP_VS_KERAS = "speed-up vs Keras script (×)"
FOLDER = "mnist-edge predict, folder of PNG files"
FILES = "files"
FILES_PER_SECOND = "files/s"


def per_second(batch: int) -> str:
    return f"images/s @ {batch:,}"


def vs_floor(batch: int) -> str:
    return f"× NumPy floor @ {batch:,}"


def vs_keras(batch: int) -> str:
    return f"× Keras predict @ {batch:,}"


@dataclass(frozen=True)
class Figure:
    median: float
    low: float
    high: float

    @property
    def spread(self) -> float:
        """Half the min-max range over the repeats, relative to the median (0.05 = ±5%)."""
        return (self.high - self.low) / 2 / self.median if self.median else 0.0


def add_ratios(sample: Sample, engines: list[str], batches: tuple[int, ...]) -> None:
    """Each engine against the NumPy floor and Keras predict, and the CLI against the script."""
    for engine in engines:
        for batch in batches:
            images_per_second = sample[(engine, per_second(batch))]
            floor = sample[(NUMPY_FLOOR, per_second(batch))]
            keras = sample[(KERAS_PREDICT, per_second(batch))]
            sample[(engine, vs_floor(batch))] = images_per_second / floor
            sample[(engine, vs_keras(batch))] = images_per_second / keras
        keras_latency = sample[(KERAS_PREDICT, MEDIAN_US)]
        sample[(engine, LATENCY_VS_KERAS)] = keras_latency / sample[(engine, MEDIAN_US)]
    cli, script = sample[(CLI_PROCESS, SECONDS)], sample[(KERAS_PROCESS, SECONDS)]
    sample[(CLI_PROCESS, SPEED_UP_VS_KERAS)] = script / cli


def summarise(samples: list[Sample]) -> dict[Key, Figure]:
    """Median, min and max of every figure over the repeats."""
    return {
        key: Figure(
            statistics.median(sample[key] for sample in samples),
            min(sample[key] for sample in samples),
            max(sample[key] for sample in samples),
        )
        for key in samples[0]
    }
