"""The Open Inference Protocol's parsing and answers, as pure functions (no server): what a
request means, and what each mistake a client can make is called."""

import gzip
import json
import zlib

import numpy as np
import pytest

from mnist_edge.core.contract import TensorSpec
from mnist_edge.serve.protocol import (
    HEADER_LENGTH,
    InferRequest,
    ModelSpec,
    ProtocolError,
    infer_response,
    inflate,
    parse_infer,
)

MODEL = ModelSpec(
    "mlp",
    TensorSpec("image", "uint8", ("batch", 28, 28)),
    TensorSpec("probabilities", "float32", ("batch", 10)),
)
PIXELS = 784


def binary_body(images: np.ndarray, declared: int | None = None, **request) -> tuple[bytes, str]:
    """A binary-extension request for `images` (declaring `declared` bytes) and its header."""
    size = images.nbytes if declared is None else declared
    tensor = {"name": "image", "datatype": "UINT8", "shape": list(images.shape)}
    tensor["parameters"] = {"binary_data_size": size}
    head = json.dumps({"inputs": [tensor], **request}).encode()
    return head + images.tobytes(), str(len(head))


def refused(body: bytes, header: str | None = None) -> str:
    with pytest.raises(ProtocolError) as error:
        parse_infer(body, header, MODEL)
    assert error.value.status == 400 and "\n" not in str(error.value)
    return str(error.value)


def test_binary_request_gives_the_images_as_sent(x_test: np.ndarray):
    body, header = binary_body(x_test[:5], id="a")
    request = parse_infer(body, header, MODEL)
    assert np.array_equal(request.images, x_test[:5]) and request.id == "a"
    assert request.binary_output is False  # nothing asked: JSON, as the protocol says


def test_json_data_flat_or_nested_is_the_same_tensor(x_test: np.ndarray):
    for data in (x_test[:2].ravel().tolist(), x_test[:2].tolist()):
        tensor = {"name": "image", "datatype": "UINT8", "shape": [2, 28, 28], "data": data}
        request = parse_infer(json.dumps({"inputs": [tensor]}).encode(), None, MODEL)
        assert request.images.dtype == np.uint8 and np.array_equal(request.images, x_test[:2])


@pytest.mark.parametrize(
    ("parameters", "outputs", "binary"),
    [
        ({"binary_data_output": True}, None, True),
        ({"binary_data_output": True}, [{"name": "probabilities"}], True),
        ({"binary_data_output": True}, [{"name": "probabilities", "parameters": {}}], True),
        ({}, [{"name": "probabilities", "parameters": {"binary_data": True}}], True),
        (
            {"binary_data_output": True},
            [{"name": "probabilities", "parameters": {"binary_data": False}}],
            False,
        ),  # noqa: E501
        ({}, None, False),
    ],
)
def test_output_form_follows_tritons_rules(x_test, parameters, outputs, binary):
    request = {"parameters": parameters} | ({"outputs": outputs} if outputs else {})
    body, header = binary_body(x_test[:1], **request)
    assert parse_infer(body, header, MODEL).binary_output is binary


@pytest.mark.parametrize(
    ("declared", "extra", "message"),
    [
        (PIXELS - 1, b"", "binary_data_size is 783 but shape [1, 28, 28] of UINT8 takes 784"),
        (PIXELS + 1, b"", "binary_data_size is 785"),
        (PIXELS, b"x", "785 bytes follow the JSON header but the inputs declare 784"),
        (-1, b"", "binary_data_size of input 'image' must be a byte count"),
    ],
)
def test_lying_binary_sizes_are_refused(x_test, declared, extra, message):
    body, header = binary_body(x_test[:1], declared)
    assert message in refused(body + extra, header)


