"""Abuse of a real `mnist-edge serve` process over loopback, measured: many raw connections
doing one kind of harm at once, while a normal client keeps asking for a prediction and the
server's resident memory is sampled. What a test asserts on, and what it prints.

Every abuse is an async function of the server's address that opens its connections, does its
harm and returns them open (they are closed when the measurement ends).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.raw_http import read_response
from harness.service import ServiceProcess

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "mnist-7.png"
PROBE_SECONDS = 30.0  # a normal request's own time limit (longer than any answer we accept)
SAMPLE_SECONDS = 0.02  # RSS sampling period
SETTLE_SECONDS = 5.0  # after the abuse ends, how long the memory may take to come back
CHUNK = 256 * 1024  # bytes an abusive client writes at a time
STALL_SECONDS = 1.0  # a server that takes nothing for this long has stopped reading
Connections = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
Abuse = Callable[[tuple[str, int]], Awaitable[Connections]]


@dataclass
class Figures:
    """What one abuse did to the server."""

    name: str
    baseline_mib: float = 0.0  # RSS before
    peak_mib: float = 0.0  # highest RSS sampled during the abuse
    after_mib: float = 0.0  # RSS once the abuse's connections are closed and it has settled
    answers: list[tuple[int, float]] = field(default_factory=list)  # normal requests: status, s

    @property
    def slowest(self) -> float:
        return max(seconds for _, seconds in self.answers)

    def line(self) -> str:
        statuses = sorted({status for status, _ in self.answers})
        return (
            f"{self.name}: normal requests {statuses} slowest {self.slowest:.3f} s; RSS "
            f"{self.baseline_mib:.0f} MiB before, {self.peak_mib:.0f} MiB peak, "
            f"{self.after_mib:.0f} MiB after"
        )


def upload(path: str = "/v1/predict", body: bytes | None = None) -> bytes:
    """A normal request's bytes: the sample PNG as the body."""
    body = SAMPLE.read_bytes() if body is None else body
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def normal_request(address: tuple[str, int]) -> tuple[int, float]:
    """A prediction on a new connection: its status (0: no answer) and seconds taken."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            reader, writer = await asyncio.open_connection(*address)
            try:
                writer.write(upload())
                status, _ = await read_response(reader)
            finally:
                writer.close()
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        status = 0
    return status, time.perf_counter() - started


async def connect(address: tuple[str, int], count: int, data: bytes) -> Connections:
    """`count` connections, each sending `data` for as long as the server reads it (a
    connection stops sending when the server has taken nothing for STALL_SECONDS), left
    open. All connect first, then they send together."""
    connections = []
    for _ in range(count):
        try:
            connections.append(await asyncio.open_connection(*address))
        except OSError:  # refused or reset: the server's own limit on connections
            break
    await asyncio.gather(*(_send(writer, data) for _, writer in connections))
    return connections


async def _send(writer: asyncio.StreamWriter, data: bytes) -> int:
    """Bytes of `data` the server took (written in CHUNK pieces, each drained)."""
    sent = 0
    try:
        for start in range(0, len(data), CHUNK):
            writer.write(data[start : start + CHUNK])
            async with asyncio.timeout(STALL_SECONDS):
                await writer.drain()
            sent = min(len(data), start + CHUNK)
    except (TimeoutError, OSError):
        pass
    return sent


def measure(
    server: ServiceProcess, name: str, abuse: Abuse, probes: int = 5, spacing: float = 0.3
) -> Figures:
    """Run `abuse` against `server`, with `probes` normal requests `spacing` s apart once its
    connections are open; then close them and let the memory settle."""
    return asyncio.run(_measure(server, name, abuse, probes, spacing))


async def _measure(
    server: ServiceProcess, name: str, abuse: Abuse, probes: int, spacing: float
) -> Figures:
    figures = Figures(name, baseline_mib=server.rss_mib())
    sampling = asyncio.create_task(_sample(server, figures))
    connections = await abuse(server.address)
    for _ in range(probes):
        await asyncio.sleep(spacing)
        figures.answers.append(await normal_request(server.address))
    for _, writer in connections:
        writer.transport.abort()
    sampling.cancel()
    figures.after_mib = await _settled(server, figures.baseline_mib)
    return figures


async def _sample(server: ServiceProcess, figures: Figures) -> None:
    while True:
        figures.peak_mib = max(figures.peak_mib, server.rss_mib())
        await asyncio.sleep(SAMPLE_SECONDS)


async def _settled(server: ServiceProcess, baseline: float, near: float = 10.0) -> float:
    """RSS once it is within `near` MiB of `baseline`, or after SETTLE_SECONDS."""
    deadline = time.monotonic() + SETTLE_SECONDS
    rss = server.rss_mib()
    while rss > baseline + near and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        rss = server.rss_mib()
    return rss


def silent_bodies(count: int, length: int) -> Abuse:
    """Requests whose headers promise a `length`-byte body that never comes."""
    head = f"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Length: {length}\r\n\r\n"
    return lambda address: connect(address, count, head.encode())


def stalled_bodies(count: int, length: int) -> Abuse:
    """Requests that send all of a `length`-byte body but its last byte."""
    head = f"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Length: {length}\r\n\r\n"
    return lambda address: connect(address, count, head.encode() + bytes(length - 1))


def unfinished_heads(count: int, size: int) -> Abuse:
    """Requests whose headers go on for `size` bytes and never end."""
    head = b"GET /v2 HTTP/1.1\r\nHost: test\r\nX-Padding: "
    return lambda address: connect(address, count, head + b"a" * (size - len(head)))


def pipelined_gets(count: int, requests: int) -> Abuse:
    """Connections that each send `requests` GETs at once and never read an answer."""
    get = b"GET /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n"
    return lambda address: connect(address, count, get * requests)


def silent_connections(count: int) -> Abuse:
    """Connections that send nothing at all."""
    return lambda address: connect(address, count, b"")
