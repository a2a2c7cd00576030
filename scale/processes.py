"""The processes a local Ray instance leaves: found by their parents, ended by their ids.

`ray.shutdown()` stops Ray's own processes, and its workers end when their raylet does; yet
now and then (Ray 2.60, a loaded machine) an actor misses that and lingers for ever. So the
run notes the children `ray.init` started and, before shutting down, everything below them;
afterwards, those still alive after a grace period are killed. Linux only (from /proc);
elsewhere nothing is found.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

GRACE_SECONDS = 3.0  # for Ray's workers to see their raylet gone and exit by themselves
Process = tuple[int, str]  # pid and start time (in clock ticks since boot): a pid is reused


def children(parent: int) -> list[Process]:
    """The processes whose parent is `parent`."""
    return [(pid, start) for pid, ppid, start, _ in _processes() if ppid == parent]


def descendants(roots: list[Process]) -> list[Process]:
    """`roots` and every process below them."""
    below: dict[int, list[Process]] = {}
    for pid, parent, start, _ in _processes():
        below.setdefault(parent, []).append((pid, start))
    found, todo = list(roots), [pid for pid, _ in roots]
    while todo:
        for child in below.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def end(processes: list[Process], grace: float = GRACE_SECONDS) -> list[int]:
    """Wait up to `grace` seconds for `processes` to exit, then kill those left; their pids."""
    deadline = time.monotonic() + grace
    while (left := alive(processes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def alive(processes: list[Process]) -> list[int]:
    """The pids among `processes` that still run (the same process: same start time)."""
    running = {(pid, start) for pid, _, start, state in _processes() if state != "Z"}
    return [pid for pid, start in processes if (pid, start) in running]


def _processes() -> list[tuple[int, int, str, str]]:
    """(pid, parent pid, start time, state) of every process, from /proc."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:  # the name in parentheses may hold spaces and parentheses: split after it
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        found.append((int(entry.name), int(fields[1]), fields[19], fields[0]))
    return found
