"""Check a runtime-only install (no extras): run with that environment's Python.

It must hold none of the training packages, predict the samples right, evaluate the MNIST
test split, and tell how to get `train` and `serve`. Used by `make runtime-check` (and CI).
"""

import json
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "onnx", "tf-keras"}
CLI = str(Path(sys.executable).with_name("mnist-edge"))


def check(condition: bool, message: str) -> None:
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        sys.exit(1)


def main() -> None:
    installed = {dist.metadata["Name"].lower() for dist in metadata.distributions()}
    check(
        not installed & FORBIDDEN,
        f"no training packages installed ({sorted(installed & FORBIDDEN)})",
    )
    samples = sorted(str(path) for path in (ROOT / "samples").iterdir())
    run = subprocess.run([CLI, "predict", "-f", "jsonl", *samples], capture_output=True, text=True)
    check(run.returncode == 0, f"predict on {len(samples)} samples exits 0 ({run.stderr.strip()})")
    for record in map(json.loads, run.stdout.splitlines()):
        true_digit = int(Path(record["source"]).stem.split("-")[1])
        check(
            record["label"] == true_digit,
            f"{Path(record['source']).name} read as {record['label']}",
        )
    run = subprocess.run([CLI, "models", "-f", "json"], capture_output=True, text=True)
    names = [row["name"] for row in json.loads(run.stdout or "[]")]
    check(names == ["mlp", "mlp.int8", "cnn", "cnn.int8"], f"shipped models: {names}")
    run = subprocess.run(
        [CLI, "predict", "-f", "jsonl", "--model", "cnn", *samples], capture_output=True, text=True
    )
    check(
        run.returncode == 0
        and all(
            record["label"] == int(Path(record["source"]).stem.split("-")[1])
            for record in map(json.loads, run.stdout.splitlines())
        ),
        f"predict --model cnn reads the {len(samples)} samples right",
    )
    run = subprocess.run(
        [CLI, "evaluate", str(ROOT / "data" / "mnist.npz"), "-f", "json"],
        capture_output=True,
        text=True,
    )
    check(
        run.returncode == 0 and json.loads(run.stdout)["accuracy"] >= 0.975,
        f"evaluate on the MNIST test split: {run.stdout[:40].strip()}...",
    )
    for command in ("train", "serve"):
        run = subprocess.run([CLI, command], capture_output=True, text=True)
        hint = run.stderr.strip().rpartition("): ")[2]
        check(
            run.returncode == 1 and hint.startswith("pip install ") and f"[{command}]'" in hint,
            f"{command} says: {run.stderr.strip()}",
        )
    # the hint is a command that works: pip resolves it (without installing anything)
    pip = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet"]
    run = subprocess.run(pip + shlex.split(hint)[2:], capture_output=True, text=True)
    check(run.returncode == 0, f"`{hint}` resolves ({run.stderr.strip()[-200:]})")


if __name__ == "__main__":
    main()
