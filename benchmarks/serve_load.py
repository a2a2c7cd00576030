"""A load generator for `mnist-edge serve`: `clients` keep-alive connections, each sending
prepared HTTP requests one after another as fast as the answers come back, until a count
or a time limit is reached. Loopback only; a few microseconds of client work a request
(raw asyncio streams, no HTTP library), so that the server is what gets measured.
"""

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from harness.raw_http import read_response


@dataclass(frozen=True)
class Request:
    """One prepared request: the bytes on the wire and how many images it carries."""

    wire: bytes
    images: int


@dataclass
class Load:
    """What one run measured."""

    clients: int
    seconds: float = 0.0
    answered: int = 0  # with status 200
    failed: int = 0  # another status, or a broken connection
    images: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    statuses: dict[int, int] = field(default_factory=dict)  # status -> count, besides 200

    @property
    def requests_per_second(self) -> float:
        return self.answered / self.seconds

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds

    def percentile_ms(self, percent: float) -> float:
        return float(np.percentile(self.latencies, percent)) * 1000


Answer = Callable[[int, int, bytes], None]  # (request number, status, body)


async def _client(
    address: tuple[str, int], requests: list[Request], turns: "Turns", load: Load, answer: Answer
) -> None:
    """One connection's loop; a broken connection counts as a failure and is reopened."""
    reader = writer = None
    while (turn := turns.next()) is not None:
        request = requests[turn % len(requests)]
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(*address)
            started = time.perf_counter()
            writer.write(request.wire)
            status, body = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            load.failed += 1
            writer = None
            continue
        if status == 200:
            load.latencies.append(time.perf_counter() - started)
            load.answered += 1
            load.images += request.images
        else:
            load.failed += 1
            load.statuses[status] = load.statuses.get(status, 0) + 1
        answer(turn, status, body)
    if writer is not None:
        writer.close()


class Turns:
    """Hands out request numbers until `count` are out or `seconds` have passed."""

    def __init__(self, count: int, seconds: float) -> None:
        self._numbers = itertools.count()
        self.count, self.stop = count, time.perf_counter() + seconds

    def next(self) -> int | None:
        turn = next(self._numbers)
        return turn if turn < self.count and time.perf_counter() < self.stop else None


async def _run(
    address: tuple[str, int],
    requests: list[Request],
    clients: int,
    count: int,
    seconds: float,
    answer: Answer,
) -> Load:
    load = Load(clients)
    turns = Turns(count, seconds)
    started = time.perf_counter()
    runs = [_client(address, requests, turns, load, answer) for _ in range(clients)]
    await asyncio.gather(*runs)
    load.seconds = time.perf_counter() - started
    return load


def run_load(
    address: tuple[str, int],
    requests: list[Request],
    clients: int,
    count: int,
    seconds: float,
    warmup: float = 0.0,
    answer: Answer = lambda turn, status, body: None,
) -> Load:
    """`clients` connections sending `requests` in turn, at most `count` requests in at most
    `seconds` (after `warmup` seconds whose figures are dropped); `answer` sees each reply."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        if warmup:
            runner.run(_run(address, requests, clients, count, warmup, answer))
        return runner.run(_run(address, requests, clients, count, seconds, answer))


def _loop_factory():
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
