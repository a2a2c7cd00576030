"""Write the device figures of docs/devices.md from the parity files of `make test-aarch64`.

Usage (from the checkout):
    python -m device.readme docs/devices.md build/aarch64/*/parity-aarch64.json

Replaces the page's `<!-- section:device -->` block (bundle sizes, installed size and
parity on emulated arm64, the two shipped models), so that its figures cannot drift.
"""

import json
import sys
from pathlib import Path

from device.parity import CPUS
from harness.sections import write_section

SECTION = "device"
MODEL_FILES = {"float": "`mnist-mlp.onnx`, float32 (the default)", "int8": "`mnist-mlp.int8.onnx`"}


def mebibytes(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def bundles_table(runs: list[dict]) -> list[str]:
    bundles = {name: figures for run in runs for name, figures in run["bundles"].items()}
    rows = [
        f"| `{name}/` | {b['wheels']} | {mebibytes(b['bytes'])} |" for name, b in bundles.items()
    ]
    return ["| bundle (`make wheelhouse`) | wheels | size |", "|---|---:|---:|", *rows]


def parity_rows(run: dict) -> list[str]:
    return [
        f"| Debian {run['suite']}, Python {run['python']['aarch64']}, onnxruntime "
        f"{run['environments'][cpu]['versions']['onnxruntime']} "
        f"| {cpu} ({CPUS.get(cpu, '')}) | {mebibytes(run['installed_bytes'])} "
        f"| {figures['accuracy']['float']:.2%} | {figures['accuracy']['int8']:.2%} "
        f"| {figures['max_abs_diff']:.1e} | {figures['same_digit']:.2%} |"
        for cpu, figures in run["aarch64"].items()
    ]


def parity_table(runs: list[dict]) -> list[str]:
    return [
        "| emulated linux-aarch64 | CPU | installed venv | float model accuracy "
        "| int8 model accuracy | max \\|p_arm - p_x86\\| | same digit as x86_64 |",
        "|---|---|---:|---:|---:|---:|---:|",
        *[row for run in runs for row in parity_rows(run)],
    ]


def models_table(run: dict) -> list[str]:
    model_bytes = run["environments"]["x86_64"]["model_bytes"]
    accuracy = run["x86_64"]["accuracy"]
    rows = [
        f"| {MODEL_FILES[model]} | {model_bytes[model] / 1024:,.0f} KiB | {accuracy[model]:.2%} |"
        for model in MODEL_FILES
    ]
    return ["| shipped model | file | test accuracy |", "|---|---:|---:|", *rows]


def render(runs: list[dict]) -> str:
    first = runs[0]
    lines = [
        f"Measured by `make test-aarch64` on {first['date']} (arm64 emulated by "
        f"{first['emulator']} on x86_64; accuracies are equal on both, as the check requires):",
        "",
        *bundles_table(runs),
        "",
        *parity_table(runs),
        "",
        *models_table(first),
    ]
    return "\n".join(lines)


def main() -> None:
    page, *parity_files = map(Path, sys.argv[1:])
    runs = [json.loads(path.read_text()) for path in parity_files]
    runs.sort(key=lambda run: run["suite"] != "bookworm")  # the default target first
    write_section(page, SECTION, render(runs))
    print(f"{page}: section '{SECTION}' written from {len(runs)} parity file(s)")


if __name__ == "__main__":
    main()
