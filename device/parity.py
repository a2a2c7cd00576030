"""Compare what mnist-edge answered on emulated arm64 CPUs with what it answered on x86_64.

Usage, from the checkout: python -m device.parity --x86 X86_DIR --arm cortex-a72=DIR
       [--arm cortex-a76=DIR] --output parity-aarch64.json [--data data/mnist.npz]
       [--suite bookworm] [--emulator 'qemu 10.0.2'] [--venv ROOTFS/VENV] [--bundles DIR...]

Each DIR is a device/probe.py output. Every shipped model must have been probed on x86_64
(`evaluate` included) and on at least one arm64 CPU. A model passes on a CPU when its raw
probabilities of the 10,000 test images differ from x86_64's by at most MAX_ABS_DIFF, every
image gets the same digit, its accuracy (counted here from those probabilities and --data's
labels) and, where the probe ran it, `evaluate`'s accuracy equal x86_64's `evaluate`, and
`predict` reads the samples alike. Writes the figures (with the installed size and the
bundles' sizes, for docs/devices.md) to --output, prints a table, and exits 1 when any check
fails or a shipped model is proven on no arm64 CPU.
"""

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from device import wheelhouse

# Largest |p_arm - p_x86| accepted on any probability of any model, float32 or int8 (as in
# export/). The int8 models' integer arithmetic is exact on both; the float steps around it
# are onnxruntime's code for each architecture, so they are held to the same bound.
MAX_ABS_DIFF = 1e-5
# What device/probe.py records in environment.json and this comparison reads.
ENVIRONMENT_KEYS = ("python", "versions", "shipped", "default", "probed", "evaluated")
# What each emulated CPU stands for (qemu's CPU models).
CPUS = {
    "cortex-a72": "Raspberry Pi 4: Armv8.0-A",
    "cortex-a76": "Raspberry Pi 5: Armv8.2-A, int8 dot product",
}


def predicted_digits(path: Path) -> dict[str, int | None]:
    """Each sample's digit as `predict --format jsonl` wrote it (None: not predicted)."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {record["source"]: record.get("label") for record in records}


def load(folder: Path) -> dict[str, object]:
    """A probe's output: by model, probabilities, `evaluate`'s figures (None: not run) and the
    samples' digits."""
    environment = json.loads((folder / "environment.json").read_text())
    missing = [key for key in ENVIRONMENT_KEYS if key not in environment]
    if missing:
        raise ValueError(f"{folder}: no {', '.join(missing)} in environment.json (probe.py's?)")
    evaluated = environment["evaluated"]
    models = {
        model: {
            "probabilities": np.load(folder / f"probabilities-{model}.npy", allow_pickle=False),
            "evaluate": json.loads((folder / f"evaluate-{model}.json").read_text())
            if model in evaluated
            else None,
            "digits": predicted_digits(folder / f"predict-{model}.jsonl"),
        }
        for model in environment["probed"]
    }
    return {"models": models, "environment": environment}


def compare_model(
    model: str, arm: dict[str, object], x86: dict[str, object], labels: np.ndarray
) -> dict[str, object]:
    """The figures of parity of one model on one arm64 CPU; `passed` says whether all hold."""
    p_arm, p_x86 = arm["probabilities"], x86["probabilities"]  # float32 (10000, 10) each
    if p_arm.shape != p_x86.shape or len(p_arm) != len(labels):
        raise ValueError(
            f"{model}: probabilities of shape {p_arm.shape} on arm64 and {p_x86.shape} on "
            f"x86_64, for {len(labels):,} labels"
        )
    difference = np.abs(p_arm.astype(np.float64) - p_x86.astype(np.float64))
    figures = {
        "max_abs_diff": float(difference.max()),
        "mean_abs_diff": float(difference.mean()),
        "tolerance": MAX_ABS_DIFF,
        "same_digit": float((p_arm.argmax(axis=1) == p_x86.argmax(axis=1)).mean()),
        "images": len(labels),
        "accuracy": float((p_arm.argmax(axis=1) == labels).mean()),
        "evaluate_accuracy": arm["evaluate"]["accuracy"] if arm["evaluate"] else None,
        "samples": len(arm["digits"]),
        "samples_same_digit": arm["digits"] == x86["digits"] and None not in arm["digits"].values(),
    }
    reference = x86["evaluate"]["accuracy"]
    figures["passed"] = bool(
        figures["max_abs_diff"] <= MAX_ABS_DIFF
        and figures["same_digit"] == 1.0
        and figures["accuracy"] == reference
        and figures["evaluate_accuracy"] in (None, reference)
        and figures["samples_same_digit"]
    )
    return figures


