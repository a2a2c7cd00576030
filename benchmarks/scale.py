"""`make bench-scale`: the Ray engine against the local engine, on this machine's cores.

Two folders are made: 10,000 MNIST test digits as 28x28 PNG files, and 2,000 of them drawn
ten times larger, dark on white, as 280x280 JPEGs. Each is predicted by the local engine,
then by the Ray engine with 1 and with 2 workers, on one local Ray instance; every figure
is the median of the repeats. Ray's fixed costs (starting an instance, a run's actors, a
whole `predict --engine ray` process) and the size of the scale extra are measured too.
Writes the `scale` section of docs/cluster.md: the figures and what they project to.

Usage: python -m benchmarks.scale --output docs/cluster.md --repeats 3
"""

import argparse
import functools
import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.figures import Sample, summarise
from benchmarks.scale_report import (
    CLI_LOCAL,
    CLI_RAY,
    DRIVER,
    EFFICIENCY,
    FIRST,
    LARGE,
    LISTED,
    LOCAL,
    MACHINE,
    RAY_START,
    RUN,
    SMALL,
    STEADY,
    WHOLE,
    WRITTEN,
    ScaleResults,
    engine_name,
    render,
    row,
)
from harness.sections import write_section
from mnist_edge.core.mnist import load_mnist
from mnist_edge.measure.machine import machine
from mnist_edge.runtime.catalog import TUTORIAL
from mnist_edge.runtime.pipeline import PipelineOptions, predict_paths
from mnist_edge.runtime.predictor import Predictor

PROJECT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("mnist-edge"))
SMALL_FILES = 10_000
LARGE_FILES = 2_000
LARGE_SIDE = 280  # pixels: ten times MNIST's 28
PASSES = {SMALL: 4, LARGE: 8}  # each folder read this many times in one timed run, so that
# the work (10-15 s on one core) is long next to the start of a run's actors (2-5 s here)
WORKERS = (1, 2)
RAY_CPUS = 2  # the local instance: this machine's two cores, as CI has them


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PROJECT / "docs" / "cluster.md")
    parser.add_argument("--repeats", type=int, default=3, help="Default: 3; medians reported.")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Fraction of the files, for a quick try."
    )
    return parser.parse_args()


def make_sets(folder: Path, digits: np.ndarray, scale: float = 1.0) -> dict[str, Path]:
    """The two folders of images, named as the report names them."""
    from PIL import Image

    small, large = folder / "png-28", folder / "jpeg-280"
    small.mkdir()
    large.mkdir()
    for index in range(round(SMALL_FILES * scale)):
        Image.fromarray(digits[index]).save(small / f"{index:05d}.png")
    for index in range(round(LARGE_FILES * scale)):
        drawn = Image.fromarray(255 - digits[index]).resize((LARGE_SIDE, LARGE_SIDE))
        drawn.convert("RGB").save(large / f"{index:05d}.jpg", quality=90)
    return {SMALL: small, LARGE: large}


def timed(predictions: Iterable[object]) -> dict[str, float]:
    """A run's seconds, its first record's, and its files/s after the first record (records
    come a batch at a time: the first batch counted as instant biases that by < 1%)."""
    started = time.perf_counter()
    first, count = None, 0
    for _ in predictions:
        count += 1
        first = first or time.perf_counter() - started
    seconds = time.perf_counter() - started
    steady = (count - 1) / (seconds - first) if count > 1 and seconds > first else float("nan")
    return {RUN: seconds, FIRST: first or seconds, WHOLE: count / seconds, STEADY: steady}


def engines(predictor: Predictor) -> dict[str, Callable[[list[Path]], Iterable[object]]]:
    """The runs compared: the local engine, then Ray with each of WORKERS."""
    from mnist_edge.scale.engine import stream_predictions

    runs = {LOCAL: functools.partial(predict_paths, predictor)}
    for workers in WORKERS:
        options = PipelineOptions(workers=workers)
        runs[engine_name(workers)] = functools.partial(
            stream_predictions, predictor, options=options
        )
    return runs


def one_repeat(sets: dict[str, Path], predictor: Predictor) -> Sample:
    """Every engine on every set (read PASSES times in a run), on one Ray instance."""
    from mnist_edge.scale.cluster import ray_session

    sample: Sample = {}
    with ray_session(cpus=RAY_CPUS):
        timed(engines(predictor)[engine_name(1)]([first_file(sets[SMALL])]))  # untimed: a
        # session's first run also starts Ray Data's own actors
        for name, folder in sets.items():
            for engine, run in engines(predictor).items():
                figures = timed(run([folder] * PASSES[name]))
                sample |= {(row(name, engine), key): value for key, value in figures.items()}
                _progress(f"{name}, {engine}: {figures[STEADY]:,.0f} files/s")
    return sample


