"""Whole processes: wall time and peak memory of one run, the runtime-only install, disk sizes.

A device pays start-up on every `mnist-edge predict`, so it is timed as a fresh process
each time. "Cold" means a new interpreter with the OS file cache warm: the caller makes one
untimed run first, because dropping the page cache needs root and would disturb the machine.
"""

import os
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
MB = 1_000_000  # what max_rss_mb counts in (the hostile tests' ceiling is in it)
MIB = 2**20  # what the published figures count in: sizes and memory are binary throughout
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


@dataclass(frozen=True)
class ProcessRun:
    seconds: float  # wall time from spawn to exit
    max_rss_mb: float  # peak resident memory of the command, in 10^6 bytes
    returncode: int = 0

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_mb * MB / MIB


def measure_process(
    command: list[str], stdout: Path | None = None, timeout: float | None = None
) -> ProcessRun:
    """Wall time, peak RSS and exit code of `command` in a fresh process (its stdout into
    `stdout`, else discarded; stderr discarded). subprocess.TimeoutExpired past `timeout`.

    The command is started by a small parent (GNU time, else a bare Python) because Linux
    carries the parent's peak RSS over fork and exec: spawned straight from a process that
    holds TensorFlow (or pytest), every command would report that process's memory.
    """
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder, "rusage")
        if TIME.exists():
            wrapped = [str(TIME), "--format", "%M", "--output", str(report), *command]
        else:
            wrapped = [sys.executable, "-c", RUSAGE_OF_CHILD, str(report), *command]
        with open(stdout or os.devnull, "wb") as sink:
            started = time.perf_counter()
            code = subprocess.run(
                wrapped, stdout=sink, stderr=subprocess.DEVNULL, timeout=timeout
            ).returncode
            seconds = time.perf_counter() - started
        fields = report.read_text().split()
    if TIME.exists():  # "[Command exited with non-zero status N] KiB"
        max_rss_kib = int(fields[-1])
    else:  # the Python parent timed the command itself, without its own start-up
        max_rss_kib, seconds = int(fields[0]), float(fields[1])
    return ProcessRun(seconds, max_rss_kib * 1024 / MB, code)


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
