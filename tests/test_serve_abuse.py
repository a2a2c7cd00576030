"""Clients that abuse a real `mnist-edge serve` process (default limits) over loopback, at
the HTTP level: bodies promised and never sent, bodies stalled just short of the limit,
endless heads, more connections than it keeps, and requests pipelined without reading the
answers. During each, a normal client keeps asking for a prediction; the server's resident
memory is sampled throughout.

It proves that the normal client is answered (200, within ANSWER_UNDER_ABUSE_SECONDS) during
every abuse, that the server stays under MAX_PROCESS_MB, and that it gives the memory back
(within GIVEN_BACK_MIB of where it was) once the abuse ends. The figures are printed. And a
client that pipelines requests and reads no answer gets no more of them computed than its
own socket can hold."""

import fcntl
import socket
import struct
import termios
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from harness.service import ServiceProcess, service
from harness.targets import ANSWER_UNDER_ABUSE_SECONDS, GIVEN_BACK_MIB, MAX_PROCESS_MB
from tests import abuse

pytestmark = pytest.mark.slow

MIB = 2**20
DEFAULT_MAX_BODY = 16 * MIB  # what `serve --help` states
ABUSES = {
    "64 bodies promised, none sent": abuse.silent_bodies(64, 1_000_000),
    "64 bodies stalled 1 byte short of 16 MiB": abuse.stalled_bodies(64, DEFAULT_MAX_BODY),
    "300 heads of 1 MB, never ended": abuse.unfinished_heads(300, 1_000_000),
    "300 heads of 60 KB, never ended": abuse.unfinished_heads(300, 60_000),
    "1,000 connections that say nothing": abuse.silent_connections(1000),
    "10 connections pipelining 100,000 GETs, answers unread": abuse.pipelined_gets(10, 100_000),
}


@pytest.fixture(scope="module")
def server() -> ServiceProcess:
    with service("--quiet") as running:
        abuse.measure(running, "warm-up", abuse.silent_connections(0), probes=3)
        yield running
        assert running.stop() == 0


@pytest.mark.parametrize("name", ABUSES)
def test_a_normal_request_is_answered_and_memory_comes_back(server: ServiceProcess, name: str):
    figures = abuse.measure(server, name, ABUSES[name])
    print(figures.line())
    assert [status for status, _ in figures.answers] == [200] * len(figures.answers)
    assert figures.slowest <= ANSWER_UNDER_ABUSE_SECONDS
    assert figures.peak_mib * MIB / 1e6 < MAX_PROCESS_MB  # the ceiling is stated in MB
    assert figures.after_mib <= figures.baseline_mib + GIVEN_BACK_MIB


def test_a_client_that_reads_no_answers_gets_no_more_computed_than_its_socket_holds(
    server: ServiceProcess,
):
    one = _answer_bytes(server, "/v2/health/live")
    before = _answered(server, "live")
    with _pipelined_unread(
        server, b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n\r\n" * 100_000
    ) as sent:
        answered = _answered(server, "live") - before
        received = _waiting_bytes(sent)
    # Every answer is in the client's receive queue (it reads none) or in the server's send
    # queue: at most 16 KiB there when the last answer was started, then that answer, one
    # split between the two queues and one being written. Answering all would be 100,000.
    least, most = received // one, (received + 16 * 1024) // one + 3
    print(f"{answered:,.0f} of 100,000 pipelined requests answered, none read ({least:,} received)")
    assert 0 < least <= answered <= most


@contextmanager
def _pipelined_unread(server: ServiceProcess, data: bytes) -> Iterator[socket.socket]:
    """A connection that has sent `data` until the server took none of it for STALL_SECONDS,
    read nothing, and waited as long again for the server to finish what it took."""
    with socket.create_connection(server.address, timeout=abuse.STALL_SECONDS) as connection:
        sent = 0
        with suppress(TimeoutError):
            while sent < len(data):
                sent += connection.send(data[sent : sent + abuse.CHUNK])
        time.sleep(abuse.STALL_SECONDS)
        yield connection


def _waiting_bytes(connection: socket.socket) -> int:
    """Bytes received on `connection` and not read yet (Linux's FIONREAD)."""
    return struct.unpack("i", fcntl.ioctl(connection, termios.FIONREAD, b"\0" * 4))[0]


def _answered(server: ServiceProcess, endpoint: str) -> float:
    """Requests to `endpoint` answered 200, as the service's /metrics counts them."""
    text = urllib.request.urlopen(server.url + "/metrics", timeout=30).read().decode()
    wanted = f'mnist_edge_requests_total{{endpoint="{endpoint}",status="200"}} '
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(wanted))


def _answer_bytes(server: ServiceProcess, path: str) -> int:
    """The length on the wire of one answer to GET `path` on a connection kept open."""
    closing = b"connection: close\r\n"
    with socket.create_connection(server.address, timeout=30) as connection:
        connection.sendall(
            f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert closing in answer.lower()
    return len(answer) - len(closing)
