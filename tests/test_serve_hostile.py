"""Hostile requests against a real `mnist-edge serve` process on loopback: malformed and
lying requests, oversized and compressed bodies, truncated uploads, slow clients that give
up, bodies promised and never sent, header floods and 1,000 requests of random bytes.
Bounded in count and time (test_serve_abuse.py has the abuse by many connections at once).

It proves that every refusal is a 4xx with the protocol's JSON error object (never a 500:
the service counts its own answers), that the process stays within a memory bound, and
that afterwards it is still ready and still predicts right."""

import asyncio
import gzip
import json
import random
import socket
import time
from contextlib import suppress

import numpy as np
import pytest

from harness.broken_models import endless_loop_model
from harness.raw_http import read_response
from harness.service import ServiceProcess, service
from harness.targets import ANSWER_UNDER_ABUSE_SECONDS, MAX_PROCESS_MB
from mnist_edge.runtime.budget import ENVIRONMENT
from mnist_edge.runtime.predictor import Predictor
from tests.abuse import normal_request
from tests.conftest import ROOT
from tests.serving import Served, error_of

pytestmark = pytest.mark.slow

MAX_BODY_MIB = 1
MAX_BODY = MAX_BODY_MIB * 2**20
TIMEOUT = 2.0  # seconds: the service's request timeout in this test
WAIT_SECONDS = 30.0  # for the service to reach a state the test waits for
RANDOM_REQUESTS = 1000
MAX_REQUESTS = 8  # the service's places in this test
CONCURRENCY = MAX_REQUESTS  # no request waits for a place: none can time out waiting
INFER = "/v2/models/mnist/infer"
SAMPLE = ROOT / "samples" / "mnist-7.png"


@pytest.fixture(scope="module")
def hostile_server() -> ServiceProcess:
    options = ["--max-body", str(MAX_BODY_MIB), "--timeout", str(TIMEOUT), "--quiet"]
    with service(*options, "--max-requests", str(MAX_REQUESTS)) as server:
        yield server
        assert server.stop() == 0  # and it still stops cleanly


@pytest.fixture(scope="module")
def served(hostile_server: ServiceProcess) -> Served:
    return Served(hostile_server.url, hostile_server.address)


async def raw(
    address: tuple[str, int], data: bytes, wait: float = 10.0, close_after: bool = False
) -> int | None:
    """Send `data` on a new connection; the answer's status (None: closed without one)."""
    answer = await raw_answer(address, data, wait, close_after)
    return None if answer is None else answer[0]


async def raw_answer(
    address: tuple[str, int], data: bytes, wait: float = 10.0, close_after: bool = False
) -> tuple[int, bytes] | None:
    """Send `data` on a new connection; the answer's status and body (None: no answer)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(data)
        if close_after:
            await writer.drain()
            return None
        async with asyncio.timeout(wait):
            return await read_response(reader)
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        return None
    finally:
        writer.close()


def post(path: str, body: bytes, headers: dict[str, str] | None = None, length=None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: test", f"Content-Length: {length or len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def together(*coroutines) -> list:
    """The coroutines' results, run concurrently."""

    async def gathered() -> list:
        return await asyncio.gather(*coroutines)

    return asyncio.run(gathered())


def binary_head(shape: list[int], size: int) -> bytes:
    tensor = {"name": "image", "datatype": "UINT8", "shape": shape}
    tensor["parameters"] = {"binary_data_size": size}
    return json.dumps({"inputs": [tensor]}).encode()


