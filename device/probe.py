"""Record what an installed mnist-edge answers on this machine, for device/parity.py.

Usage (from a folder holding data/mnist.npz and samples/):
    VENV/bin/python probe.py OUTPUT_DIR [--models MODEL...] [--no-evaluate MODEL...]

For each shipped model (--models: by name; default: every model the package ships, as
`mnist-edge models` lists them), runs the installed `mnist-edge` command (predict on
samples/, evaluate on the MNIST test split, unless --no-evaluate names the model) and the
Python API (the raw float32 probabilities of the 10,000 test images), and writes into
OUTPUT_DIR: predict-MODEL.jsonl, evaluate-MODEL.json, probabilities-MODEL.npy and
environment.json (machine, versions, the shipped models, the models probed, seconds per
step). Needs only the runtime install: it runs inside the emulated arm64 root filesystem too.
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from mnist_edge.runtime import Predictor, shipped_models

CLI = str(Path(sys.executable).with_name("mnist-edge"))
DATA = Path("data/mnist.npz")
SAMPLES = Path("samples")
DISTRIBUTIONS = ("mnist-edge", "onnxruntime", "numpy", "pillow", "typer")
# onnxruntime threads for the 10,000-image runs: under qemu a second thread's spin-waiting made
# them 1.3-1.6x slower, and the probabilities do not depend on it (predict keeps the default).
THREADS = 1


def run_cli(arguments: list[str], output: Path) -> None:
    """`mnist-edge ARGUMENTS`, its stdout saved; a failure stops the probe with its stderr."""
    run = subprocess.run([CLI, *arguments], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"probe: mnist-edge {' '.join(arguments)} exited {run.returncode}: {run.stderr}")
    output.write_text(run.stdout)


def probabilities(model: str, output: Path) -> None:
    """The model's raw output on the test split, through the Python API."""
    with np.load(DATA, allow_pickle=False) as mnist:
        images = mnist["x_test"]  # uint8 (10000, 28, 28)
    np.save(output, Predictor(model, threads=THREADS).predict(images))  # float32 (10000, 10)


def steps(model: str, output: Path, evaluate: bool) -> dict[str, Callable[[], None]]:
    """What is recorded of one shipped model, by step name (`evaluate`: run that command)."""
    options = ["--model", model, "--threads", str(THREADS)]
    recorded = {
        "predict": lambda: run_cli(
            ["predict", str(SAMPLES), "--model", model, "--format", "jsonl"],
            output / f"predict-{model}.jsonl",
        ),
        "evaluate": lambda: run_cli(
            ["evaluate", str(DATA), *options, "--format", "json"],
            output / f"evaluate-{model}.json",
        ),
        "probabilities": lambda: probabilities(model, output / f"probabilities-{model}.npy"),
    }
    return recorded if evaluate else {k: v for k, v in recorded.items() if k != "evaluate"}


def cpu_seconds() -> float:
    """CPU time of this process and of the commands it ran: on a busy machine, near what the
    10,000-image steps (on one thread) would take on an idle one."""
    usages = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


def timed(model: str, output: Path, evaluate: bool) -> dict[str, dict[str, float]]:
    """Runs the model's steps; the seconds each took, elapsed and of CPU."""
    seconds = {}
    for name, step in steps(model, output, evaluate).items():
        started, cpu_started = time.perf_counter(), cpu_seconds()
        step()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        seconds[name] = {"elapsed": round(elapsed, 2), "cpu": round(cpu, 2)}
        print(f"probe: {model} {name}: {elapsed:.1f} s ({cpu:.1f} s of CPU)", flush=True)
    return seconds


def environment(shipped: list[dict], seconds: dict[str, dict]) -> dict[str, object]:
    return {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": {name: metadata.version(name) for name in DISTRIBUTIONS},
        "shipped": {
            row["name"]: {"file": Path(row["path"]).name, "bytes": row["bytes"]} for row in shipped
        },
        "default": next(row["name"] for row in shipped if row["default"]),
        "probed": list(seconds),
        "evaluated": [model for model, steps in seconds.items() if "evaluate" in steps],
        "seconds": seconds,
    }


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the folder to write into")
    parser.add_argument("--models", nargs="+", help="shipped models (default: every one)")
    parser.add_argument(
        "--no-evaluate", nargs="+", default=[], help="models not run through `evaluate`"
    )
    return parser.parse_args()


def main() -> None:
    chosen = options()
    shipped = shipped_models()
    names = [row["name"] for row in shipped]
    unknown = [m for m in (chosen.models or []) + chosen.no_evaluate if m not in names]
    if unknown:
        sys.exit(f"probe: {', '.join(unknown)}: not shipped ({', '.join(names)} are)")
    chosen.output.mkdir(parents=True, exist_ok=True)
    seconds = {
        model: timed(model, chosen.output, model not in chosen.no_evaluate)
        for model in chosen.models or names
    }
    (chosen.output / "environment.json").write_text(
        json.dumps(environment(shipped, seconds), indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
