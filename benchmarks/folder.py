"""`make bench`, a folder of images: `mnist-edge predict FOLDER` on small PNG files against a
bare Pillow loop, at 1, 2 and all cores, and what a file costs at each step.

Each `predict` is a whole process, timed from start to exit, pinned to its cores (as
`taskset` would) so that its default workers follow them; the floor is Pillow's own
open + convert + asarray on one thread, in this process, taking turns with the runs so that
the machine's load moves both sides of every ratio.

Usage: python -m benchmarks.folder --output docs/performance.md [--files 10000 30000]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.bare_pillow import read_all
from harness.sections import write_section
from mnist_edge.core.mnist import load_mnist
from mnist_edge.measure.bench import throughput
from mnist_edge.measure.machine import machine
from mnist_edge.runtime.catalog import DEFAULT, TUTORIAL
from mnist_edge.runtime.decode import decode_image
from mnist_edge.runtime.pipeline import DEFAULT_BATCH
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.runtime.sources import ImageFile

CLI = str(Path(sys.executable).with_name("mnist-edge"))
CHECKOUT = Path(__file__).resolve().parents[1]  # where `python -m benchmarks.X` finds them
FILES = (10_000, 30_000)
REPEATS = 3
FLOOR = 'bare Pillow, one thread (`Image.open` + `convert("L")` + `np.asarray`)'
# A developer's shell may set these; a user's run has neither: with them, every record is a
# write of its own and the project's modules are compiled again at each start.
NOT_PASSED_ON = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")
BARE_LOOP = "benchmarks.bare_pillow"  # run as a module: the same loop as a process of its own
FLOOR_PROCESS = "the same loop as a whole process, start to exit (like `predict`)"
IMPORTS = (
    "a Python process that imports what any `predict` needs (NumPy, onnxruntime, Pillow) and exits"
)
DECODER = "mnist-edge's decoder alone, one thread (`decode_image`: limits, checks, preprocessing)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--files", type=int, nargs="+", default=list(FILES))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    digits = load_mnist().x_test
    tables = []
    with tempfile.TemporaryDirectory(prefix="mnist-edge-folder-") as scratch:
        one = Path(scratch, "one.png")
        Image.fromarray(digits[0]).save(one)
        start_up = {
            f"`predict` on one file, `--model {model}`: start-up and exit": _median(
                args.repeats, lambda m=model: _predict(m, [one], None)
            )
            for model in (DEFAULT, TUTORIAL)
        }
        start_up[IMPORTS] = _median(args.repeats, _imports_only)
        for count in args.files:
            folder = Path(scratch, f"{count}")
            files = _write_pngs(folder, digits, count)
            tables.append((count, measure(folder, files, args.repeats)))
    models = {model: _model_rate(model, digits) for model in (DEFAULT, TUTORIAL)}
    section = render(tables, start_up, models, (load_before, os.getloadavg()[0]))
    write_section(args.output, "folder", section)
    print(f"wrote the folder section of {args.output}", file=sys.stderr)


def core_counts() -> list[int]:
    """1, 2 and all the cores this process may use (those that exist)."""
    available = len(os.sched_getaffinity(0))
    return sorted({count for count in (1, 2, available) if count <= available})


def measure(folder: Path, files: list[Path], repeats: int) -> dict[str, list[float]]:
    """files/s of each way of reading `folder`, `repeats` times, taking turns."""
    runs: dict[str, Callable[[], float]] = {
        FLOOR: lambda: _timed(lambda: read_all(files)),
        FLOOR_PROCESS: lambda: _process([sys.executable, "-m", BARE_LOOP, str(folder)], None),
        DECODER: lambda: _timed(lambda: [decode_image(ImageFile(path)) for path in files]),
    }
    for model in (DEFAULT, TUTORIAL):
        for cores in core_counts():
            runs[_row(model, cores)] = lambda m=model, c=cores: _predict(m, [folder], c)
    for run in runs.values():
        run()  # untimed: the files in the page cache, the interpreter's own caches warm
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(repeats):
        for name, run in runs.items():
            rates[name].append(len(files) / run())
        print(f"{len(files):,} files, repeat {repeat + 1} of {repeats}", file=sys.stderr)
    return rates


def render(
    tables: list[tuple[int, dict[str, list[float]]]],
    start_up: dict[str, float],
    models: dict[str, float],
    load: tuple[float, float],
) -> str:
    about = machine()
    lines = [
        f"Made by `make bench` (benchmarks/folder.py) on {about['cpu']}, "
        f"{about['cores']} cores, load {load[0]:.1f} before and {load[1]:.1f} after. Folders "
        "of MNIST test digits saved as 28x28 PNG files; each `predict` a whole process "
        "(`-f jsonl`, records to /dev/null, without `PYTHONUNBUFFERED` or "
        "`PYTHONDONTWRITEBYTECODE` in its environment), start to exit, pinned to its cores; "
        f"the median of {len(next(iter(tables))[1][FLOOR])} runs, each way taking its turn.",
        "",
    ]
    for count, rates in tables:
        floor = statistics.median(rates[FLOOR])
        lines += [f"{count:,} files:", "", "| | files/s | × bare Pillow |", "|---|---|---|"]
        for name, values in rates.items():
            rate = statistics.median(values)
            lines.append(f"| {name} | {rate:,.0f} | {rate / floor:.2f} |")
        lines.append("")
    lines += [
        "What else a run pays, measured in the same run:",
        "",
        "| | |",
        "|---|---|",
    ]
    for count, rates in tables:
        seconds = count / statistics.median(rates[FLOOR])
        lines.append(
            f"| the bare Pillow loop on {count:,} files, for comparison | {seconds:.2f} s |"
        )
    for name, seconds in start_up.items():
        lines.append(f"| {name} | {seconds:.2f} s |")
    for model, rate in models.items():
        lines.append(
            f"| the `{model}` model alone, batches of {DEFAULT_BATCH}, all cores | "
            f"{rate:,.0f} images/s |"
        )
    return "\n".join(lines).rstrip()


def _row(model: str, cores: int) -> str:
    return f"`mnist-edge predict --model {model}`, {cores} core{'s' if cores > 1 else ''}"


def _predict(model: str, inputs: list[Path], cores: int | None) -> float:
    """Seconds for a whole `predict` process on `inputs`, on the first `cores` cores."""
    command = [CLI, "predict", "-q", "-f", "jsonl", "--model", model, *map(str, inputs)]
    return _process(command, cores)


def _process(command: list[str], cores: int | None) -> float:
    """Seconds for a whole process, start to exit, on the first `cores` cores (None: all)."""
    allowed = sorted(os.sched_getaffinity(0))
    pinned = set(allowed[:cores]) if cores else set(allowed)
    environment = {name: value for name, value in os.environ.items() if name not in NOT_PASSED_ON}
    started = time.perf_counter()
    subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
        cwd=CHECKOUT,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, pinned),
    )
    return time.perf_counter() - started


def _imports_only() -> float:
    """Seconds for a process that starts, imports NumPy, onnxruntime and Pillow, and exits:
    the part of a `predict` run that no work on files can shorten."""
    return _process([sys.executable, "-c", "import numpy, onnxruntime, PIL.Image"], None)


def _model_rate(model: str, digits: np.ndarray) -> float:
    predictor = Predictor(model)
    return throughput(predictor.predict_uint8, digits, DEFAULT_BATCH)


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _median(repeats: int, call: Callable[[], float]) -> float:
    call()
    return statistics.median(call() for _ in range(repeats))


def _write_pngs(folder: Path, digits: np.ndarray, count: int) -> list[Path]:
    folder.mkdir()
    paths = [folder / f"{index:05d}.png" for index in range(count)]
    for index, path in enumerate(paths):
        Image.fromarray(digits[index % len(digits)]).save(path)
    return paths


if __name__ == "__main__":
    main()
