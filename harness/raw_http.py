"""HTTP/1.1 by hand on a loopback connection: a request's bytes, a response's status and body.

A few microseconds a request and nothing between the client and the wire, so that the load
generator (benchmarks/serve_load.py) measures the server, and the hostile tests can send
what no HTTP library would (a body cut short, a request left half-written).
"""

import asyncio


def http_request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A POST request's bytes, HTTP/1.1 (keep-alive)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)
