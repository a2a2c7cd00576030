"""The offline bundle's safety checks, the arm64 parity verdict and the systemd example's job.

`make test-aarch64` proves the real install on arm64; these prove, in seconds, that a
damaged bundle, the wrong Python or the wrong machine is refused with one clear line before
anything is installed, that no training package can be bundled, that the parity
comparison fails when arm64 and x86_64 disagree, and that the unattended job reads each
image once.
"""

import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device import parity, wheelhouse
from tests.targets import PARITY_TOLERANCE

ROOT = Path(__file__).resolve().parents[1]
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
HOST_PLATFORM = {"x86_64": "linux-x86_64", "aarch64": "linux-aarch64"}[platform.machine()]


def make_bundle(folder: Path, platform_name: str = HOST_PLATFORM, version: str = HOST_PYTHON):
    """A bundle folder with one stand-in wheel, its install.sh and SHA256SUMS."""
    folder.mkdir()
    (folder / "mnist_edge-0.1.0-py3-none-any.whl").write_bytes(b"not a real wheel")
    wheelhouse.write_install_script(folder, platform_name, version, "mnist-edge==0.1.0")
    wheelhouse.write_checksums(folder)
    return folder


def run_install(bundle: Path, venv: Path) -> subprocess.CompletedProcess:
    environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(venv.parent)}
    return subprocess.run(
        ["sh", str(bundle / "install.sh"), str(venv)],
        capture_output=True,
        text=True,
        env=environment | {"PYTHON": sys.executable},
    )


def test_damaged_file_is_refused_before_installing(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    (bundle / "mnist_edge-0.1.0-py3-none-any.whl").write_bytes(b"changed in transfer")
    run = run_install(bundle, tmp_path / "venv")
    assert run.returncode == 1
    assert "mnist_edge-0.1.0-py3-none-any.whl: FAILED" in run.stderr
    assert "damaged or missing" in run.stderr
    assert not (tmp_path / "venv").exists()


def test_wrong_python_is_refused(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle", version="3.99")
    run = run_install(bundle, tmp_path / "venv")
    assert run.returncode == 1
    assert f"for Python 3.99 but {sys.executable} is {HOST_PYTHON}" in run.stderr
    assert not (tmp_path / "venv").exists()


def test_wrong_machine_is_refused(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle", platform_name="macos-arm64")
    run = run_install(bundle, tmp_path / "venv")
    assert run.returncode == 1
    assert f"for macos-arm64 but this machine is Linux {platform.machine()}" in run.stderr


@pytest.mark.slow  # creates a virtual environment
def test_intact_bundle_installs_only_from_its_folder(tmp_path: Path) -> None:
    """Checksums pass; pip finds no real wheel there and, with no index, says so in one line."""
    run = run_install(make_bundle(tmp_path / "bundle"), tmp_path / "venv")
    assert run.returncode == 1
    assert run.stderr.strip().endswith(
        f"pip could not install mnist-edge==0.1.0 from {tmp_path}/bundle"
    )
    assert (tmp_path / "venv" / "bin" / "python").exists()


@pytest.mark.parametrize("extras", [["train"], ["dev"], ["serve", "train"]])
def test_training_and_dev_extras_are_refused(extras: list[str]) -> None:
    with pytest.raises(ValueError, match="not for devices"):
        wheelhouse.checked_extras(extras, {"train", "dev", "serve"})


def test_unknown_extra_is_refused() -> None:
    assert wheelhouse.checked_extras(["serve"], {"serve", "train"}) == ["serve"]
    with pytest.raises(ValueError, match=r"no extra \['sevre'\]"):
        wheelhouse.checked_extras(["sevre"], {"serve", "train"})


def test_training_wheels_are_caught(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name in (
        "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_aarch64.whl",
        "tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    ):
        (folder / name).write_bytes(b"")
    with pytest.raises(ValueError, match=r"\['tensorflow_cpu'\]"):
        wheelhouse.refuse_training_packages(folder)


def probe_output(probabilities: np.ndarray, accuracy: float, digit: int) -> dict[str, object]:
    evaluate = {"accuracy": accuracy, "n": len(probabilities)}
    return {
        "probabilities": probabilities,
        "evaluate": {"float": evaluate, "int8": evaluate},
        "digits": {"samples/mnist-7.png": digit},
        "environment": {},
    }


def test_parity_passes_within_tolerance_and_fails_beyond() -> None:
    """Held to the tests' tolerance, not the script's own: half of it passes, three times fails."""
    rng = np.random.default_rng(0)
    x86 = rng.dirichlet(np.ones(10), size=1000).astype(np.float32)  # (1000, 10)
    close = x86 + np.float32(PARITY_TOLERANCE / 2)
    figures = parity.compare(probe_output(close, 0.9779, 7), probe_output(x86, 0.9779, 7))
    assert figures["passed"]
    assert figures["max_abs_diff"] == pytest.approx(PARITY_TOLERANCE / 2, rel=1e-2)

    far = x86.copy()
    far[3, 0] += np.float32(3 * PARITY_TOLERANCE)
    figures = parity.compare(probe_output(far, 0.9779, 7), probe_output(x86, 0.9779, 7))
    assert not figures["passed"]
    assert figures["max_abs_diff"] == pytest.approx(3 * PARITY_TOLERANCE, rel=1e-2)


@pytest.mark.parametrize("change", ["digit of one image", "accuracy", "a sample's digit"])
def test_parity_fails_on_any_disagreement(change: str) -> None:
    """Each check fails alone: the probabilities stay within tolerance in every case."""
    x86 = np.zeros((100, 10), dtype=np.float32)
    x86[:, :2] = [0.5 + 1e-6, 0.5 - 1e-6]  # digit 0, by a hair
    arm = x86.copy()
    arm_accuracy, arm_digit = 0.9779, 7
    if change == "digit of one image":
        arm[5, :2] = [0.5 - 1e-6, 0.5 + 1e-6]  # 2e-6 apart, but digit 1
    elif change == "accuracy":
        arm_accuracy = 0.9778
    else:
        arm_digit = 1
    figures = parity.compare(
        probe_output(arm, arm_accuracy, arm_digit), probe_output(x86, 0.9779, 7)
    )
    assert figures["max_abs_diff"] <= PARITY_TOLERANCE
    assert not figures["passed"]


def run_predict_inbox(state: Path) -> subprocess.CompletedProcess:
    """One run of the systemd example's job, as mnist-edge.service starts it."""
    script = ROOT / "device" / "systemd" / "predict-inbox"
    cli = str(Path(sys.executable).with_name("mnist-edge"))
    arguments = [cli, "inbox", "done", "predictions.jsonl"]
    return subprocess.run(
        ["sh", str(script), *arguments], cwd=state, capture_output=True, text=True
    )


def test_predict_inbox_reads_each_image_once_and_keeps_it(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    samples = sorted((ROOT / "samples").glob("mnist-*.png"))  # mnist-1.png ... true digit in name
    for sample in samples:
        shutil.copy(sample, inbox)
    (inbox / ".mnist-7.png").write_bytes(b"still being written")
    assert run_predict_inbox(tmp_path).returncode == 0

    records = [
        json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()
    ]
    assert {Path(r["source"]).name: r["label"] for r in records} == {
        sample.name: int(sample.stem.split("-")[1]) for sample in samples
    }
    assert all((tmp_path / record["source"]).is_file() for record in records)  # kept in done/
    assert [path.name for path in inbox.iterdir()] == [".mnist-7.png"]  # hidden: not taken

    assert run_predict_inbox(tmp_path).returncode == 0  # nothing new: no run, no records
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == len(samples)
