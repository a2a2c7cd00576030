"""Progress on stderr while a long run goes on: only when stderr is a terminal, never mixed
into stdout, and off with --quiet. One line, redrawn at most a few times a second."""

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from mnist_edge.core.streams import write_diagnostic

REDRAW_SECONDS = 0.2
Result = TypeVar("Result")


class Progress:
    """Counts inputs done and failed; shows the rate, and the time left once the total is
    known (counted in the background: see `count_in_background`)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = self.failed = 0
        self.total: int | None = None
        self.started = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    def track(
        self, results: Iterable[Result], failed: Callable[[Result], bool]
    ) -> Iterator[Result]:
        """`results` unchanged, counted as they pass."""
        try:
            for result in results:
                self.done += 1
                self.failed += failed(result)
                if self.enabled and time.monotonic() - self._drawn >= REDRAW_SECONDS:
                    self._draw()
                yield result
        finally:
            self.clear()

    def count_in_background(self, count: Callable[[], int | None]) -> None:
        """Learn the total from `count()` in a daemon thread (None: it cannot be known)."""
        if self.enabled:
            threading.Thread(target=lambda: setattr(self, "total", count()), daemon=True).start()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.done:,}" + (f" of {self.total:,}" if self.total else "") + " inputs"]
        parts.append(f"{rate:,.0f}/s")
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.total and rate > 0 and self.total >= self.done:
            parts.append(f"{_duration((self.total - self.done) / rate)} left")
        return ", ".join(parts)

    def clear(self) -> None:
        if self.enabled and self._width:
            write_diagnostic("\r" + " " * self._width + "\r")
            self._width = 0

    def _draw(self) -> None:
        text = self.line()
        write_diagnostic("\r" + text.ljust(self._width))
        self._width = max(self._width, len(text))
        self._drawn = time.monotonic()


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
