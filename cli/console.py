"""How commands talk to the user: results on stdout, one-line problems on stderr."""

import sys
from typing import NoReturn

import typer

PROGRAM = "mnist-edge"


def warn(message: str) -> None:
    """One line on stderr, prefixed with the program name (after what stdout holds so far)."""
    sys.stdout.flush()
    print(f"{PROGRAM}: {message}", file=sys.stderr, flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Report a problem in one line and end the command with `code` (no traceback)."""
    warn(f"error: {message}")
    raise typer.Exit(code)
