"""Clients that abuse a real `mnist-edge serve` process (default limits) over loopback, at
the HTTP level: bodies promised and never sent, bodies stalled just short of the limit,
endless heads, more connections than it keeps, and requests pipelined without reading the
answers. During each, a normal client keeps asking for a prediction; the server's resident
memory is sampled throughout.

It proves that the normal client is answered (200, within ANSWER_UNDER_ABUSE_SECONDS) during
every abuse, that the server stays under MAX_PROCESS_MB, and that it gives the memory back
(within GIVEN_BACK_MIB of where it was) once the abuse ends. The figures are printed."""

import pytest

from harness.service import ServiceProcess, service
from tests import abuse
from tests.targets import ANSWER_UNDER_ABUSE_SECONDS, GIVEN_BACK_MIB, MAX_PROCESS_MB

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
