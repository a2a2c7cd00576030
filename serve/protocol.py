"""The Open Inference Protocol (KServe v2, Triton's HTTP/REST API) for the one model served.

An inference request is a JSON object, optionally followed by raw bytes (Triton's binary
tensor data extension): then the `Inference-Header-Content-Length` header gives the JSON's
length, each binary input gives its size in `parameters.binary_data_size`, and the bytes
follow the JSON in input order. The output goes back as binary data when the request asks
(`binary_data` on the output, else `binary_data_output` on the request), the same way.
Whatever a client can get wrong is a ProtocolError: the spec's `{"error": "..."}` and a 4xx.
"""

import itertools
import json
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from mnist_edge.core.contract import TensorSpec

HEADER_LENGTH = "Inference-Header-Content-Length"
BINARY_EXTENSION = "binary_tensor_data"
MODEL_VERSION = "1"
PLATFORM = "onnxruntime_onnx"
DATATYPES = {"uint8": "UINT8", "float32": "FP32"}  # numpy dtype name -> protocol datatype
JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"
# Content-Encoding -> zlib's wbits (tritonclient compresses requests when asked to)
ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
UNSUPPORTED = ("shared_memory_region", "classification")  # Triton extensions not offered
JSON_KINDS = {list: "a list", dict: "a JSON object", str: "a string", int: "an integer"}
VALUE_KINDS = {  # what a tensor's JSON `data` may hold by mistake, as JSON calls it
    bool: "true or false",
    float: "fractions",
    str: "strings",
    dict: "objects",
    type(None): "null",
}
MAX_DIGITS = 18  # of a count in a header or a query (int() refuses past 4,300)
Field = TypeVar("Field")  # what a JSON field is checked to be


class ProtocolError(ValueError):
    """A request the protocol refuses, with its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ModelSpec:
    """The served model as the protocol sees it."""

    name: str
    input: TensorSpec  # image, uint8 (batch, 28, 28)
    output: TensorSpec  # probabilities, float32 (batch, 10)

    def metadata(self) -> dict[str, object]:
        return {
            "name": self.name,
            "versions": [MODEL_VERSION],
            "platform": PLATFORM,
            "inputs": [tensor_metadata(self.input)],
            "outputs": [tensor_metadata(self.output)],
        }


@dataclass(frozen=True)
class InferRequest:
    id: str | None  # echoed in the response
    images: np.ndarray  # the input tensor, shaped and typed as the model's input
    binary_output: bool  # the output goes back as binary data


def tensor_metadata(spec: TensorSpec) -> dict[str, object]:
    """A tensor as the protocol describes it (dynamic dimensions are -1)."""
    shape = [dim if isinstance(dim, int) else -1 for dim in spec.shape]
    return {"name": spec.name, "datatype": DATATYPES[spec.dtype], "shape": shape}


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """A gzip or deflate request body decompressed; refused (413) past `limit` bytes."""
    if encoding in ("", "identity"):
        return body
    if encoding not in ENCODINGS:
        raise ProtocolError(f"Content-Encoding {encoding[:40]!r} is not supported", 415)
    inflater = zlib.decompressobj(ENCODINGS[encoding])
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise ProtocolError(f"the {encoding} body cannot be decompressed ({error})") from None
    if len(data) > limit:
        raise ProtocolError(f"the body decompresses to more than {limit:,} bytes", 413)
    if not inflater.eof:
        raise ProtocolError(f"the {encoding} body is truncated")
    return data


def parse_infer(body: bytes, header_length: str | None, model: ModelSpec) -> InferRequest:
    """The request in `body`, checked against the model: its images, id and output form."""
    length = _json_length(header_length, len(body))
    request = _json_object(body[:length])
    inputs = _field(request, "inputs", list, "the request")
    if len(inputs) != 1:
        raise ProtocolError(f"the model takes one input '{model.input.name}', not {len(inputs)}")
    binary = memoryview(body)[length:]
    images, used = _input_tensor(inputs[0], model.input, binary)
    if used != len(binary):
        raise ProtocolError(
            f"{len(binary):,} bytes follow the JSON header but the inputs declare {used:,}"
        )
    return InferRequest(_request_id(request), images, _binary_output(request, model.output))


def infer_response(
    model: ModelSpec, request: InferRequest, outputs: np.ndarray
) -> tuple[bytes, dict[str, str]]:
    """The response's body and headers: the output tensor as JSON data or binary data."""
    output: dict[str, object] = {
        "name": model.output.name,
        "datatype": DATATYPES[model.output.dtype],
        "shape": list(outputs.shape),
    }
    tail = b""
    if request.binary_output:
        tail = np.ascontiguousarray(outputs, dtype="<f4").tobytes()
        output["parameters"] = {"binary_data_size": len(tail)}
    else:
        output["data"] = outputs.ravel().tolist()
    response: dict[str, object] = {"model_name": model.name, "model_version": MODEL_VERSION}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = [output]
    header = json.dumps(response, allow_nan=False, separators=(",", ":")).encode()
    if not request.binary_output:
        return header, {"content-type": JSON_TYPE}
    return header + tail, {"content-type": BINARY_TYPE, HEADER_LENGTH: str(len(header))}


