"""Request bodies, read whole before their request takes one of the places: a client that
sends slowly (or promises a body and sends nothing) holds its connection, not a place that
others need.

Two bounds keep the bytes held in memory in check: `max_body` for one request (refused at
once when its Content-Length says more, else counted as it arrives) and a budget for all
requests together. A body of at most SMALL_BODY bytes takes nothing from the budget (it is
no more than a connection buffers anyway, and connections are bounded), so small requests
never wait behind large uploads. A larger body reserves its Content-Length before it is read
(a body sent in chunks, its size as it grows), and waits while others hold the budget; its
client is not read meanwhile, so the rest of its body stays in the client's socket.
"""

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

SMALL_BODY = 64 * 1024  # uvicorn stops reading a connection once it holds this much body
CHUNKED_STEP = 1024 * 1024  # a body of unknown length reserves this much more at a time


class BodyTooLarge(Exception):
    """The request body goes past the limit."""


class ClientGone(Exception):
    """The client closed its connection before its body had arrived."""


class Budget:
    """Bytes of request bodies that all requests together may hold."""

    def __init__(self, total: int) -> None:
        self.total = self.free = total
        self._freed = asyncio.Event()

    async def take(self, size: int) -> None:
        """Reserve `size` bytes, waiting until others have given back enough."""
        while size > self.free:
            self._freed.clear()
            await self._freed.wait()
        self.free -= size

    def give(self, size: int) -> None:
        self.free += size
        self._freed.set()


class Body:
    """One request's body: read whole, then replayed to the application."""

    def __init__(self, receive: Receive, max_body: int, budget: Budget) -> None:
        self._receive, self.max_body, self._budget = receive, max_body, budget
        self.reading = True  # until the last byte has arrived
        self.reserved = 0  # bytes of the budget this request holds

    async def read(self, declared: int | None) -> bytes:
        """The whole body (`declared`: its Content-Length; None when sent in chunks)."""
        if declared is not None and declared > self.max_body:
            raise BodyTooLarge(f"request body over {self.max_body:,} bytes")
        if declared is not None and declared > SMALL_BODY:
            await self._reserve(declared)
        chunks, received = [], 0
        while self.reading:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body:
                raise BodyTooLarge(f"request body over {self.max_body:,} bytes")
            if received > max(self.reserved, SMALL_BODY):  # chunked: reserve as it grows
                await self._reserve(min(self.max_body, received + CHUNKED_STEP) - self.reserved)
            chunks.append(chunk)
            self.reading = bool(message.get("more_body", False))
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def replay(self, body: bytes) -> Receive:
        """A receive that gives the application `body`, then what the connection says."""
        given = False

        async def receive() -> Message:
            nonlocal given
            if given:
                return await self._receive()
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        return receive

    def release(self) -> None:
        """Give back this request's share of the budget (once it is answered)."""
        self._budget.give(self.reserved)
        self.reserved = 0

    async def _reserve(self, size: int) -> None:
        await self._budget.take(size)
        self.reserved += size


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length of a request (None when it has none: a body sent in chunks, or
    no body)."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0  # the HTTP parser refused worse
    return None
