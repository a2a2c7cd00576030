"""Every request's frame, around the application (plain ASGI): the limits a device needs,
and the record of what happened.

- At most `max_requests` requests in progress; later ones wait for a place.
- The body: refused at once when Content-Length says more than `max_body`, else counted as
  it arrives (413 past the limit), so no request can hold more than that in memory.
- One timeout for the whole request: 408 while its body is still arriving (a client that
  sends slowly), 503 when it waited for a place or an answer too long.
- Anything unexpected: a 500 with `{"error": "internal error"}` and one line on stderr,
  never a traceback in a response.
- One access-log line per request on stderr (unless quiet), and the request's metrics.
"""

import asyncio
import contextlib
import datetime
import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mnist_edge.core.text import one_line, printable
from mnist_edge.serve.metrics import Metrics
from mnist_edge.serve.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
CLIENT_CLOSED = 499  # no answer could be given: the client went away (as nginx logs it)


class BodyTooLarge(Exception):
    """The request body goes past the limit."""


class Exchange:
    """One request's receive and send, watched: body bytes, status, bytes sent."""

    def __init__(self, receive: Receive, send: Send, max_body: int) -> None:
        self._receive, self._send, self.max_body = receive, send, max_body
        self.received = self.sent = 0
        self.status: int | None = None
        self.reading = True  # until the last chunk of the body has arrived
        self.disconnected = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        elif message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_body:
                raise BodyTooLarge(f"request body over {self.max_body:,} bytes")
            self.reading = bool(message.get("more_body", False))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.sent += len(message.get("body", b""))
        await self._send(message)

    async def fail(self, status: int, message: str) -> None:
        """Answer with the protocol's error object, unless an answer has begun."""
        if self.status is not None or self.disconnected:
            return
        body = error_body(message)
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings, metrics: Metrics) -> None:
        self.app, self.settings, self.metrics = app, settings, metrics
        self._places = asyncio.Semaphore(settings.max_requests)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan
            await self.app(scope, receive, send)
            return
        exchange = Exchange(receive, send, self.settings.max_body)
        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            await self._serve(scope, exchange)
        finally:
            self.metrics.in_progress.dec()
            self._record(scope, exchange, time.perf_counter() - started)

    async def _serve(self, scope: Scope, exchange: Exchange) -> None:
        limit = self.settings.timeout
        admitted = False
        try:
            async with asyncio.timeout(limit):
                async with self._places:
                    admitted = True
                    if _declared_length(scope) > self.settings.max_body:
                        raise BodyTooLarge(f"request body over {self.settings.max_body:,} bytes")
                    await self.app(scope, exchange.receive, exchange.send)
        except TimeoutError:
            if not admitted:
                await exchange.fail(503, f"busy: no place for this request within {limit:g} s")
            elif exchange.reading:
                await exchange.fail(408, f"the request body did not arrive within {limit:g} s")
            else:
                await exchange.fail(503, f"no answer within {limit:g} s")
        except BodyTooLarge as error:
            await exchange.fail(413, str(error))
        except Exception as error:  # a bug: the response says little, the log one line
            self._log(
                f"internal error: {_request_line(scope)}: {type(error).__name__}: "
                f"{one_line(str(error))}"
            )
            await exchange.fail(500, "internal error")

    def _record(self, scope: Scope, exchange: Exchange, seconds: float) -> None:
        status = (
            CLIENT_CLOSED if exchange.disconnected or exchange.status is None else exchange.status
        )
        self.metrics.request(_endpoint(scope), status, seconds)
        if not self.settings.quiet:
            client = (scope.get("client") or ("-", 0))[0]
            self._log(
                f"{client} {_request_line(scope)} {status} {seconds * 1000:.1f}ms {exchange.sent}B"
            )

    @staticmethod
    def _log(line: str) -> None:
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        with contextlib.suppress(OSError):  # a log that went away stops no request
            sys.stderr.write(f"{now[:-6]}Z {line}\n")


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0  # the HTTP parser refused worse
    return 0


def _request_line(scope: Scope) -> str:
    query = scope.get("query_string", b"")
    target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
    return f"{scope['method']} {printable(target)[:300]}"


def _endpoint(scope: Scope) -> str:
    """The handler the router chose, by name (a bounded set of label values); 'page' for
    the static files, 'unmatched' when no route matched."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return "unmatched"
    return getattr(endpoint, "__name__", "page")
