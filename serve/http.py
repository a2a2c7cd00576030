"""uvicorn's HTTP/1.1 protocol (httptools) with the two bounds it lacks, so that a client
cannot hold memory or a connection without ever completing a request, and one write per
response:

- a request's line and headers: at most MAX_HEAD_BYTES (httptools keeps them all, with no
  limit of its own), else a 431 and the connection closed;
- the time to send them: `head_seconds` from the connection's opening or the request's
  first byte, else a 408 and the connection closed (a client that sends nothing, or one
  header byte at a time, is not kept waiting for).

- uvicorn writes a response's head and body separately: two system calls and two packets,
  which cost as much as the rest of a small request here; writes made in one step of the
  event loop now go out together.

The body has its own limits (guard.py), once the application is reading it.
"""

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 1024 * 1024  # above any real head, and above one read of the socket (256 KiB)


def bounded_protocol(head_seconds: float) -> type[HttpToolsProtocol]:
    """The protocol class for uvicorn's `http` setting, with this deadline for a head."""
    return type("BoundedHttp", (BoundedHttp,), {"head_seconds": head_seconds})


class BoundedHttp(HttpToolsProtocol):
    head_seconds = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Coalescing(transport, self.loop))
        self._head_bytes = 0
        self._in_head = True  # until a request's headers are complete
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still in a head after this chunk: all of the chunk belongs to it.
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
        super().on_headers_complete()

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


class Coalescing:
    """A transport whose writes in one step of the event loop go out in one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def __getattr__(self, name: str) -> object:  # everything else: the transport's own
        return getattr(self._transport, name)
