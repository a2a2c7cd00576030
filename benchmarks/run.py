"""`make bench`: every engine on the same 10,000 MNIST test images, start-up, memory, sizes.

Then one image at a time, the engines like for like and interleaved (benchmarks/batch_one.py).
Writes the `engines` and `batch-1` sections of docs/performance.md.

Usage: python -m benchmarks.run --output docs/performance.md --repeats 3
Needs the train extra (TensorFlow, Keras) and a trained model (build/model/model.keras);
builds a throw-away runtime-only venv with pip for the start-up and install-size figures.
"""

import argparse
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import batch_one, batch_one_report
from benchmarks.backends import Backend, Images, all_backends, max_differences
from benchmarks.figures import (
    FILES,
    FILES_PER_SECOND,
    FOLDER,
    MAX_RSS_MIB,
    MEDIAN_US,
    P99_US,
    SECONDS,
    Sample,
    add_ratios,
    per_second,
    summarise,
)
from benchmarks.processes import (
    cold_start_commands,
    disk_bytes,
    installed_versions,
    run_process,
    runtime_venv,
)
from benchmarks.report import Results, render
from harness.sections import write_section
from mnist_edge.core.mnist import load_mnist
from mnist_edge.export.run import load_keras
from mnist_edge.measure.bench import (
    BATCH_SIZES,
    FOLDER_FILES,
    LATENCY_RUNS,
    bench_folder,
    latency_us,
    throughput,
)
from mnist_edge.measure.machine import machine
from mnist_edge.runtime.catalog import TUTORIAL
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.train.model import scale_pixels

PROJECT = Path(__file__).resolve().parents[1]
BATCHES = tuple(batch for batch in BATCH_SIZES if batch >= 1024)  # the 1024 and 10,000
LATENCY_SECONDS = 1.0  # slow engines (Keras predict: ~0.1 s a call) get fewer latency runs
MIN_LATENCY_RUNS = 30
TRAIN_DISTRIBUTIONS = ("tensorflow-cpu", "tensorflow", "keras", "onnxruntime", "numpy", "pillow")
RUNTIME_DISTRIBUTIONS = ("onnxruntime", "numpy", "pillow", "typer")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT / "docs" / "performance.md",
        help="The page. Default: docs/performance.md.",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="Runs of everything; medians reported. Default: 3."
    )
    parser.add_argument(
        "--keras-model",
        type=Path,
        default=PROJECT / "build" / "model" / "model.keras",
        help="Trained Keras model. Default: build/model/model.keras (from `make model`).",
    )
    parser.add_argument(
        "--files",
        type=int,
        default=FOLDER_FILES,
        help=f"PNG files in the folder benchmark. Default: {FOLDER_FILES:,}.",
    )
    args = parser.parse_args()
    if args.repeats < 1 or args.files < 1:
        parser.error("--repeats and --files must be at least 1")
    if not args.keras_model.is_file():
        parser.error(f"{args.keras_model}: no such model; run `make model` or pass --keras-model")
    return args


def in_process(backends: list[Backend], images: Images) -> Sample:
    """Batch-1 latency and throughput at each of BATCHES, engine after engine."""
    sample = {}
    for backend in backends:
        inputs = images.for_backend(backend)
        one = functools.partial(backend.predict, np.ascontiguousarray(inputs[:1]))
        latency = latency_us(one, runs=latency_runs(one))
        sample[(backend.name, MEDIAN_US)] = latency["median_us"]
        sample[(backend.name, P99_US)] = latency["p99_us"]
        for batch in BATCHES:
            sample[(backend.name, per_second(batch))] = throughput(backend.predict, inputs, batch)
        _progress(f"{backend.name}: {latency['median_us']:.1f} µs at batch 1")
    return sample


def latency_runs(call: Callable[[], object]) -> int:
    """As many calls as fit in LATENCY_SECONDS, between MIN_LATENCY_RUNS and bench's own."""
    started = time.perf_counter()
    for _ in range(10):
        call()
    per_call = (time.perf_counter() - started) / 10
    return int(min(LATENCY_RUNS, max(MIN_LATENCY_RUNS, LATENCY_SECONDS / per_call)))


def whole_processes(commands: dict[str, list[str]]) -> Sample:
    sample = {}
    for name, command in commands.items():
        run = run_process(command)
        sample[(name, SECONDS)], sample[(name, MAX_RSS_MIB)] = run.seconds, run.max_rss_mib
        _progress(f"{name}: {run.seconds:.3f} s, {run.max_rss_mib:.0f} MiB")
    return sample


def folder(predictor: Predictor, images: Images, files: int) -> Sample:
    result = bench_folder(predictor, images.uint8, files=files)
    _progress(f"{FOLDER}: {result['files_per_second']:,.0f} files/s")
    return {
        (FOLDER, FILES): result["files"],
        (FOLDER, FILES_PER_SECOND): result["files_per_second"],
    }


def sizes(venv: Path, backends: list[Backend]) -> dict[str, int]:
    """Bytes on disk of both installs and of every model file an engine runs."""
    models = {
        f"model file {backend.model_file}": backend.model_bytes
        for backend in backends
        if backend.model_file is not None
    }
    return {"runtime venv": disk_bytes(venv), "train venv": disk_bytes(Path(sys.prefix)), **models}


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    threads = os.cpu_count() or 1
    mnist = load_mnist()
    images = Images(mnist.x_test, scale_pixels(mnist.x_test))
    keras_model = load_keras(args.keras_model)
    backends = all_backends(keras_model, args.keras_model, threads)
    differences = max_differences(backends, images)
    graphs = batch_one.graphs(keras_model, mnist.x_train)
    predictor = Predictor(TUTORIAL)  # the model the engines are compared on, default threads
    with runtime_venv(PROJECT) as venv, tempfile.TemporaryDirectory() as scratch:
        png = Path(scratch, "one.png")
        _save_png(images.uint8[0], png)
        commands = cold_start_commands(venv, args.keras_model, png)
        for command in commands.values():
            run_process(command)  # untimed: warms the OS file cache
        samples = []
        for repeat in range(1, args.repeats + 1):
            _progress(f"repeat {repeat} of {args.repeats}")
            sample = in_process(backends, images) | whole_processes(commands)
            sample |= folder(predictor, images, args.files)
            add_ratios(sample, [backend.name for backend in backends], BATCHES)
            samples.append(sample)
        _progress("batch 1, interleaved")
        one_at_a_time = batch_one.measure(keras_model, mnist, graphs)
        results = Results(
            figures=summarise(samples),
            sizes=sizes(venv, backends),
            differences=differences,
            engines=[backend.name for backend in backends],
            processes=list(commands),
            batches=BATCHES,
            repeats=args.repeats,
            machine=machine(),
            versions={
                "train venv": installed_versions(sys.executable, TRAIN_DISTRIBUTIONS),
                "runtime venv": installed_versions(venv / "bin" / "python", RUNTIME_DISTRIBUTIONS),
                "NumPy's BLAS (the floor)": _blas(),
            },
            command=" ".join(["python -m benchmarks.run", *sys.argv[1:]]),
            load=(load_before, os.getloadavg()[0]),
            batch_one=one_at_a_time,
        )
    write_section(args.output, "engines", render(results))
    write_section(args.output, "batch-1", batch_one_report.section(one_at_a_time))
    _progress(f"wrote {args.output}")


def _blas() -> dict[str, str]:
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {blas["name"]: blas["version"]}


def _save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(image).save(path)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
