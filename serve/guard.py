"""Every request's frame, around the application (plain ASGI): the limits a device needs,
and the record of what happened.

- The body is read whole first (bodies.py: at most `max_body` bytes a request, 413 past it,
  and `max_buffered` bytes all requests together); only then does the request wait for one
  of the `max_requests` places, which it gives back as its answer starts: clients that send
  slowly, or do not read their answers, hold no place.
- One timeout for the whole request: 408 while its body is still arriving (a client that
  sends slowly), 503 when it waited for a place or an answer too long, or when the service
  stops before it is answered.
- Anything unexpected: a 500 with `{"error": "internal error"}` and one line on stderr,
  never a traceback in a response; any other 500 (a model that failed) has its reason
  logged in one line too.
- One access-log line per request on stderr (unless quiet), and the request's metrics.
"""

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from mnist_edge.core.text import one_line, printable
from mnist_edge.serve import log
from mnist_edge.serve.bodies import Body, BodyTooLarge, Budget, ClientGone, declared_length
from mnist_edge.serve.metrics import Metrics
from mnist_edge.serve.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
CLIENT_CLOSED = 499  # no answer could be given: the client went away (as nginx logs it)
SERVER_ERROR = 500  # a fault of the service or the model: its reason goes to the log
FAULT_BYTES = 1000  # of a 500's body, logged
ERROR_FIELD = re.compile(rb'\{\s*"error"\s*:\s*"((?:[^"\\]|\\.)*)"')  # its string, escaped


class Exchange:
    """One request's send, watched: status, bytes sent, and whether its client went away."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.sent = 0
        self.status: int | None = None
        self.disconnected = False
        self.fault = b""  # the start of a 500's body: what went wrong
        self.logged = False  # the fault has its line in the log
        self.answering: Callable[[], None] = lambda: None  # called as the answer starts

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.answering()
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if self.status == SERVER_ERROR and not self.sent:
                self.fault = body[:FAULT_BYTES]
            self.sent += len(body)
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
        self._bodies = Budget(settings.buffered_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan
            await self.app(scope, receive, send)
            return
        exchange = Exchange(send)
        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            await self._serve(scope, receive, exchange)
        finally:
            self.metrics.in_progress.dec()
            self._record(scope, exchange, time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, exchange: Exchange) -> None:
        limit = self.settings.timeout
        body = Body(receive, self.settings.max_body, self._bodies)
        admitted = False
        try:
            async with asyncio.timeout(limit):
                data = await body.read(declared_length(scope["headers"]))
                async with self._place(exchange):
                    admitted = True
                    await self.app(scope, body.replay(data), exchange.send)
        except TimeoutError:
            if body.reading:
                await exchange.fail(408, f"the request body did not arrive within {limit:g} s")
            elif not admitted:
                await exchange.fail(503, f"busy: no place for this request within {limit:g} s")
            else:
                await exchange.fail(503, f"no answer within {limit:g} s")
        except BodyTooLarge as error:
            await exchange.fail(413, str(error))
        except ClientGone:
            exchange.disconnected = True
        except asyncio.CancelledError:  # the service stops and cannot wait any longer
            await exchange.fail(503, "the service is stopping")
        except Exception as error:  # a bug: the response says little, the log one line
            log.stamped(
                f"internal error: {_request_line(scope)}: {type(error).__name__}: "
                f"{one_line(str(error))}"
            )
            exchange.logged = True
            await exchange.fail(SERVER_ERROR, "internal error")
        finally:
            body.release()

    @contextlib.asynccontextmanager
    async def _place(self, exchange: Exchange) -> AsyncIterator[None]:
        """One of the places, held until the answer starts: a client that does not read its
        answer holds its connection, not a place."""
        await self._places.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self._places.release()

        exchange.answering = give_back
        try:
            yield
        finally:
            give_back()

    def _record(self, scope: Scope, exchange: Exchange, seconds: float) -> None:
        status = (
            CLIENT_CLOSED if exchange.disconnected or exchange.status is None else exchange.status
        )
        self.metrics.request(_endpoint(scope), status, seconds)
        if status == SERVER_ERROR and not exchange.logged:
            log.stamped(f"server error: {_request_line(scope)}: {_reason(exchange.fault)}")
        if not self.settings.quiet:
            client = (scope.get("client") or ("-", 0))[0]
            log.stamped(
                f"{client} {_request_line(scope)} {status} {seconds * 1000:.1f}ms {exchange.sent}B"
            )


def _request_line(scope: Scope) -> str:
    query = scope.get("query_string", b"")
    target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
    return f"{scope['method']} {printable(target)[:300]}"


def _reason(body: bytes) -> str:
    """The message of an error object (which may go on with records past the bytes kept),
    else the start of whatever the body was."""
    found = ERROR_FIELD.match(body)
    if found is not None:
        return one_line(json.loads(b'"' + found.group(1) + b'"'))
    return one_line(body.decode("utf-8", "replace"))


def _endpoint(scope: Scope) -> str:
    """The handler the router chose, by name (a bounded set of label values); 'page' for
    the static files, 'unmatched' when no route matched."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return "unmatched"
    return getattr(endpoint, "__name__", "page")