def test_a_body_shorter_than_its_declared_tensor_is_refused(x_test: np.ndarray):
    body, header = binary_body(x_test[:2])
    assert "1,568 bytes declared, 1,000 sent" in refused(body[: int(header) + 1000], header)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("abc", "must be a byte count"),
        ("0", "is 0; the body holds"),
        ("99999", "is 99,999; the body holds"),
        ("-5", "must be a byte count"),
        ("\xb2", "must be a byte count"),  # "²": str.isdigit() says yes, int() says no
        ("1" * 5000, "must be a byte count"),  # int() refuses past 4,300 digits
    ],
)
def test_header_length_must_fit_the_body(x_test, header, message):
    body, _ = binary_body(x_test[:1])
    assert message in refused(body, header)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON"),
        (b"[1, 2]", "must be a JSON object with 'inputs'"),
        (b'{"inputs": {}}', "'inputs' of the request must be a list"),
        (b'{"inputs": []}', "takes one input 'image', not 0"),
        (b'{"inputs": [1]}', "each of 'inputs' must be a JSON object"),
        (b'{"inputs": [{"name": "image"}]}', "input 'image' has no 'datatype'"),
        (b'{"inputs": [{"name": "image", "datatype": "UINT8", "shape": [0, 28, 28]}]}', "shape"),
        (b'{"inputs": [{"name": "image", "datatype": "UINT8", "shape": [1e9, 28, 28]}]}', "shape"),
        (b'{"inputs": [{"name": "image", "datatype": "UINT8", "shape": [true, 28, 28]}]}', "shape"),
        (
            b'{"inputs": [{"name": "image", "datatype": "UINT8", "shape": [1, 28, 28], "data": '
            b"[[1, 2], [3]]}]}",
            "not a regular array of numbers",
        ),
        (
            b'{"inputs": [{"name": "image", "datatype": "UINT8", "shape": [1, 28, 28], "data": '
            b'["a"]}]}',
            "must be integers 0-255",
        ),
        (b'{"parameters": {"shared_memory_region": "x"}, "inputs": []}', "not supported"),
        (b'{"parameters": [], "inputs": []}', "'parameters' of the request must be"),
    ],
)
def test_malformed_requests_say_what_is_wrong(body, message):
    assert message in refused(body)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (True, "true or false"),
        (None, "null"),
        (1.5, "fractions"),
        ("1", "strings"),
        ({}, "objects"),
    ],
)
@pytest.mark.parametrize("nested", [False, True])
def test_json_data_must_be_integers_and_names_what_else_it_holds(value, named, nested):
    """NumPy would read `true` as the pixel value 1 among integers: it is refused."""
    data = [value] + [0] * (PIXELS - 1)
    tensor = {"name": "image", "datatype": "UINT8", "shape": [1, 28, 28]}
    tensor["data"] = (
        np.reshape(np.array(data, dtype=object), (1, 28, 28)).tolist() if nested else data
    )
    message = refused(json.dumps({"inputs": [tensor]}).encode())
    assert message == f"input 'image': 'data' must be integers 0-255, not {named}"


def test_a_huge_shape_is_refused_before_any_allocation():
    shape = [10**15, 28, 28]
    tensor = {"name": "image", "datatype": "UINT8", "shape": shape}
    tensor["parameters"] = {"binary_data_size": 10**15 * PIXELS}
    body = json.dumps({"inputs": [tensor]}).encode()
    assert "784,000,000,000,000,000 bytes declared, 0 sent" in refused(body, str(len(body)))


def test_response_forms_carry_the_same_numbers():
    outputs = np.random.default_rng(0).random((3, 10), dtype=np.float32)
    request = InferRequest("r1", np.zeros((3, 28, 28), np.uint8), binary_output=True)
    body, headers = infer_response(MODEL, request, outputs)
    length = int(headers[HEADER_LENGTH])
    header = json.loads(body[:length])
    assert header["id"] == "r1" and header["outputs"][0]["shape"] == [3, 10]
    assert np.array_equal(np.frombuffer(body[length:], "<f4").reshape(3, 10), outputs)
    body, headers = infer_response(MODEL, InferRequest(None, request.images, False), outputs)
    assert HEADER_LENGTH not in headers and "id" not in json.loads(body)
    data = json.loads(body)["outputs"][0]["data"]
    assert np.array_equal(np.array(data, np.float32).reshape(3, 10), outputs)  # exact


def test_compressed_bodies_are_inflated_within_the_limit():
    data = b'{"inputs": []}'
    assert inflate(gzip.compress(data), "gzip", 100) == data
    assert inflate(zlib.compress(data), "deflate", 100) == data
    with pytest.raises(ProtocolError) as bomb:
        inflate(gzip.compress(b"\0" * 10_000_000), "gzip", 1_000_000)
    assert bomb.value.status == 413
    with pytest.raises(ProtocolError) as truncated:
        inflate(gzip.compress(data)[:-6], "gzip", 100)
    assert truncated.value.status == 400
    with pytest.raises(ProtocolError) as unknown:
        inflate(data, "br", 100)
    assert unknown.value.status == 415
