"""Record what an installed mnist-edge answers on this machine, for device/parity.py.

Usage (from a folder holding data/mnist.npz and samples/):
    VENV/bin/python probe.py OUTPUT_DIR

Runs the installed `mnist-edge` command (predict on samples/, evaluate with the shipped
float and int8 models) and the Python API (raw float32 probabilities of the 10,000 MNIST
test images), and writes into OUTPUT_DIR: predict.jsonl, evaluate-float.json,
evaluate-int8.json, probabilities.npy and environment.json (machine, versions, seconds).
Needs only the runtime install: it runs inside the emulated arm64 root filesystem too.
"""

import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from mnist_edge.runtime import Predictor, default_model_path

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


def probabilities(output: Path) -> None:
    """The shipped float model's raw output on the test split, through the Python API."""
    with np.load(DATA, allow_pickle=False) as mnist:
        images = mnist["x_test"]  # uint8 (10000, 28, 28)
    np.save(output, Predictor(threads=THREADS).predict(images))  # float32 (10000, 10)


def environment(seconds: dict[str, float]) -> dict[str, object]:
    return {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": {name: metadata.version(name) for name in DISTRIBUTIONS},
        "model_bytes": {
            "float": default_model_path().stat().st_size,
            "int8": default_model_path(int8=True).stat().st_size,
        },
        "seconds": seconds,
    }


def main() -> None:
    output = Path(sys.argv[1])
    output.mkdir(parents=True, exist_ok=True)
    int8_model = str(default_model_path(int8=True))
    options = ["--threads", str(THREADS), "--format", "json"]
    steps = {
        "predict": lambda: run_cli(
            ["predict", "--format", "jsonl", str(SAMPLES)], output / "predict.jsonl"
        ),
        "evaluate-float": lambda: run_cli(
            ["evaluate", str(DATA), *options], output / "evaluate-float.json"
        ),
        "evaluate-int8": lambda: run_cli(
            ["evaluate", str(DATA), "--model", int8_model, *options], output / "evaluate-int8.json"
        ),
        "probabilities": lambda: probabilities(output / "probabilities.npy"),
    }
    seconds = {}
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        seconds[name] = round(time.perf_counter() - started, 2)
        print(f"probe: {name}: {seconds[name]:.1f} s", flush=True)
    (output / "environment.json").write_text(json.dumps(environment(seconds), indent=2) + "\n")


if __name__ == "__main__":
    main()
