"""Whole processes: wall time and peak memory of one run, the runtime-only install, disk sizes.

A device pays start-up on every `mnist-edge predict`, so it is timed as a fresh process
each time. "Cold" means a new interpreter with the OS file cache warm: the caller makes one
untimed run first, because dropping the page cache needs root and would disturb the machine.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KERAS_SCRIPT = Path(__file__).with_name("keras_predict.py")
TIME = Path("/usr/bin/time")
MB = 1_000_000
# The fallback parent when GNU time is missing: runs argv[2:], writes "max-RSS-KiB seconds".
# Its children start from its own ~12 MB, a floor that only shows on `python -c pass`.
RUSAGE_OF_CHILD = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[2:]).returncode
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    report.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {seconds}")
sys.exit(code)
"""
PYTHON_PROCESS = "python -c pass (runtime venv)"
CLI_PROCESS = "mnist-edge predict one.png"
KERAS_PROCESS = "Keras script (train venv)"
# What `pip install` needs from the checkout; venvs, data and build output stay behind
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "train", "export", "runtime")


@dataclass(frozen=True)
class ProcessRun:
    seconds: float  # wall time from spawn to exit
    max_rss_mb: float  # peak resident memory of the command, in 10^6 bytes


def run_process(command: list[str]) -> ProcessRun:
    """Wall time and max RSS of `command` in a fresh process; RuntimeError if it fails.

    The command is started by a small parent (GNU time, else a bare Python) because Linux
    carries the parent's peak RSS over fork and exec: spawned straight from this process,
    which holds TensorFlow, every command would report this process's 1 GB.
    """
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder, "rusage")
        if TIME.exists():
            wrapped = [str(TIME), "--format", "%M", "--output", str(report), *command]
        else:
            wrapped = [sys.executable, "-c", RUSAGE_OF_CHILD, str(report), *command]
        started = time.perf_counter()
        result = subprocess.run(wrapped, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
            raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {tail}")
        fields = report.read_text().split()
    if len(fields) > 1:  # the Python parent timed the command itself, without its own start-up
        seconds = float(fields[1])
    return ProcessRun(seconds, int(fields[0]) * 1024 / MB)  # both report KiB


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
    """A fresh venv holding `pip install <project>` with no extras; deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="mnist-edge-bench-") as folder:
        source, venv = Path(folder, "source"), Path(folder, "venv")
        # pip builds in the source tree (build/, *.egg-info): build a copy, not the checkout
        for name in SOURCES:
            if (project / name).is_dir():
                shutil.copytree(project / name, source / name, ignore=_caches)
            elif (project / name).is_file():
                source.mkdir(exist_ok=True)
                shutil.copy2(project / name, source / name)
        _check_call([sys.executable, "-m", "venv", str(venv)])
        _check_call([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)])
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


def _caches(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def _check_call(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {tail}")
