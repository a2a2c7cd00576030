"""The service on a socket: uvicorn, a start-up line that names the real address, logging
on stderr one line per event, and the signals a service manager sends.

SIGTERM or SIGINT (Ctrl-C): stop accepting connections, finish the requests in progress,
exit 0. A second SIGINT stops at once. Freed memory is given back to the system every few
seconds (memory.py).
"""

import logging
import signal
import socket
from types import FrameType

import uvicorn

from mnist_edge.core.streams import say  # a line on stderr, lost (not fatal) if it cannot be
from mnist_edge.core.text import PROGRAM, one_line
from mnist_edge.serve import memory
from mnist_edge.serve.guard import ASGIApp
from mnist_edge.serve.http import bounded_protocol
from mnist_edge.serve.settings import Settings

GRACE = 5.0  # seconds past the request timeout before requests still running are cancelled
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
    """uvicorn's server, saying when it is ready and when it has stopped, and giving freed
    memory back."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self.ready_line = ready_line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            memory.started()
            say(self.ready_line)

    async def on_tick(self, counter: int) -> bool:
        if counter % round(memory.TRIM_SECONDS / TICK_SECONDS) == 0:
            memory.give_back()
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        say("stopping: finishing the requests in progress")
        await super().shutdown(sockets)
        count = self.server_state.total_requests
        say(f"stopped after {count:,} request{'' if count == 1 else 's'}")


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How uvicorn runs the service (the tests run it in a thread with the same)."""
    return uvicorn.Config(
        app,
        log_config=logging_config(settings.quiet),
        access_log=False,
        server_header=False,
        http=bounded_protocol(settings.timeout, settings.max_connections),
        timeout_graceful_shutdown=int(settings.timeout + GRACE),
    )


def serve_on(sock: socket.socket, app: ASGIApp, settings: Settings, describe: str) -> None:
    """Serve `app` on the bound `sock` until SIGTERM or SIGINT, then exit 0 once the requests
    in progress are answered. `describe` is what the start-up line says is served."""
    server = Server(uvicorn_config(app, settings), f"serving {describe} on {url(sock)}")
    # uvicorn re-raises the signal that stopped it once it is done; end then with code 0
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _exit_cleanly)
    server.run(sockets=[sock])


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
