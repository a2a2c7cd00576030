"""Whole processes for `make bench`: the ones compared at start-up, the runtime-only install,
disk sizes (a run's wall time and peak memory: harness/processes.py).

A device pays start-up on every `mnist-edge predict`, so it is timed as a fresh process
each time. "Cold" means a new interpreter with the OS file cache warm: the caller makes one
untimed run first, because dropping the page cache needs root and would disturb the machine.
"""

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.processes import ProcessRun, measure_process

KERAS_SCRIPT = Path(__file__).with_name("keras_predict.py")
PYTHON_PROCESS = "python -c pass (runtime venv)"
CLI_PROCESS = "mnist-edge predict one.png"
KERAS_PROCESS = "Keras script (train venv)"


def run_process(command: list[str]) -> ProcessRun:
    """measure_process, for commands that must succeed: RuntimeError when one does not."""
    run = measure_process(command)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {run.returncode}")
    return run


def cold_start_commands(runtime_venv: Path, keras_model: Path, image: Path) -> dict[str, list[str]]:
    """The processes compared at start-up, by the name the report gives them."""
    bin_folder = runtime_venv / "bin"
    return {
        PYTHON_PROCESS: [str(bin_folder / "python"), "-c", "pass"],
        CLI_PROCESS: [str(bin_folder / "mnist-edge"), "predict", str(image)],
        KERAS_PROCESS: [sys.executable, str(KERAS_SCRIPT), str(keras_model), str(image)],
    }


@contextmanager
def runtime_venv(project: Path) -> Iterator[Path]:
    """A fresh venv holding the project's wheel with no extras; deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="mnist-edge-bench-") as folder:
        wheels, venv = Path(folder, "wheels"), Path(folder, "venv")
        pip = [sys.executable, "-m", "pip", "--quiet"]
        _check_call([*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(project)])
        _check_call([sys.executable, "-m", "venv", str(venv)])
        (wheel,) = wheels.glob("*.whl")
        _check_call([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
        yield venv


def disk_bytes(path: Path) -> int:
    """Space `path` takes on disk, as `du` counts it (blocks, hard links once)."""
    output = subprocess.run(
        ["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return int(output.split()[0])


def installed_versions(python: Path | str, distributions: tuple[str, ...]) -> dict[str, str]:
    """Python's version and those of the distributions installed for it (missing: left out)."""
    script = (
        "import importlib.metadata as m, platform, sys\n"
        "print('python', platform.python_version())\n"
        "for name in sys.argv[1:]:\n"
        "    try: print(name, m.version(name))\n"
        "    except m.PackageNotFoundError: pass\n"
    )
    output = subprocess.run(
        [str(python), "-c", script, *distributions], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(" ", 1) for line in output.splitlines())


def _check_call(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {tail}")