def compare(
    arm: dict[str, object], x86: dict[str, object], labels: np.ndarray
) -> dict[str, object]:
    """The figures of every model one arm64 CPU ran, and whether all of them pass."""
    for model in arm["models"]:
        if model not in x86["models"] or x86["models"][model]["evaluate"] is None:
            raise ValueError(f"{model}: probed on arm64, but not probed or evaluated on x86_64")
    models = {
        model: compare_model(model, run, x86["models"][model], labels)
        for model, run in arm["models"].items()
    }
    return {"passed": all(figures["passed"] for figures in models.values()), "models": models}


def uncovered(x86: dict[str, object], runs: dict[str, dict]) -> list[str]:
    """The shipped models probed on no arm64 CPU, or not on x86_64: a proof with a hole."""
    on_arm = {model for run in runs.values() for model in run["models"]}
    shipped = x86["environment"]["shipped"]
    return [model for model in shipped if model not in x86["models"] or model not in on_arm]


def true_digits(data: Path) -> np.ndarray:
    """The true digits of the test split the probes predicted."""
    with np.load(data, allow_pickle=False) as mnist:
        return mnist["y_test"]  # uint8 (10000,)


def disk_bytes(path: Path) -> int:
    """Space `path` takes on disk, as `du` counts it (as the runtime install's size in
    docs/performance.md)."""
    du = ["du", "-s", "--block-size=1", str(path)]
    return int(subprocess.run(du, capture_output=True, text=True, check=True).stdout.split()[0])


def table(report: dict[str, object]) -> str:
    """The report as the terminal shows it: a line per CPU and model."""
    reference = report["x86_64"]["accuracy"]
    heading = (
        f"  {'CPU':<12}{'model':<10}{'max |diff|':>11}{'same digit':>12}{'accuracy':>10}"
        f"{'evaluate':>10}{'x86_64':>9}"
    )
    rows = [
        f"  {cpu:<12}{model:<10}{f['max_abs_diff']:>11.2e}{f['same_digit']:>12.2%}"
        f"{f['accuracy']:>10.2%}{percent(f['evaluate_accuracy']):>10}{reference[model]:>9.2%}"
        f"  samples {'alike' if f['samples_same_digit'] else 'DIFFER'}"
        f"  {'pass' if f['passed'] else 'FAIL'}"
        for cpu, run in report["aarch64"].items()
        for model, f in run["models"].items()
    ]
    missing = [f"  proven on no arm64 CPU: {', '.join(report['uncovered'])}"]
    return "\n".join(
        [
            f"parity of linux-aarch64 (Debian {report['suite']}, Python "
            f"{report['python']['aarch64']}, emulated by {report['emulator']}) with x86_64 on "
            f"{report['images']:,} test images (tolerance {report['tolerance']:.0e})",
            heading,
            *rows,
            *(missing if report["uncovered"] else []),
        ]
    )


def percent(fraction: float | None) -> str:
    return "not run" if fraction is None else f"{fraction:.2%}"


def arm_runs(pairs: list[str]) -> dict[str, Path]:
    """'cortex-a72=DIR' options, by CPU name."""
    return {cpu: Path(folder) for cpu, _, folder in (pair.partition("=") for pair in pairs)}


def report_for(options: argparse.Namespace) -> dict[str, object]:
    x86 = load(options.x86)
    runs = {cpu: load(folder) for cpu, folder in arm_runs(options.arm).items()}
    labels = true_digits(options.data)
    arm = {cpu: compare(run, x86, labels) for cpu, run in runs.items()}
    holes = uncovered(x86, runs)
    first = next(iter(runs.values()))
    return {
        "passed": not holes and all(run["passed"] for run in arm.values()),
        "uncovered": holes,
        "models": list(x86["environment"]["shipped"]),
        "default": x86["environment"]["default"],
        "tolerance": MAX_ABS_DIFF,
        "images": len(labels),
        "suite": options.suite,
        "emulator": options.emulator,
        "date": datetime.date.today().isoformat(),
        "python": {
            "aarch64": first["environment"]["python"],
            "x86_64": x86["environment"]["python"],
        },
        "aarch64": arm,
        "x86_64": {
            "accuracy": {m: run["evaluate"]["accuracy"] for m, run in x86["models"].items()}
        },
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
    parser.add_argument(
        "--data", type=Path, default=Path("data/mnist.npz"), help="the probes' test split"
    )
    parser.add_argument("--suite", default="bookworm", help="the arm64 Debian release")
    parser.add_argument("--emulator", default="qemu", help="e.g. 'qemu 10.0.2'")
    parser.add_argument("--venv", type=Path, help="the arm64 virtual environment, to measure")
    parser.add_argument("--bundles", type=Path, nargs="*", default=[], help="bundles, to measure")
    options = parser.parse_args()
    try:
        report = report_for(options)
    except (OSError, KeyError, ValueError) as error:  # a probe's output missing or unusable
        sys.exit(f"parity: {error}")
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"written to {options.output}")
    if not report["passed"]:
        sys.exit("parity: arm64 and x86_64 disagree, or a shipped model is not proven (above)")


if __name__ == "__main__":
    main()
