"""`mnist-edge serve` started, stopped and failing, as a service manager or a person at a
terminal sees it, with models that load but never finish or fail when called
(harness/broken_models.py):

- SIGTERM or Ctrl-C while the model warms up (a Loop of 10^12 steps) ends it at once;
- SIGTERM while a model call never ends: the request gets a 503 and the process exits 0
  after the shutdown grace; a second Ctrl-C ends it at once (130);
- with stdout or stderr closed, it serves all the same;
- a model that fails when called: one line in the log for each failure, a JSON 500 to the
  client, and the service stays up.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from harness.broken_models import endless_loop_model, failing_model
from harness.raw_http import read_response
from harness.service import ServiceProcess, serve_command, service
from tests.abuse import upload
from tests.serving import error_of, exchange, wait_until

pytestmark = pytest.mark.slow

WAIT_SECONDS = 60.0  # for the service to reach a state the test waits for
BUSY_SECONDS = 0.5  # CPU time of a thread besides the main one: a model call under way
AT_ONCE_SECONDS = 5.0  # a process told to stop at once has ended by then (a hang: never)
SHUTDOWN_SECONDS = 5.0  # what the README promises requests in progress after SIGTERM
INFER = "/v2/models/mnist/infer"


def busy_thread(pid: int) -> bool:
    """A thread of `pid` besides its main one has run for BUSY_SECONDS of CPU (Linux)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if task.name != str(pid) and seconds >= BUSY_SECONDS:
            return True
    return False


def tensor_request(images: int) -> bytes:
    tensor = {"name": "image", "datatype": "UINT8", "shape": [images, 28, 28]}
    tensor["data"] = [0] * (784 * images)
    body = json.dumps({"inputs": [tensor]}).encode()
    head = f"POST {INFER} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def stuck_request(server: ServiceProcess) -> socket.socket:
    """A connection whose request (two images) is in a model call that never ends."""
    connection = socket.create_connection(server.address)
    connection.sendall(tensor_request(2))
    wait_until(lambda: busy_thread(server.process.pid), "in the model call")
    return connection


def answer(connection: socket.socket) -> tuple[int, bytes]:
    async def read() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(sock=connection)
        try:
            return await asyncio.wait_for(read_response(reader), WAIT_SECONDS)
        finally:
            writer.close()

    return asyncio.run(read())


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_while_the_model_warms_up_ends_it_at_once(tmp_path: Path, stop_signal):
    model = endless_loop_model(tmp_path / "for-ever.onnx")  # its warm-up call never ends
    command = [*serve_command(), "--port", "0", "--model", str(model)]
    with open(tmp_path / "stderr.log", "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until(lambda: busy_thread(process.pid), "warming up")
        started = time.perf_counter()
        process.send_signal(stop_signal)
        code = process.wait(AT_ONCE_SECONDS)
    finally:
        process.kill()
    print(f"{stop_signal.name} during the warm-up: ended in {time.perf_counter() - started:.2f} s")
    assert code == -stop_signal  # killed by it, as its default action does
    assert (tmp_path / "stderr.log").read_text() == ""


def test_sigterm_while_a_model_call_never_ends_answers_503_and_exits_0(tmp_path: Path):
    model = endless_loop_model(tmp_path / "stuck.onnx", from_images=2)  # warms up, then sticks
    with service("--model", str(model)) as server:
        connection = stuck_request(server)
        started = time.perf_counter()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(SHUTDOWN_SECONDS + AT_ONCE_SECONDS)
        seconds = time.perf_counter() - started
        status, body = answer(connection)
        log = server.log.read_text()
    print(
        f"SIGTERM with a model call under way: {status} {error_of(body)!r}, exit {code} "
        f"after {seconds:.2f} s\n{log}"
    )
    assert code == 0 and status == 503 and "stopping" in error_of(body)
    assert "Traceback" not in log


def test_a_second_ctrl_c_ends_it_at_once(tmp_path: Path):
    model = endless_loop_model(tmp_path / "stuck.onnx", from_images=2)
    with service("--model", str(model)) as server:
        stuck_request(server)
        server.process.send_signal(signal.SIGINT)
        wait_until(lambda: "stopping" in server.log.read_text(), "stopping")
        started = time.perf_counter()
        server.process.send_signal(signal.SIGINT)
        code = server.process.wait(AT_ONCE_SECONDS)
        seconds = time.perf_counter() - started
        log = server.log.read_text()
    print(f"second Ctrl-C: exit {code} after {seconds:.2f} s\n{log}")
    assert code == 130 and log.endswith("mnist-edge: stopped at once\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_with_stdout_or_stderr_closed_it_serves(tmp_path: Path, closed: str):
    """Started as `mnist-edge serve >&-` or `2>&-`: its lines are dropped, nothing fails."""
    port = free_port()
    command = " ".join([*serve_command(), "--host", "127.0.0.1", "--port", str(port)])
    process = subprocess.Popen(["sh", "-c", f"exec {command} {closed}"])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), "ready")
        reply = exchange(url + "/v1/predict", upload_body())
        missing = exchange(url + "/nowhere")
        process.send_signal(signal.SIGTERM)
        code = process.wait(WAIT_SECONDS)
    finally:
        process.kill()
    print(
        f"{closed}: {reply.status} {json.loads(reply.body)[0]['label']}, {missing.status}, "
        f"exit {code}"
    )
    assert reply.status == 200 and json.loads(reply.body)[0]["label"] == 7
    assert missing.status == 404 and code == 0


def upload_body() -> bytes:
    return upload().split(b"\r\n\r\n", 1)[1]


def _ready(url: str) -> bool:
    try:
        return exchange(url + "/v2/health/ready").status == 200
    except OSError:
        return False


def test_a_model_failing_when_called_is_a_500_and_one_line_the_service_stays_up(
    tmp_path: Path,
):
    model = failing_model(tmp_path / "failing.onnx")
    with service("--model", str(model)) as server:
        upload_reply = exchange(server.url + "/v1/predict", upload_body())
        tensor = tensor_request(1).split(b"\r\n\r\n", 1)[1]
        tensor_reply = exchange(server.url + INFER, tensor)
        ready = exchange(server.url + "/v2/health/ready").status
        assert server.stop() == 0
        lines = server.log.read_text().splitlines()
    print("\n".join(lines))
    assert upload_reply.status == tensor_reply.status == 500
    assert error_of(upload_reply.body) and error_of(tensor_reply.body) and ready == 200
    warm_up = [line for line in lines if "the model fails on a test digit" in line]
    faults = [line for line in lines if " 500 " not in line and "/infer" in line]
    faults += [line for line in lines if " 500 " not in line and "/v1/predict" in line]
    assert len(warm_up) == 1 and len(faults) == 2  # one line each, besides the access log
    assert all(line.startswith(("mnist-edge: ", "20")) for line in lines)  # no traceback
