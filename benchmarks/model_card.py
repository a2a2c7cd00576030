"""`make model-card`: docs/model-card.md's table of models, every figure measured in one run.

Each folder named is one training run holding model.onnx and model.int8.onnx (exported
with parity proven) and metrics.json. Both files of each are measured on the same images:
parameters (from the model's metadata), file size, accuracy on the MNIST test split, on the
wild set (harness/wild_digits.py: MNIST test digits re-drawn as users' pictures) and on the
non-MNIST set (harness/other_digits.py: fonts and pen strokes), batch-1 latency and
throughput at batch 1,024 (measure/bench.py). Speed is measured REPEATS times, the models
interleaved, and the median kept; each ratio to the tutorial MLP is taken within a repeat.
Then the issue's targets are checked against the figures.

Usage: python -m benchmarks.model_card docs/model-card.md FOLDER...
"""

import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.other_digits import COUNT as OTHER_COUNT
from harness.other_digits import other_digits
from harness.sections import write_section
from harness.targets import (
    CNN_INT8_MAX_BYTES,
    CNN_INT8_MAX_DROP,
    CNN_OTHER_MARGIN_POINTS,
    CNN_TEST_ACCURACY,
    CNN_THROUGHPUT_RATIO,
    CNN_WILD_ACCURACY,
)
from harness.wild_digits import COUNT as WILD_COUNT
from harness.wild_digits import wild_inputs, wild_set
from mnist_edge.core.contract import META_ARCHITECTURE, META_TRAINING
from mnist_edge.core.mnist import load_mnist
from mnist_edge.measure.bench import latency_us, throughput
from mnist_edge.measure.machine import machine
from mnist_edge.runtime import Predictor

REPEATS = 5
LATENCY_RUNS = 2000
BATCH = 1024
SECTION = "model-card"


@dataclass
class Row:
    """One ONNX file and its figures."""

    label: str  # "CNN+augment int8"
    path: Path
    arch: str
    augment: bool
    int8: bool
    parameters: int | None
    layers: str
    training: str  # "285 (load 3.1-4.0)": seconds and the load average around them
    predictor: Predictor
    accuracy: dict[str, float] = field(default_factory=dict)  # mnist, wild, other
    latency_us: list[float] = field(default_factory=list)  # one median per repeat
    images_per_second: list[float] = field(default_factory=list)  # one per repeat
    ratio_to_mlp: list[float] = field(default_factory=list)  # throughput, one per repeat


def rows_of(folder: Path) -> list[Row]:
    """The float32 and int8 rows of one training run."""
    metrics = json.loads((folder / "metrics.json").read_text())
    rows = []
    for int8, name in ((False, "model.onnx"), (True, "model.int8.onnx")):
        predictor = Predictor(folder / name)
        network = predictor.metadata.get(META_ARCHITECTURE) or {}
        training = predictor.metadata.get(META_TRAINING) or {}
        arch, augment = str(training.get("arch", "mlp")), bool(training.get("augment"))
        label = f"{arch.upper()}{'+augment' if augment else ''}{' int8' if int8 else ''}"
        rows.append(
            Row(
                label=label,
                path=folder / name,
                arch=arch,
                augment=augment,
                int8=int8,
                parameters=network.get("parameters"),
                layers=str(network.get("layers", "-")),
                training=training_time(metrics),
                predictor=predictor,
            )
        )
    return rows


def training_time(metrics: dict) -> str:
    seconds, loads = metrics.get("train_seconds"), metrics.get("load_average")
    if seconds is None:
        return "-"
    return f"{seconds:.0f}" + (f" (load {loads[0]:.1f}-{loads[1]:.1f})" if loads else "")


def measure_accuracy(rows: list[Row]) -> None:
    """MNIST test, wild and non-MNIST accuracy of every row (each set made once)."""
    mnist = load_mnist()
    wild_images, wild_truth, _ = wild_inputs(wild_set(mnist.x_test, WILD_COUNT), mnist.y_test)
    other = other_digits()
    sets = {
        "mnist": (mnist.x_test, mnist.y_test),
        "wild": (wild_images, wild_truth),
        "other": (other.images, other.labels),
    }
    for row in rows:
        for name, (images, labels) in sets.items():
            predicted = row.predictor.predict(images).argmax(axis=1)
            row.accuracy[name] = float(np.mean(predicted == labels))


def measure_speed(rows: list[Row], baseline: Row) -> None:
    """Batch-1 latency and batch-1,024 throughput, REPEATS rounds over all rows."""
    images = load_mnist().x_test
    one = np.ascontiguousarray(images[:1])
    for repeat in range(REPEATS):
        print(f"speed, round {repeat + 1} of {REPEATS}", file=sys.stderr, flush=True)
        for row in rows:
            predict = row.predictor.predict
            row.latency_us.append(latency_us(lambda p=predict: p(one), LATENCY_RUNS)["median_us"])
            row.images_per_second.append(throughput(predict, images, BATCH))
        for row in rows:
            row.ratio_to_mlp.append(row.images_per_second[-1] / baseline.images_per_second[-1])


