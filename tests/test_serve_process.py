"""`mnist-edge serve` as a service manager runs it: a real process on loopback, stopped with
SIGTERM or SIGINT while a request is in flight (the request is answered, then the process
exits 0), its access log, and the message when the extra is missing."""

import json
import signal
import socket
import subprocess
import sys

import pytest

from harness.service import ServiceProcess, service
from tests.conftest import ROOT
from tests.serving import Served, exchange, wait_until

pytestmark = pytest.mark.slow

SAMPLE = ROOT / "samples" / "mnist-7.png"
SERVE_PACKAGES = ("starlette", "uvicorn", "prometheus_client", "python_multipart")


def in_progress(server: ServiceProcess) -> float:
    """Requests the service counts in progress, besides the one asking."""
    served = Served(server.url, server.address)
    return served.metric("mnist_edge_requests_in_progress")[""] - 1


def refused(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def started_upload(address: tuple[str, int]) -> tuple[socket.socket, bytes]:
    """A connection with an upload's headers and half its body sent; the other half."""
    body = SAMPLE.read_bytes()
    head = f"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n\r\n"
    connection = socket.create_connection(address)
    connection.sendall(head.encode() + body[: len(body) // 2])
    return connection, body[len(body) // 2 :]


def answer(connection: socket.socket) -> tuple[int, bytes]:
    connection.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data[9:12]), data.split(b"\r\n\r\n", 1)[1]


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_lets_the_request_in_flight_finish_then_exits_0(stop_signal):
    with service() as server:
        connection, rest = started_upload(server.address)
        wait_until(lambda: in_progress(server) == 1, "reading the upload")
        server.process.send_signal(stop_signal)
        wait_until(lambda: refused(server.address), "refusing connections")
        assert server.process.poll() is None  # but still waiting for the request
        connection.sendall(rest)
        status, body = answer(connection)
        assert status == 200 and json.loads(body)[0]["label"] == 7
        code = server.process.wait(30)
        log = server.log.read_text()
    print(log)
    assert code == 0
    assert "stopping: finishing the requests in progress" in log and "Traceback" not in log


def test_the_access_log_has_one_line_per_request():
    with service() as server:
        for path in ("/v2/health/ready", "/v2/models/mnist", "/nowhere"):
            exchange(server.url + path)
        exchange(server.url + "/v1/predict", SAMPLE.read_bytes())
        server.stop()
        lines = server.log.read_text().splitlines()
    requests = [line for line in lines if " 127.0.0.1 " in line]
    print("\n".join(requests))
    assert len(requests) == 4
    assert " GET /v2/health/ready 200 " in requests[0] and " GET /nowhere 404 " in requests[2]
    assert " POST /v1/predict 200 " in requests[3] and requests[3].endswith("B")


def test_serve_without_the_extra_says_how_to_install():
    """As in an install without the serve extra: its packages cannot be found."""
    hidden = (
        "import importlib.util\n"
        "find = importlib.util.find_spec\n"
        f"hidden = {SERVE_PACKAGES!r}\n"
        "importlib.util.find_spec = lambda name, *a: None if name in hidden else find(name, *a)\n"
        "import sys\n"
        "from mnist_edge.cli.app import main\n"
        "sys.argv = ['mnist-edge', 'serve']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", hidden], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 1
    # this checkout is installed editable: the command that works names it
    assert result.stderr.count("\n") == 1 and f"pip install -e '{ROOT}[serve]'" in result.stderr


def test_a_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-c", "from mnist_edge.cli.app import main; main()"]
        result = subprocess.run(
            [*command, "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
