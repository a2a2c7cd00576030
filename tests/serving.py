"""The service in the test process, on a free loopback port: uvicorn in a thread, configured
as `mnist-edge serve` configures it, so that tests drive it with real HTTP clients."""

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message

from mnist_edge.runtime.predictor import Predictor
from mnist_edge.serve.app import create_app
from mnist_edge.serve.run import listen, url, uvicorn_config
from mnist_edge.serve.settings import Settings

START_SECONDS = 30.0


@dataclass(frozen=True)
class Served:
    url: str  # http://127.0.0.1:PORT
    address: tuple[str, int]

    @property
    def host_port(self) -> str:  # what tritonclient takes
        return f"{self.address[0]}:{self.address[1]}"

    def get(self, path: str) -> tuple[int, bytes]:
        reply = exchange(self.url + path)
        return reply.status, reply.body

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None):
        reply = exchange(self.url + path, body, headers)
        return reply.status, reply.body

    def exchange(self, path: str, body: bytes, headers: dict[str, str]) -> "Reply":
        return exchange(self.url + path, body, headers)

    def metric(self, name: str) -> dict[str, float]:
        """Every sample of metric `name` ("labels" -> value) from /metrics."""
        status, text = self.get("/metrics")
        samples = {}
        for line in text.decode().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                key, _, value = line.rpartition(" ")
                samples[key[len(name) :]] = float(value)
        return samples

    def server_errors(self) -> float:
        """Responses with a 5xx status so far, as the service counted them."""
        samples = self.metric("mnist_edge_requests_total")
        return sum(value for key, value in samples.items() if 'status="5' in key)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes


def exchange(target: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
    """One request with urllib (any status is a reply, not an exception)."""
    call = urllib.request.Request(target, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def error_of(body: bytes) -> str:
    """The protocol's error object's message (fails the test if the body is not one)."""
    payload = json.loads(body)
    assert isinstance(payload, dict) and isinstance(payload["error"], str), payload
    return payload["error"]


@contextmanager
def running(predictor: Predictor, settings: Settings) -> Iterator[Served]:
    """The service for `predictor` with `settings` (port ignored: any free one)."""
    import uvicorn

    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(create_app(predictor, settings), settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start (see the log above)")
        time.sleep(0.02)
    host, port = sock.getsockname()[:2]
    try:
        yield Served(url(sock), (host, port))
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        sock.close()


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Return once `condition()` holds, looking every 10 ms; fail naming `what` after
    `seconds` (a state the service reaches: a model call under way, stopping, ready)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not {what} within {seconds:g} s"
        time.sleep(0.01)
