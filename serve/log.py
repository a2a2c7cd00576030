"""One line per request on the service's log (stderr), with the time: the access log, and
the reason for a 500. Like the service's other lines (core/streams.say), it is dropped when
stderr cannot be written."""

import datetime

from mnist_edge.core.streams import write_diagnostic


def stamped(line: str) -> None:
    """A line about one request, with the time (UTC, milliseconds)."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
    write_diagnostic(f"{now[:-6]}Z {line}\n")
