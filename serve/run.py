"""The service on a socket: uvicorn, a start-up line that names the real address, logging
on stderr one line per event, and the signals a service manager sends.

- Until the start-up line (the model loading and warming up), SIGTERM and SIGINT (Ctrl-C)
  end the process at once, whatever it is doing: a model that never finishes warming up
  cannot hold it.
- Then SIGTERM or SIGINT: stop accepting connections, give the requests in progress up to
  SHUTDOWN_SECONDS to finish (those still running then get a 503), exit 0. A second signal
  stops at once (exit 128 + the signal's number: 130 for Ctrl-C).
- The process exits without waiting for threads still busy in a decode or a model call:
  they cannot be interrupted, and what they would give has no one left to go to.
- Freed memory is given back to the system every few seconds (memory.py).
"""

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from types import FrameType

import uvicorn

from mnist_edge.core.streams import say  # a line on stderr, lost (not fatal) if it cannot be
from mnist_edge.core.text import PROGRAM, one_line
from mnist_edge.serve import memory
from mnist_edge.serve.guard import ASGIApp
from mnist_edge.serve.http import bounded_protocol
from mnist_edge.serve.settings import Settings

SHUTDOWN_SECONDS = 5.0  # the longest a stop signal waits for the requests in progress
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
TICK_SECONDS = 0.1  # uvicorn's main loop checks its state this often
QUIET_LOGGERS = ("python_multipart",)  # libraries that log what the responses already say


class OneLine(logging.Formatter):
    """A log record on one line: an exception as its type and message, no traceback."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text += f" ({type(error).__name__}: {error})"
        return f"{PROGRAM}: {one_line(text)}"


def logging_config(quiet: bool) -> dict:
    """uvicorn's own messages (start-up, bad HTTP) on stderr; its access log off (the
    service writes its own, one line per request)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": OneLine}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "ERROR" if quiet else "WARNING"},
            "uvicorn.access": {"level": "CRITICAL", "propagate": False},
            **{name: {"level": "CRITICAL", "propagate": False} for name in QUIET_LOGGERS},
        },
    }


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: any free one). OSError when that is impossible."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Server(uvicorn.Server):
    """uvicorn's server, saying when it is ready and when it has stopped, stopped at once by
    a signal during start-up or by a second one, and giving freed memory back."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self.ready_line = ready_line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        with stopping_at_once():
            await super().startup(sockets)
        if self.started:
            memory.started()
            say(self.ready_line)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:  # the second signal
            say("stopped at once")
            _exit(128 + sig)
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if counter % round(memory.TRIM_SECONDS / TICK_SECONDS) == 0:
            memory.give_back()
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        say("stopping: finishing the requests in progress")
        await super().shutdown(sockets)
        count = self.server_state.total_requests
        say(f"stopped after {count:,} request{'' if count == 1 else 's'}")


@contextlib.contextmanager
def stopping_at_once() -> Iterator[None]:
    """SIGTERM and SIGINT end the process at once (their default action) in this block."""
    handlers = {number: signal.signal(number, signal.SIG_DFL) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How uvicorn runs the service (the tests run it in a thread with the same)."""
    return uvicorn.Config(
        app,
        log_config=logging_config(settings.quiet),
        access_log=False,
        server_header=False,
        http=bounded_protocol(settings.timeout, settings.max_connections),
        timeout_graceful_shutdown=min(settings.timeout, SHUTDOWN_SECONDS),  # type: ignore[arg-type]
    )


def serve_on(sock: socket.socket, app: ASGIApp, settings: Settings, describe: str) -> None:
    """Serve `app` on the bound `sock` until SIGTERM or SIGINT, then exit 0 once the requests
    in progress are answered. `describe` is what the start-up line says is served."""
    server = Server(uvicorn_config(app, settings), f"serving {describe} on {url(sock)}")
    logging.raiseExceptions = False  # a log that went away: its lines are dropped
    # uvicorn re-raises the signal that stopped it once it is done; end then with code 0
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _exit_cleanly)
    try:
        server.run(sockets=[sock])
    except SystemExit as stop:
        _exit(stop.code if isinstance(stop.code, int) else 1)
    _exit(0)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _exit(code: int) -> None:
    """End the process now, without waiting for threads busy in a decode or a model call."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)
