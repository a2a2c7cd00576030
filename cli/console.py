"""How commands talk to the user: results on stdout, one-line problems on stderr, and exit
codes that say what happened.

Exit codes: 0 every input was predicted; 1 some input (or the model) could not be used;
2 a usage error; 3 the results could not be written (disk full, I/O error, stdout closed);
141 the reader of standard output went away (`| head`), as for any Unix filter (128 +
SIGPIPE). A line that cannot be written on stderr changes none of them (core/streams.py).
"""

import contextlib
import sys
from collections.abc import Iterator
from typing import NoReturn

import typer

from mnist_edge.core.streams import STDOUT_CLOSED, ClosedOutput, drop, say

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_WRITE = 3
EXIT_CLOSED_PIPE = 141


def warn(message: str) -> None:
    """One line on stderr, prefixed with the program name (after what stdout holds so far)."""
    with contextlib.suppress(OSError):  # a closed stdout is handled where results are written
        sys.stdout.flush()
    say(message)


def note(message: str) -> None:
    """What a command is doing while it takes seconds: on stderr when it is a terminal (a
    person waiting), never in logs or pipes."""
    if sys.stderr.isatty():
        warn(message)


def require(extra: str, needed_by: str) -> None:
    """One line and exit 1 unless `extra` is installed (the line says how to install it)."""
    from mnist_edge.core.extras import MissingExtra, require_extra

    try:
        require_extra(extra, needed_by)
    except MissingExtra as error:
        fail(str(error))


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Report a problem in one line and end the command with `code` (no traceback)."""
    warn(f"error: {message}")
    raise typer.Exit(code)


def require_stdout() -> None:
    """Before a command that writes results starts its work: one line and exit 3 when the
    process was started with stdout closed (`>&-`), where no result could go."""
    if isinstance(sys.stdout, ClosedOutput):
        fail(f"cannot write the results ({STDOUT_CLOSED})", EXIT_WRITE)


@contextlib.contextmanager
def writing_results() -> Iterator[None]:
    """Around everything a command writes to stdout: a reader that left ends the command
    quietly (141); a failed write (a full disk) ends it with one line (3). stdout is then
    pointed at /dev/null, so that the interpreter's last flush cannot fail again."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        drop(sys.stdout)
        raise typer.Exit(EXIT_CLOSED_PIPE) from None
    except OSError as error:
        if error.filename is not None:  # not a write to stdout
            raise
        drop(sys.stdout)
        fail(f"cannot write the results ({error.strerror or error})", EXIT_WRITE)