def machine_efficiency(sets: dict[str, Path]) -> Sample:
    """The machine's own scaling, without Ray: the local engine on one thread in one process,
    then in two processes at once; their rate over twice the first (1.0 on idle cores)."""
    sample: Sample = {}
    spawn = multiprocessing.get_context("spawn")  # a fork of a process that ran Ray can crash
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        list(pool.map(one_core_seconds, [first_file(sets[SMALL])] * 2))  # start both processes
        for name, folder in sets.items():
            one = max(pool.map(one_core_seconds, [folder]))
            two = max(pool.map(one_core_seconds, [folder] * 2))
            sample[(row(name, MACHINE), EFFICIENCY)] = one / two
            _progress(f"{name}, {MACHINE}: {one / two:.2f}")
    return sample


def one_core_seconds(path: Path) -> float:
    """Seconds for the local engine to predict `path` on one decoding and one model thread."""
    predictor = Predictor(threads=1)
    return timed(predict_paths(predictor, [path], PipelineOptions(workers=1)))[RUN]


def driver_rates(folder: Path, predictor: Predictor) -> Sample:
    """What the driver alone does per input, one thread: list the files and make their rows;
    write records to stdout as jsonl (here to memory)."""
    from mnist_edge.runtime.report import make_writer
    from mnist_edge.scale.inputs import entries, rows_table

    started = time.perf_counter()
    listed = list(entries([folder], recursive=False))
    rows_table(listed)
    listing = len(listed) / (time.perf_counter() - started)
    predictions = list(predict_paths(predictor, [folder]))
    writer = make_writer("jsonl", io.StringIO())
    started = time.perf_counter()
    for prediction in predictions:
        writer.write(prediction)
    writing = len(predictions) / (time.perf_counter() - started)
    return {(DRIVER, LISTED): listing, (DRIVER, WRITTEN): writing}


def first_file(folder: Path) -> Path:
    return min(folder.iterdir())


def extra_sizes() -> dict[str, int]:
    """Bytes the scale extra adds to the runtime install: ray[data] and what it requires,
    less what the runtime already requires; by distribution."""
    added = requirement_closure("ray", ("data",)) - requirement_closure("mnist-edge")
    return {name: distribution_bytes(name) for name in sorted(added)}


def requirement_closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """The installed distributions `name[extras]` needs, itself included (normalised names)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: set[str] = set()
    wanted = [(name, extras)]
    while wanted:
        name, extras = wanted.pop()
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        found.add(canonicalize_name(name))
        for requirement in map(Requirement, requires):
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in extras or ("",)):
                if canonicalize_name(requirement.name) not in found:
                    wanted.append((requirement.name, tuple(requirement.extras)))
    return found


def distribution_bytes(name: str) -> int:
    from importlib import metadata

    files = metadata.distribution(name).files or []
    return sum(
        os.path.getsize(path) for path in map(Path, (f.locate() for f in files)) if path.is_file()
    )


def ray_start_seconds() -> float:
    """Starting a local Ray instance of RAY_CPUS CPUs and stopping it again."""
    from mnist_edge.scale.cluster import ray_session

    started = time.perf_counter()
    with ray_session(cpus=RAY_CPUS):
        seconds = time.perf_counter() - started
    return seconds


def cli_seconds(image: Path) -> Sample:
    """Whole `mnist-edge predict one.png` processes, local and on Ray: wall time."""
    sample: Sample = {}
    for name, extra in ((CLI_LOCAL, []), (CLI_RAY, ["--engine", "ray"])):
        started = time.perf_counter()
        subprocess.run([CLI, "predict", *extra, str(image)], capture_output=True, check=True)
        sample[(name, RUN)] = time.perf_counter() - started
    return sample


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    predictor = Predictor(TUTORIAL)  # the figures published so far are the tutorial model's
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        sets = make_sets(Path(scratch), load_mnist().x_test, args.scale)
        image = first_file(sets[SMALL])
        samples = []
        for repeat in range(1, args.repeats + 1):
            _progress(f"repeat {repeat} of {args.repeats}")
            sample = {(RAY_START, RUN): ray_start_seconds()} | cli_seconds(image)
            sample |= machine_efficiency(sets)
            sample |= driver_rates(sets[SMALL], predictor)
            samples.append(sample | one_repeat(sets, predictor))
        counts = {name: len(list(folder.iterdir())) for name, folder in sets.items()}
    results = ScaleResults(
        figures=summarise(samples),
        files=counts,
        passes=PASSES,
        sizes=extra_sizes(),
        repeats=args.repeats,
        machine=machine(),
        load=(load_before, os.getloadavg()[0]),
        command=" ".join(["python -m benchmarks.scale", *sys.argv[1:]]),
    )
    write_section(args.output, "scale", render(results))
    _progress(f"wrote {args.output}")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