def test_lies_and_malformed_requests_are_4xx(served: Served):
    head = binary_head([1, 28, 28], 784)
    cases = [
        (INFER, b"{not json", {}),
        (INFER, b"[" * 50_000, {}),
        (INFER, head + b"\0" * 700, {"Inference-Header-Content-Length": str(len(head))}),
        (INFER, head + b"\0" * 900, {"Inference-Header-Content-Length": str(len(head))}),
        (INFER, head + b"\0" * 784, {"Inference-Header-Content-Length": "123456"}),
        (INFER, head + b"\0" * 784, {"Inference-Header-Content-Length": "-1"}),
        (INFER, binary_head([2**40, 28, 28], 784), {}),
        (INFER, b'{"inputs": []}', {"Content-Encoding": "br"}),
        (INFER, b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"}),
        ("/v2/models/mnist/versions/7/infer", head, {}),
        ("/v1/predict", b"--x\r\ntruncated", {"Content-Type": "multipart/form-data; boundary=x"}),
        ("/v1/predict", b"", {"Content-Type": "multipart/form-data"}),
        ("/v1/predict", b"", {}),
        ("/v1/predict?top_k=%C2%B2", SAMPLE.read_bytes(), {}),  # "²".isdigit() is true
        (INFER, head + b"\0" * 784, {"Inference-Header-Content-Length": "\xb2"}),
        (INFER, json_tensor([True] + [0] * 783), {}),  # true is not a pixel
        (INFER, json_tensor([1.5] + [0] * 783), {}),
        (INFER, json_tensor([None] + [0] * 783), {}),
    ]
    for path, body, headers in cases:
        status, answer = served.post(path, body, headers)
        assert 400 <= status < 500, (path, body[:40], status, answer)
        print(f"{status} {error_of(answer)}")


def json_tensor(data: list) -> bytes:
    tensor = {"name": "image", "datatype": "UINT8", "shape": [1, 28, 28], "data": data}
    return json.dumps({"inputs": [tensor]}).encode()


def test_malformed_http_is_a_400_with_the_error_object(served: Served):
    for data in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"):
        status, body = together(raw_answer(served.address, data))[0]
        print(status, error_of(body))
        assert status == 400 and "malformed" in error_of(body)


def test_oversized_bodies_are_413_without_being_read(served: Served):
    address = served.address
    statuses = together(
        # Content-Length says too much: refused before the body is sent
        raw(address, post(INFER, b"", length=MAX_BODY + 1)),
        # chunked, no Content-Length: counted as it arrives
        raw(address, _chunked(INFER, b"\0" * (MAX_BODY + 100_000))),
    )
    assert statuses == [413, 413]
    bomb = gzip.compress(b"\0" * (50 * MAX_BODY))  # 50 MiB inflated, ~50 KB sent
    status, answer = served.post(INFER, bomb, {"Content-Encoding": "gzip"})
    assert status == 413 and "decompresses to more than" in error_of(answer)
    parts = b"".join(
        b"--x\r\nContent-Disposition: form-data; name=f\r\n\r\n1\r\n" for _ in range(1500)
    )
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    status, answer = served.post("/v1/predict", parts + b"--x--\r\n", form)
    assert status == 400 and "more than 1,000 parts" in error_of(answer)


def _chunked(path: str, body: bytes, chunk: int = 65536) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    pieces = [
        b"%x\r\n%s\r\n" % (len(body[i : i + chunk]), body[i : i + chunk])
        for i in range(0, len(body), chunk)
    ]
    return head + b"".join(pieces) + b"0\r\n\r\n"


async def _slow(address: tuple[str, int], data: bytes, pause: float, give_up: int | None):
    """Send `data` a byte at a time, `pause` seconds apart, until the server answers; or
    give up after `give_up` bytes and disconnect. The status of any answer."""
    reader, writer = await asyncio.open_connection(*address)
    answer = asyncio.create_task(read_response(reader))
    try:
        for index, byte in enumerate(data):
            if answer.done() or (give_up is not None and index >= give_up):
                break
            writer.write(bytes([byte]))
            await asyncio.sleep(pause)
        if give_up is not None:
            return None
        async with asyncio.timeout(TIMEOUT + 5):
            return (await answer)[0]
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    finally:
        answer.cancel()
        writer.close()


def test_slow_truncated_and_vanishing_clients_are_let_go(served: Served):
    address = served.address
    body = SAMPLE.read_bytes()
    request = post("/v1/predict", body)
    head_end = request.index(b"\r\n\r\n") + 4
    slow = together(
        _slow(address, request, 0.2, None),  # headers too slow: 408 from the HTTP layer
        _slow(address, request[:8], 0.01, 5),  # gives up within the request line
        raw(address, request[: head_end + 50], close_after=True),  # body cut, goes away
        raw(address, request[: head_end + 50], wait=TIMEOUT + 5),  # body cut, waits: 408
        raw(address, b"", wait=TIMEOUT + 5),  # connects, says nothing: 408
    )
    print(slow)
    assert slow == [408, None, None, 408, 408]


def test_a_client_that_reads_its_answers_late_gets_them_all(served: Served):
    """Requests pipelined past what the server parses at once, their answers left unread
    for longer than the timeout, then read: the server held the rest of the requests while
    answers waited, so the time was its own, not the client's; every request is answered
    200, none refused as late (408)."""
    count = 3000  # answers of ~100 bytes: more than a 4 KiB receive window takes
    get = b"GET /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n"
    with socket.socket() as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.settimeout(WAIT_SECONDS)
        connection.connect(served.address)
        connection.sendall(get * count)
        time.sleep(TIMEOUT + 1.5)
        received = b""
        with suppress(ConnectionResetError):  # a server that cut it: the statuses say
            while received.count(b"HTTP/1.1 ") < count and (chunk := connection.recv(65536)):
                received += chunk
    statuses = [
        line.split()[1] for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")
    ]
    print(f"{len(statuses):,} answers to {count:,} pipelined requests read late: {set(statuses)}")
    assert statuses == [b"200"] * count


def test_bodies_promised_but_never_sent_hold_no_place(served: Served):
    """Twice as many requests as places send their headers and no body: a normal request is
    still answered at once, and each of them gets a 408 at the timeout."""
    head = post("/v1/predict", b"", length=1000)

    async def silent_and_normal() -> tuple[list, tuple[int, float]]:
        silent = [asyncio.create_task(raw(served.address, head, TIMEOUT + 5))]
        silent += [
            asyncio.create_task(raw(served.address, head, TIMEOUT + 5))
            for _ in range(2 * MAX_REQUESTS - 1)
        ]
        await asyncio.to_thread(_wait_in_progress, served, 2 * MAX_REQUESTS)
        normal = await normal_request(served.address)
        return await asyncio.gather(*silent), normal

    started = time.perf_counter()
    statuses, (status, seconds) = together(silent_and_normal())[0]
    print(
        f"normal request {status} in {seconds:.3f} s; silent ones {set(statuses)} after "
        f"{time.perf_counter() - started:.1f} s"
    )
    assert status == 200 and seconds <= ANSWER_UNDER_ABUSE_SECONDS
    assert statuses == [408] * 2 * MAX_REQUESTS


def _wait_in_progress(served: Served, count: int) -> None:
    """Until the service counts `count` requests in progress besides the one asking."""
    deadline = time.monotonic() + WAIT_SECONDS
    while served.metric("mnist_edge_requests_in_progress")[""] < count + 1:
        assert time.monotonic() < deadline, f"{count} requests not in progress"
        time.sleep(0.01)


def test_a_header_flood_is_431(served: Served):
    flood = b"GET /v2 HTTP/1.1\r\nHost: test\r\n" + b"X-Junk: " + b"a" * (2 * 2**20) + b"\r\n"
    assert together(raw(served.address, flood)) == [431]


def _random_request(rng: random.Random) -> bytes:
    """Random bytes, or a well-formed request whose headers and body are random."""
    if rng.random() < 0.3:
        return rng.randbytes(rng.randint(1, 4096))
    path = rng.choice([INFER, "/v1/predict", "/v2/models/x/infer", "/v2", "/\x00/%ff"])
    body = rng.randbytes(rng.randint(0, 20_000))
    headers = {}
    if rng.random() < 0.5:
        headers["Inference-Header-Content-Length"] = str(rng.randint(-10, 30_000))
    if rng.random() < 0.2:
        headers["Content-Encoding"] = rng.choice(["gzip", "deflate", "zstd"])
    if rng.random() < 0.3:
        headers["Content-Type"] = "multipart/form-data; boundary=" + rng.choice(["x", "", "-" * 80])
    return post(path.encode("latin-1").decode("latin-1"), body, headers)


def test_random_bytes_never_get_a_5xx(served: Served):
    rng = random.Random(0)
    requests = [_random_request(rng) for _ in range(RANDOM_REQUESTS)]
    statuses = together(_send_all(served.address, requests))[0]
    answered = [status for status in statuses if status is not None]
    unanswered = len(statuses) - len(answered)
    print(f"{len(requests)} random requests: {sorted(set(answered))}, {unanswered} unanswered")
    assert len(answered) == RANDOM_REQUESTS  # each an answer, not a dropped connection
    assert all(status == 200 or 400 <= status < 500 for status in answered)


async def _send_all(address: tuple[str, int], requests: list[bytes]) -> list[int | None]:
    places = asyncio.Semaphore(CONCURRENCY)

    async def one(data: bytes) -> int | None:
        async with places:
            return await raw(address, data, wait=TIMEOUT + 5)

    return await asyncio.gather(*(one(data) for data in requests))


def test_afterwards_it_is_ready_predicts_right_and_never_said_500(
    served: Served, hostile_server: ServiceProcess, x_test: np.ndarray, predictor: Predictor
):
    """Runs last in this module (pytest keeps file order)."""
    assert served.get("/v2/health/ready")[0] == 200
    tensor = {"name": "image", "datatype": "UINT8", "shape": [100, 28, 28]}
    tensor["data"] = x_test[:100].ravel().tolist()
    status, answer = served.post(INFER, json.dumps({"inputs": [tensor]}).encode())
    assert status == 200
    got = np.array(json.loads(answer)["outputs"][0]["data"], np.float32).reshape(100, 10)
    assert np.abs(got - predictor.predict(x_test[:100])).max() <= 1e-6
    status, answer = served.post("/v1/predict", SAMPLE.read_bytes())
    assert status == 200 and json.loads(answer)[0]["label"] == 7
    counted = served.metric("mnist_edge_requests_total")
    print({key: value for key, value in counted.items() if "status" in key})
    assert served.server_errors() == 0
    rss = hostile_server.rss_mib() * 2**20 / 1e6  # MB, as the ceiling is stated
    print(f"service RSS after the hostile suite: {rss:.0f} MB")
    assert rss < MAX_PROCESS_MB


def test_a_model_that_never_answers_costs_the_start_up_one_budget(tmp_path, monkeypatch):
    """serve warms its model up before it listens: an ONNX Loop of 10^12 steps ends there
    after its budget (MNIST_EDGE_MODEL_BUDGET), with a warning; the service then answers
    every image with a 500 that says why, at once, and stops on SIGTERM."""
    model = endless_loop_model(tmp_path / "endless.onnx")
    monkeypatch.setenv(ENVIRONMENT, "0.3")
    with service("--model", str(model), "--quiet") as server:
        served = Served(server.url, server.address)
        status, answer = served.post("/v1/predict", SAMPLE.read_bytes())
        assert status == 500
        reason = "not run: the model took longer than 0.3 s on an earlier batch"
        assert json.loads(answer)["error"] == reason
        assert "the model took longer than 0.3 s on a batch of 1" in server.log.read_text()
        assert server.stop() == 0
