"""The standard streams as every front end uses them: results on stdout, the tool's own lines
on stderr, and what happens when either cannot be written.

The rule: the results are what matters. A line for stderr that cannot be written (stderr
closed with `2>&-`, its reader gone, a full disk) is dropped, never a record, and never
changes the exit code; stderr is then pointed at /dev/null for the rest of the run, so that
neither a library's log line nor the interpreter's last flush fails on it again. stdout is
where the results go: a reader that goes away ends the run with 141, a failed write with one
line and 3, and a stdout closed from the start (`>&-`) is such a failed write, reported before
any work (cli/console.py).
"""

import errno
import io
import os
import sys
from typing import TextIO

from mnist_edge.core.text import PROGRAM, printable

STDOUT_CLOSED = "standard output is closed"


class StdoutClosed(OSError):
    """A write to a stdout that was closed when the process started."""


class ClosedOutput(io.TextIOBase):
    """stdout when the process started without one (`>&-`): every write fails, as a write to
    a closed descriptor does, so that results are never silently lost."""

    def write(self, text: str) -> int:
        raise StdoutClosed(errno.EBADF, STDOUT_CLOSED)

    def fileno(self) -> int:
        return 1


def guard_standard_streams() -> None:
    """The first thing a command does. Descriptors 0-2 closed at start are opened on
    /dev/null, so that no file the tool opens takes their number (a library's log line on
    descriptor 2 would be written into it); a closed stdout becomes ClosedOutput, a closed
    stderr a writer on /dev/null. Text no one made printable is escaped, never refused."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            _point_at_devnull(descriptor)
    if sys.stdout is None:
        sys.stdout = ClosedOutput()
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # writes go to /dev/null
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def say(line: str) -> None:
    """One line of the tool's own on stderr (prefixed with the program's name), or nothing
    when stderr cannot be written."""
    write_diagnostic(f"{PROGRAM}: {printable(line)}\n")


def write_diagnostic(text: str) -> None:
    """`text` on stderr, flushed; when that fails, stderr is dropped (see the module's rule)."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except OSError:
        drop(sys.stderr)


def drop(stream: TextIO) -> None:
    """Point `stream`'s descriptor at /dev/null, so that what is still buffered for it, and
    every later write, goes nowhere instead of failing again."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):  # not a file of the process (a test's captured stream)
        return
    _point_at_devnull(descriptor)


def _point_at_devnull(descriptor: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    if devnull != descriptor:
        os.dup2(devnull, descriptor)
        os.close(devnull)
