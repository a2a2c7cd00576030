"""Compare what mnist-edge answered on emulated arm64 CPUs with what it answered on x86_64.

Usage, from the checkout: python -m device.parity --x86 X86_DIR --arm cortex-a72=DIR
       [--arm cortex-a76=DIR] --output parity-aarch64.json [--suite bookworm]
       [--emulator 'qemu 10.0.2'] [--venv ROOTFS/VENV] [--bundles DIR...]

Each DIR is a device/probe.py output. An arm64 CPU passes when the raw probabilities of all
10,000 test images differ from x86_64's by at most MAX_ABS_DIFF, every image gets the same
digit, both shipped models reach the same accuracy, and `predict` reads the samples alike.
Writes the figures (with the installed size and the bundles' sizes, for docs/devices.md) to
--output, prints a table, and exits 1 when any check fails.
"""

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from device import wheelhouse

MAX_ABS_DIFF = 1e-5  # largest |p_arm - p_x86| accepted on any probability (as in export/)
MODELS = ("float", "int8")
# What each emulated CPU stands for (qemu's CPU models).
CPUS = {
    "cortex-a72": "Raspberry Pi 4: Armv8.0-A",
    "cortex-a76": "Raspberry Pi 5: Armv8.2-A, int8 dot product",
}


def load(folder: Path) -> dict[str, object]:
    """A probe's output: probabilities, evaluate figures, predicted digits, environment."""
    predicted = [json.loads(line) for line in (folder / "predict.jsonl").read_text().splitlines()]
    return {
        "probabilities": np.load(folder / "probabilities.npy", allow_pickle=False),
        "evaluate": {m: json.loads((folder / f"evaluate-{m}.json").read_text()) for m in MODELS},
        "digits": {record["source"]: record.get("label") for record in predicted},
        "environment": json.loads((folder / "environment.json").read_text()),
    }


def compare(arm: dict[str, object], x86: dict[str, object]) -> dict[str, object]:
    """The figures of parity of one arm64 run; `passed` says whether every check holds."""
    p_arm, p_x86 = arm["probabilities"], x86["probabilities"]  # float32 (10000, 10) each
    if p_arm.shape != p_x86.shape:
        raise ValueError(f"probabilities of shape {p_arm.shape} on arm64, {p_x86.shape} on x86")
    difference = np.abs(p_arm.astype(np.float64) - p_x86.astype(np.float64))
    figures = {
        "max_abs_diff": float(difference.max()),
        "mean_abs_diff": float(difference.mean()),
        "same_digit": float((p_arm.argmax(axis=1) == p_x86.argmax(axis=1)).mean()),
        "images": int(p_arm.shape[0]),
        "accuracy": {model: arm["evaluate"][model]["accuracy"] for model in MODELS},
        "samples": len(arm["digits"]),
        "samples_same_digit": arm["digits"] == x86["digits"] and None not in arm["digits"].values(),
    }
    figures["passed"] = bool(
        figures["max_abs_diff"] <= MAX_ABS_DIFF
        and figures["same_digit"] == 1.0
        and all(figures["accuracy"][m] == x86["evaluate"][m]["accuracy"] for m in MODELS)
        and figures["samples_same_digit"]
    )
    return figures


def disk_bytes(path: Path) -> int:
    """Space `path` takes on disk, as `du` counts it (as the runtime install's size in
    docs/performance.md)."""
    du = ["du", "-s", "--block-size=1", str(path)]
    return int(subprocess.run(du, capture_output=True, text=True, check=True).stdout.split()[0])


def table(report: dict[str, object]) -> str:
    x86, arm = report["x86_64"], report["aarch64"]
    heading = f"  {'':<14}{'max |diff|':>11}{'same digit':>12}{'float acc.':>12}{'int8 acc.':>11}"
    rows = [
        f"  {cpu:<14}{run['max_abs_diff']:>11.2e}{run['same_digit']:>12.2%}"
        f"{run['accuracy']['float']:>12.2%}{run['accuracy']['int8']:>11.2%}"
        f"  samples {'alike' if run['samples_same_digit'] else 'DIFFER'}"
        f"  {'pass' if run['passed'] else 'FAIL'}  ({CPUS.get(cpu, cpu)})"
        for cpu, run in arm.items()
    ]
    reference = f"  {'x86_64':<14}{'':>11}{'':>12}{x86['accuracy']['float']:>12.2%}"
    return "\n".join(
        [
            f"parity of linux-aarch64 (Debian {report['suite']}, Python "
            f"{report['python']['aarch64']}, emulated by {report['emulator']}) with x86_64 on "
            f"{report['images']:,} test images (tolerance {MAX_ABS_DIFF:.0e})",
            heading,
            *rows,
            reference + f"{x86['accuracy']['int8']:>11.2%}  (reference)",
        ]
    )


def arm_runs(pairs: list[str]) -> dict[str, Path]:
    """'cortex-a72=DIR' options, by CPU name."""
    return {cpu: Path(folder) for cpu, _, folder in (pair.partition("=") for pair in pairs)}


def report_for(options: argparse.Namespace) -> dict[str, object]:
    x86 = load(options.x86)
    runs = {cpu: load(folder) for cpu, folder in arm_runs(options.arm).items()}
    arm = {cpu: compare(run, x86) for cpu, run in runs.items()}
    first = next(iter(runs.values()))
    return {
        "passed": all(run["passed"] for run in arm.values()),
        "tolerance": MAX_ABS_DIFF,
        "images": first["probabilities"].shape[0],
        "suite": options.suite,
        "emulator": options.emulator,
        "date": datetime.date.today().isoformat(),
        "python": {
            "aarch64": first["environment"]["python"],
            "x86_64": x86["environment"]["python"],
        },
        "aarch64": arm,
        "x86_64": {"accuracy": {m: x86["evaluate"][m]["accuracy"] for m in MODELS}},
        "environments": {"x86_64": x86["environment"]}
        | {cpu: run["environment"] for cpu, run in runs.items()},
        "installed_bytes": disk_bytes(options.venv) if options.venv else None,
        "bundles": {folder.name: wheelhouse.measure(folder) for folder in options.bundles},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--x86", type=Path, required=True, help="the x86_64 probe's output")
    parser.add_argument("--arm", action="append", required=True, help="CPU=DIR, once per CPU")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--suite", default="bookworm", help="the arm64 Debian release")
    parser.add_argument("--emulator", default="qemu", help="e.g. 'qemu 10.0.2'")
    parser.add_argument("--venv", type=Path, help="the arm64 virtual environment, to measure")
    parser.add_argument("--bundles", type=Path, nargs="*", default=[], help="bundles, to measure")
    options = parser.parse_args()
    report = report_for(options)
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"written to {options.output}")
    if not report["passed"]:
        sys.exit("parity: arm64 and x86_64 disagree (above)")


if __name__ == "__main__":
    main()