def whole_number(text: str) -> int | None:
    """`text` as a whole number of at most MAX_DIGITS ASCII digits, else None (str.isdigit
    also takes "²", which int() refuses)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        return int(text)
    return None


def _json_length(header: str | None, body_length: int) -> int:
    if header is None:
        return body_length
    length = whole_number(header)
    if length is None:
        raise ProtocolError(f"{HEADER_LENGTH} must be a byte count, not {header[:40]!r}")
    if not 0 < length <= body_length:
        raise ProtocolError(f"{HEADER_LENGTH} is {length:,}; the body holds {body_length:,} bytes")
    return length


def _json_object(text: bytes) -> dict:
    try:
        request = json.loads(text)
    except RecursionError:
        raise ProtocolError("malformed JSON: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
        raise ProtocolError(f"malformed JSON: {error}") from None
    if not isinstance(request, dict):
        raise ProtocolError("the request must be a JSON object with 'inputs'")
    _refuse_unsupported(_parameters(request, "the request"))
    return request


def _input_tensor(tensor: object, spec: TensorSpec, binary: memoryview) -> tuple[np.ndarray, int]:
    """The input's array, and how many bytes of the binary section it took."""
    if not isinstance(tensor, dict):
        raise ProtocolError("each of 'inputs' must be a JSON object")
    name = _field(tensor, "name", str, "an input")
    if name != spec.name:
        raise ProtocolError(f"unknown input {name[:80]!r}: the model takes '{spec.name}'")
    where = f"input '{name}'"
    datatype = _field(tensor, "datatype", str, where)
    if datatype != DATATYPES[spec.dtype]:
        raise ProtocolError(f"{where} is {datatype[:20]}; the model takes {DATATYPES[spec.dtype]}")
    shape = _shape(_field(tensor, "shape", list, where), spec, where)
    parameters = _parameters(tensor, where)
    _refuse_unsupported(parameters)
    if "binary_data_size" in parameters:
        return _binary_tensor(tensor, parameters, shape, spec, binary), _size(shape, spec)
    return _json_tensor(_field(tensor, "data", list, where), shape, spec, where), 0


def _shape(shape: list, spec: TensorSpec, where: str) -> tuple[int, ...]:
    expected = [dim if isinstance(dim, int) else -1 for dim in spec.shape]
    valid = len(shape) == len(expected) and all(
        type(dim) is int and dim >= 1 and want in (-1, dim)
        for dim, want in zip(shape, expected, strict=True)
    )
    if not valid:
        given = json.dumps(shape)[:80]
        raise ProtocolError(f"{where} has shape {given}; the model takes {expected} (-1: any >= 1)")
    return tuple(shape)


def _size(shape: tuple[int, ...], spec: TensorSpec) -> int:
    """Bytes of a tensor of `shape` (whole numbers of any size: math.prod is exact, and a
    tenth of np.prod's cost)."""
    return math.prod(shape) * np.dtype(spec.dtype).itemsize


