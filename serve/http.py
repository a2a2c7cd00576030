"""uvicorn's HTTP/1.1 protocol (httptools) with the bounds it lacks, so that no client can
hold memory or a connection for long without completing requests, and one write a response.

- A request's line and headers: at most MAX_HEAD_BYTES (httptools keeps them all, with no
  limit of its own), else a 431; sent within `head_seconds` of the connection's opening or
  the request's first byte, else a 408 (a client that sends nothing, or a byte at a time).
  The time the server holds pipelined requests unparsed (below) does not count: their
  bytes have arrived, and a client that reads its answers late still gets them all.
- Connections: at most `max_connections`. One more closes another: first one whose client
  does not read its answers or sends requests ahead of them, else the one that has waited
  longest for its client (idle, or its request still arriving); only when every connection
  has one complete request being answered is the newcomer refused (503). uvicorn's
  `limit_concurrency` refuses newcomers instead, so that slow clients could lock out all
  others.
- Pipelined requests (sent before the answers to earlier ones): at most about
  MAX_PIPELINED queued; past that the rest of what arrived stays unparsed (one read of the
  socket at most) and the connection is not read until answers go out. uvicorn parses all
  it receives and resumes reading after every answer, so that a client that never reads
  its answers can queue requests without end.
- Unsent answers: the next answer waits until the socket has taken the last one (uvicorn
  waits past 64 KiB: hundreds of answers computed for a client that reads none), and the
  next request is not started while more than MAX_UNSENT bytes of earlier answers wait in
  the kernel's send queue (the socket takes megabytes: tens of thousands of small answers,
  seconds of CPU, for each client that pipelines and reads none); a connection closed with
  answers still unsent is cut after `head_seconds`.
- Malformed HTTP: the protocol's JSON error object in a 400, as for every other refusal.
- uvicorn writes a response's head and body separately: two system calls and two packets,
  which cost as much as the rest of a small request here; writes made in one step of the
  event loop now go out together.

A request's body has its own limits (bodies.py), once the guard is reading it.
"""

import asyncio
import fcntl
import json
import math
import struct
import time
from collections.abc import Callable
from typing import cast

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

MAX_HEAD_BYTES = 64 * 1024  # nginx allows 32 KiB, Node.js 16 KiB; a browser's head is < 8
MAX_PIPELINED = 32  # requests queued behind the one being answered, on one connection
PIPELINE_SLICE = 1024  # bytes parsed at a time outside a body: at most ~57 requests more
MAX_UNPARSED = 1024 * 1024  # bytes held unparsed while answers wait (one read: 256 KB)
MAX_UNSENT = 16 * 1024  # bytes of answers in the kernel's send queue, not sent yet
UNSENT_POLL_SECONDS = (0.01, 0.5)  # first and longest wait between looks at that queue
SIOCOUTQNSD = 0x894B  # Linux: bytes in a TCP socket's send queue not sent yet


def bounded_protocol(head_seconds: float, max_connections: int) -> type[HttpToolsProtocol]:
    """The protocol class for uvicorn's `http` setting, with these bounds."""
    bounds = {"head_seconds": head_seconds, "max_connections": max_connections}
    return type("BoundedHttp", (BoundedHttp,), bounds)


