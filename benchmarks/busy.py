"""A busy loop pinned to the machine's last core, paused and resumed between rounds.

A device rarely has its other cores to itself: a camera pipeline, a web server or another
model shares them. Batch-1 latency with a second thread depends on that (the second thread
must wait for a core), so the benchmark times every engine twice, the rounds alternating:
with the last core left alone ("idle": nothing of ours runs there, though other processes of
a shared machine may) and with this loop running on it ("busy"). The loop is one process
started once and stopped (SIGSTOP) or continued (SIGCONT) for each round, which takes
microseconds, so the two conditions alternate many times in a run and the machine's load,
whatever it is, falls on both.
"""

import os
import signal
import subprocess
import sys
from types import TracebackType

SPIN = "while True: pass"


class BusyCore:
    """`with BusyCore() as busy: busy.set(True)`: the last core spins while set."""

    def __init__(self) -> None:
        cores = sorted(os.sched_getaffinity(0))
        self.core = cores[-1]
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "BusyCore":
        self._process = subprocess.Popen([sys.executable, "-c", SPIN])
        os.sched_setaffinity(self._process.pid, {self.core})
        self.set(False)
        return self

    def set(self, busy: bool) -> None:
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT if busy else signal.SIGSTOP)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.kill()  # SIGKILL ends a stopped process too
            self._process.wait()
            self._process = None