def _binary_tensor(
    tensor: dict, parameters: dict, shape: tuple, spec: TensorSpec, binary: memoryview
) -> np.ndarray:
    where = f"input '{spec.name}'"
    declared = parameters["binary_data_size"]
    if type(declared) is not int or declared < 0:
        raise ProtocolError(f"binary_data_size of {where} must be a byte count")
    if "data" in tensor:
        raise ProtocolError(f"{where} has both 'data' and binary_data_size")
    expected = _size(shape, spec)
    if declared != expected:
        raise ProtocolError(
            f"{where}: binary_data_size is {declared:,} but shape {list(shape)} of "
            f"{DATATYPES[spec.dtype]} takes {expected:,} bytes"
        )
    if len(binary) < expected:
        raise ProtocolError(f"{where}: {expected:,} bytes declared, {len(binary):,} sent")
    data = np.frombuffer(binary[:expected], dtype=np.dtype(spec.dtype).newbyteorder("<"))
    return data.reshape(shape)


def _json_tensor(data: list, shape: tuple, spec: TensorSpec, where: str) -> np.ndarray:
    """The JSON `data` (flat or nested, row-major) as the model's dtype, range-checked."""
    dtype = np.dtype(spec.dtype)
    limits = np.iinfo(dtype)
    others = _kinds(data, len(shape)) - {int, list}  # NumPy would take true as 1
    if others:
        named = " or ".join(sorted(VALUE_KINDS.get(kind, kind.__name__) for kind in others))
        raise ProtocolError(
            f"{where}: 'data' must be integers {limits.min}-{limits.max}, not {named}"
        )
    try:
        array = np.array(data)
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise ProtocolError(f"{where}: 'data' is not a regular array of numbers") from None
    if array.size and array.dtype.kind not in "iu":
        raise ProtocolError(f"{where}: 'data' must be integers {limits.min}-{limits.max}")
    count = _size(shape, spec) // dtype.itemsize
    if array.size != count:
        raise ProtocolError(
            f"{where}: shape {list(shape)} takes {count:,} values, 'data' has {array.size:,}"
        )
    if array.size and (array.min() < limits.min or array.max() > limits.max):
        raise ProtocolError(f"{where}: values outside {limits.min}-{limits.max}")
    return array.astype(dtype).reshape(shape)


def _kinds(data: list, depth: int) -> set[type]:
    """The types of the values in `data`, looking into lists at most `depth` deep (one pass
    in C a level: ~0.1 s for 6,000 images, what NumPy takes to build their array)."""
    kinds: set[type] = set()
    for levels in range(depth):
        values: Iterable = data
        for _ in range(levels):
            values = itertools.chain.from_iterable(values)
        kinds = set(map(type, values))
        if kinds != {list}:
            break
    return kinds


def _field(mapping: dict, name: str, kind: type[Field], where: str) -> Field:
    if name not in mapping:
        raise ProtocolError(f"{where} has no '{name}'")
    value = mapping[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProtocolError(f"'{name}' of {where} must be {JSON_KINDS[kind]}")
    return value


def _parameters(mapping: dict, where: str) -> dict:
    parameters = mapping.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ProtocolError(f"'parameters' of {where} must be a JSON object")
    return parameters


def _refuse_unsupported(parameters: dict) -> None:
    for name in UNSUPPORTED:
        if name in parameters:
            raise ProtocolError(f"parameter '{name}' is not supported by this server")


def _request_id(request: dict) -> str | None:
    return _field(request, "id", str, "the request") if "id" in request else None


def _binary_output(request: dict, spec: TensorSpec) -> bool:
    """Triton's rule: an output's own `binary_data`, else the request's `binary_data_output`,
    else JSON."""
    binary = _flag(_parameters(request, "the request"), "binary_data_output", "the request")
    outputs = request.get("outputs", [])
    if not isinstance(outputs, list):
        raise ProtocolError("'outputs' of the request must be a list")
    for output in outputs:
        if not isinstance(output, dict):
            raise ProtocolError("each of 'outputs' must be a JSON object with a 'name'")
        name = _field(output, "name", str, "a requested output")
        if name != spec.name:
            raise ProtocolError(f"unknown output {name[:80]!r}: the model gives '{spec.name}'")
        parameters = _parameters(output, f"output '{name}'")
        _refuse_unsupported(parameters)
        if "binary_data" in parameters:
            binary = _flag(parameters, "binary_data", f"output '{name}'")
    return binary


def _flag(parameters: dict, name: str, where: str) -> bool:
    value = parameters.get(name, False)
    if not isinstance(value, bool):
        raise ProtocolError(f"parameter '{name}' of {where} must be true or false")
    return value
