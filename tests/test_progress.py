"""The progress line: what it says, and that it is drawn only where it was asked for."""

import io
import sys

from mnist_edge.cli.progress import Progress


def test_the_line_counts_rate_failures_and_time_left(monkeypatch):
    progress = Progress(enabled=True)
    progress.done, progress.failed, progress.total = 250, 3, 1000
    progress.started -= 10  # 10 s in: 25 inputs/s, 750 left, 30 s
    assert progress.line() == "250 of 1,000 inputs, 25/s, 3 failed, 0:30 left"
    progress.total = None
    assert progress.line() == "250 inputs, 25/s, 3 failed"


def test_it_is_drawn_on_stderr_and_cleared_at_the_end(monkeypatch):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    results = list(Progress(enabled=True).track(range(5), lambda n: n == 3))
    assert results == [0, 1, 2, 3, 4]
    drawn = terminal.getvalue()
    first = drawn.split("\r")[1]
    assert first.startswith("1 inputs, ")
    assert drawn.endswith("\r" + " " * len(first) + "\r")  # wiped before the summary line


def test_disabled_it_writes_nothing(monkeypatch):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert list(Progress(enabled=False).track(range(3), lambda n: False)) == [0, 1, 2]
    assert terminal.getvalue() == ""