class BoundedHttp(HttpToolsProtocol):
    head_seconds = 30.0
    max_connections = 256

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # Writing waits whenever the socket holds answers the client has not taken: one that
        # does not read them gets none computed beyond the one waiting (uvicorn's default,
        # 64 KiB, is hundreds of small answers, each appended to a growing buffer).
        transport.set_write_buffer_limits(high=0)
        coalescing = Coalescing(transport, self.loop, self.head_seconds)
        super().connection_made(cast(asyncio.Transport, coalescing))  # it wraps one
        # The kernel's unsent bytes when last asked, and the bytes written by then: it holds
        # at most that many plus those written since, so it is asked only when that sum is
        # over MAX_UNSENT (a system call a request, otherwise: 5% of a small request's CPU).
        self._unsent_seen = self._written_then = 0
        self.flow = HeldFlow(self.transport, self._holding)
        self._head_bytes = 0
        self._in_head = True  # until a request's headers are complete
        self._head_timer: asyncio.TimerHandle | None = None
        self._received = b""  # the last data received, parsed up to `_parsed`
        self._parsed = 0
        self._body_left = 0  # bytes of the current request's body not yet parsed
        self.waiting_since: float | None = time.monotonic()  # None while a request is served
        self.unread = False  # True while a request waits for the client to take answers
        self._socket = transport.get_extra_info("socket")
        self._start_head_timer()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        held = self._received[self._parsed :]  # empty, unless reading resumed while holding
        if len(held) + len(data) > MAX_UNPARSED:
            self.transport.abort()
            return
        self._received, self._parsed = held + data if held else data, 0
        self._parse_received()

    def _parse_received(self) -> None:
        """Parse what has arrived, a slice at a time outside bodies, until MAX_PIPELINED
        requests wait; hold the rest (and do not read) until answers go out."""
        data = self._received
        while self._parsed < len(data) and len(self.pipeline) < MAX_PIPELINED:
            if self.transport.is_closing():
                self._parsed = len(data)
                break
            start = self._parsed
            self._parsed += max(PIPELINE_SLICE, self._body_left)  # a body goes in at once
            self._parse(data[start : self._parsed])
        if self._holding():
            self.flow.pause_reading()
            self._stop_head_timer()  # the rest has arrived: the wait is the server's own
        else:
            self._received, self._parsed = b"", 0
            if self._in_head and not self.transport.is_closing():
                self._start_head_timer()  # a head begun before holding: the client's again

    def _holding(self) -> bool:
        return self._parsed < len(self._received)

    def _parse(self, data: bytes) -> None:
        super().data_received(data)
        # Still in a head after this piece: all of the piece belongs to it.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, f"request line and headers over {MAX_HEAD_BYTES:,} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0
        self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        self._body_left = _content_length(self.headers)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_left -= len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._body_left = 0
        if not self.cycle.response_complete:  # complete: being answered, not to be evicted
            self.waiting_since = None

    def on_response_complete(self) -> None:
        super().on_response_complete()  # starts the next request queued; reads on, unless held
        if not self.transport.is_closing():
            self.waiting_since = time.monotonic() if not self.pipeline else None
            self._parse_received()
            if not self._holding():
                self.flow.resume_reading()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self._start_when_sent(cycle, app, UNSENT_POLL_SECONDS[0])

    def _start_when_sent(
        self, cycle: RequestResponseCycle, app: ASGI3Application, wait: float
    ) -> None:
        """Answer the request once the kernel holds at most MAX_UNSENT bytes of earlier
        answers, looking again after `wait` seconds (doubled each time) until then."""
        if self.transport.is_closing():
            return
        written = cast(Coalescing, self.transport).written
        if self._unsent_seen + written - self._written_then > MAX_UNSENT:  # else it cannot be
            self._unsent_seen, self._written_then = _unsent(self._socket), written
        self.unread = self._unsent_seen > MAX_UNSENT
        if self.unread:
            longer = min(2 * wait, UNSENT_POLL_SECONDS[1])
            self.loop.call_later(wait, self._start_when_sent, cycle, app, longer)
        else:
            super()._start_asgi_task(cycle, app)

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "malformed HTTP request")

    def _make_room(self) -> None:
        """Over the bound: close the connection that has waited longest for its client; when
        all are being answered, refuse this one. (A scan: a microsecond a connection.)"""
        victim, oldest = self, math.inf
        for connection in self.connections:
            since = _waiting_since(connection)
            if since is not None and since < oldest:
                victim, oldest = cast(BoundedHttp, connection), since  # only those wait
                if since == -math.inf:
                    break
        if victim is self:
            self._refuse(503, f"busy: {self.max_connections:,} connections are being answered")
        else:
            victim.transport.abort()

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_late)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"no complete request headers within {self.head_seconds:g} s")

    def _refuse(self, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        head = [
            STATUS_LINE[status],
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def _waiting_since(connection: object) -> float | None:
    """Since when the connection has waited for its client (for a request or its body):
    -inf when it is closing, its client does not read its answers, or sends requests ahead
    of them; None while it has one complete request being answered."""
    if not isinstance(connection, BoundedHttp):
        return None
    if (
        connection.transport.is_closing()
        or connection.flow.write_paused
        or connection.unread
        or connection.pipeline
    ):
        return -math.inf
    return connection.waiting_since


def _unsent(sock: object) -> int:
    """Bytes in a TCP socket's send queue that the kernel has not sent (the client's
    window is closed: it reads nothing); 0 where the system cannot tell."""
    try:
        answer = fcntl.ioctl(sock.fileno(), SIOCOUTQNSD, b"\0" * 4)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return 0
    return struct.unpack("i", answer)[0]


def _content_length(headers: list[tuple[bytes, bytes]]) -> int:
    """The Content-Length of a request's headers (httptools has checked it), else 0."""
    for name, value in headers:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


class HeldFlow(FlowControl):
    """uvicorn's flow control, but reading stays paused while the protocol holds data it
    has received and not parsed yet (uvicorn resumes reading whenever a request reads its
    body)."""

    def __init__(self, transport: asyncio.Transport, holding: Callable[[], bool]) -> None:
        super().__init__(transport)
        self._holding = holding

    def resume_reading(self) -> None:
        if not self._holding():
            super().resume_reading()


class Coalescing:
    """A transport whose writes in one step of the event loop go out in one write, and
    which, closed with data its client has not taken, is cut after `linger` seconds."""

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, linger: float
    ) -> None:
        self._transport, self._loop, self._linger = transport, loop, linger
        self._pending: list[bytes] = []
        self.written = 0  # bytes handed to the transport so far

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()
        if self._transport.get_write_buffer_size():
            self._loop.call_later(self._linger, self._transport.abort)

    def is_closing(self) -> bool:  # asked for every connection when one must make room
        return self._transport.is_closing()

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)
                self.written += len(data)

    def __getattr__(self, name: str) -> object:  # everything else: the transport's own
        return getattr(self._transport, name)