def card_table(rows: list[Row]) -> str:
    header = (
        "| model | parameters | file | MNIST test | wild set | non-MNIST | batch-1 latency "
        f"(µs) | images/s @ {BATCH:,} | × MLP images/s | training (s, 2 cores) |"
    )
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        size = row.path.stat().st_size
        lines.append(
            f"| {row.label} | {row.parameters or 0:,} | {size / 1024:,.0f} KiB "
            f"| {row.accuracy['mnist']:.2%} | {row.accuracy['wild']:.2%} "
            f"| {row.accuracy['other']:.2%} | {statistics.median(row.latency_us):.1f} "
            f"| {statistics.median(row.images_per_second):,.0f} "
            f"| {statistics.median(row.ratio_to_mlp):.2f} "
            f"| {'' if row.int8 else row.training} |"
        )
    return "\n".join(lines)


def targets_table(rows: list[Row]) -> str:
    """The issue's targets for the CNN trained with augmentation, against the figures."""
    by_label = {row.label: row for row in rows}
    cnn, cnn8, mlp = by_label["CNN+augment"], by_label["CNN+augment int8"], by_label["MLP"]
    best_other = max((r for r in rows if not r.int8), key=lambda r: r.accuracy["other"])
    margin = 100 * (cnn.accuracy["other"] - mlp.accuracy["other"])
    drop = 100 * (cnn.accuracy["mnist"] - cnn8.accuracy["mnist"])
    ratio = statistics.median(cnn.ratio_to_mlp)
    checks = [
        (f"CNN+augment MNIST test ≥ {CNN_TEST_ACCURACY:.1%}", f"{cnn.accuracy['mnist']:.2%}",
         cnn.accuracy["mnist"] >= CNN_TEST_ACCURACY),
        (f"CNN+augment wild set ≥ {CNN_WILD_ACCURACY:.0%}", f"{cnn.accuracy['wild']:.2%}",
         cnn.accuracy["wild"] >= CNN_WILD_ACCURACY),
        ("CNN+augment best of the float32 models on non-MNIST",
         f"best: {best_other.label} {best_other.accuracy['other']:.2%}", best_other is cnn),
        (f"CNN+augment ≥ {CNN_OTHER_MARGIN_POINTS:g} points above the tutorial MLP on non-MNIST",
         f"{margin:+.1f} points", margin >= CNN_OTHER_MARGIN_POINTS),
        (f"CNN+augment int8 file ≤ {CNN_INT8_MAX_BYTES / 1000:g} KB",
         f"{cnn8.path.stat().st_size / 1024:.0f} KiB",
         cnn8.path.stat().st_size <= CNN_INT8_MAX_BYTES),
        (f"CNN+augment int8 loses ≤ {100 * CNN_INT8_MAX_DROP:g} points on MNIST test",
         f"{drop:.2f} points", drop <= 100 * CNN_INT8_MAX_DROP),
        (f"CNN images/s at batch 1,024 ≥ {CNN_THROUGHPUT_RATIO:.0%} of the MLP's (float32)",
         f"{ratio:.0%}", ratio >= CNN_THROUGHPUT_RATIO),
    ]  # fmt: skip
    lines = ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if met else '**no**'} |" for name, value, met in checks]
    return "\n".join(lines)


def section(rows: list[Row], loads: tuple[float, float], seconds: float) -> str:
    info = machine()
    networks = sorted({(row.arch, row.layers) for row in rows})
    return "\n\n".join(
        [
            f"Measured by `make model-card` on {time.strftime('%Y-%m-%d')}: {info['cpu']}, "
            f"{info['cores']} cores ({' '.join(info['flags'])}), onnxruntime's default "
            f"threads; load average (1 min) {loads[0]:.2f} at the start, {loads[1]:.2f} at "
            f"the end, {seconds:.0f} s. Accuracy on the 10,000 MNIST test images, the "
            f"{WILD_COUNT:,} wild digits and the {OTHER_COUNT:,} non-MNIST digits; speed "
            f"is the median of {REPEATS} rounds, the models interleaved, and × MLP is the "
            "ratio of images/s to the tutorial MLP's (float32) within each round. Training "
            "time is what `mnist-edge train` recorded for the run (metrics.json), with the "
            "1-minute load average before and after it (2 cores: above 2, other work was "
            "waiting for them too).",
            card_table(rows),
            "\n".join(f"- {arch.upper()}: {layers}" for arch, layers in networks),
            targets_table(rows),
        ]
    )


def main() -> None:
    page, folders = Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]]
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    rows = [row for folder in folders for row in rows_of(folder)]
    print(f"accuracy of {len(rows)} models ...", file=sys.stderr, flush=True)
    measure_accuracy(rows)
    measure_speed(rows, baseline=next(row for row in rows if row.label == "MLP"))
    text = section(rows, (load_start, os.getloadavg()[0]), time.perf_counter() - started)
    write_section(page, SECTION, text)
    print(text)


if __name__ == "__main__":
    main()
