"""Write the device figures of docs/devices.md from the parity files of `make test-aarch64`.

Usage (from the checkout):
    python -m device.readme docs/devices.md build/aarch64/*/parity-aarch64.json

Replaces the page's `<!-- section:device -->` block (bundle sizes; for each Debian release,
the installed size and each shipped model's parity on each emulated arm64 CPU; the shipped
models), so that its figures cannot drift.
"""

import json
import sys
from pathlib import Path

from device.parity import CPUS
from harness.sections import write_section

SECTION = "device"


def mebibytes(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def bundles_table(runs: list[dict]) -> list[str]:
    bundles = {name: figures for run in runs for name, figures in run["bundles"].items()}
    rows = [
        f"| `{name}/` | {b['wheels']} | {mebibytes(b['bytes'])} |" for name, b in bundles.items()
    ]
    return ["| bundle (`make wheelhouse`) | wheels | size |", "|---|---:|---:|", *rows]


def parity_heading(run: dict) -> str:
    """What one parity file proves on: the release, Python, onnxruntime, the install's size."""
    onnxruntime = next(iter(run["environments"].values()))["versions"]["onnxruntime"]
    return (
        f"Debian {run['suite']} arm64, Python {run['python']['aarch64']}, onnxruntime "
        f"{onnxruntime}, installed in {mebibytes(run['installed_bytes'])}:"
    )


def parity_table(run: dict) -> list[str]:
    """A row per shipped model and emulated CPU, in the order of the shipped models."""
    rows = [
        f"| `{model}` | {cpu_name(cpu)} | {figures['accuracy']:.2%} "
        f"| {figures['same_digit']:.2%} | {difference(figures['max_abs_diff'])} "
        f"| {evaluated(figures['evaluate_accuracy'])} |"
        for model in run["models"]
        for cpu, cpu_run in run["aarch64"].items()
        if (figures := cpu_run["models"].get(model))
    ]
    return [
        "| model | emulated CPU | accuracy | same digit as x86_64 | max \\|p_arm - p_x86\\| "
        "| `mnist-edge evaluate` |",
        "|---|---|---:|---:|---:|---|",
        *rows,
    ]


def cpu_name(cpu: str) -> str:
    """The qemu CPU model, and the board it stands for."""
    return f"{cpu} ({CPUS[cpu]})" if cpu in CPUS else cpu


def difference(value: float) -> str:
    return "0" if value == 0 else f"{value:.1e}"


def evaluated(accuracy: float | None) -> str:
    return "not run" if accuracy is None else f"{accuracy:.2%}"


def models_table(run: dict) -> list[str]:
    shipped = run["environments"]["x86_64"]["shipped"]
    rows = [
        f"| `{model}`{' (the default)' if model == run['default'] else ''} "
        f"| `{shipped[model]['file']}` | {shipped[model]['bytes'] / 1024:,.0f} KiB "
        f"| {run['x86_64']['accuracy'][model]:.2%} |"
        for model in run["models"]
    ]
    heading = "| shipped model | file | size | test accuracy on x86_64 |"
    return [heading, "|---|---|---:|---:|", *rows]


def render(runs: list[dict]) -> str:
    first = runs[0]
    lines = [
        f"Measured by `make test-aarch64` on {first['date']}, arm64 emulated by "
        f"{first['emulator']} on x86_64. On the {first['images']:,} MNIST test images, each "
        f"model's probabilities are within {first['tolerance']:.0e} of x86_64's, and its "
        "accuracy (counted from them) and, where it ran, `evaluate`'s equal x86_64's, as the "
        "check requires:",
        "",
        *bundles_table(runs),
    ]
    for run in runs:
        lines += ["", parity_heading(run), "", *parity_table(run)]
    return "\n".join([*lines, "", *models_table(first)])


def current(path: Path) -> dict | None:
    """The parity file at `path`, or None (and a line saying so) when an older check wrote it,
    before every shipped model had figures of its own."""
    run = json.loads(path.read_text())
    if "models" in run:
        return run
    print(
        f"{path}: written by an older make test-aarch64, left out (run it again)", file=sys.stderr
    )
    return None


def main() -> None:
    page, *parity_files = map(Path, sys.argv[1:])
    runs = [run for path in parity_files if (run := current(path))]
    if not runs:
        sys.exit("readme: no parity file of this version to write the figures from")
    runs.sort(key=lambda run: run["suite"] != "bookworm")  # the default target first
    write_section(page, SECTION, render(runs))
    print(f"{page}: section '{SECTION}' written from {len(runs)} parity file(s)")


if __name__ == "__main__":
    main()
