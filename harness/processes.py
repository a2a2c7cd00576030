"""One command in a fresh process: its wall time, peak memory and exit code.

Used by the benchmarks (start-up, memory) and by the tests that bound a whole process's
memory (the hostile corpus, a million images streamed).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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


def as_at_a_terminal() -> None:
    """A `preexec_fn` for a command that must take Ctrl-C as it would at a terminal: a shell
    that starts a job in the background (`make test &`, some CI runners) leaves SIGINT
    ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
