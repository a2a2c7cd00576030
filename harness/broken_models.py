"""Broken models made on purpose, for the paths that must survive them. Each follows the
contract in what it declares (uint8 [batch, 28, 28] in, float [batch, 10] out), so it loads;
what it really gives is wrong."""

from pathlib import Path

import numpy as np


def nan_model(path: Path) -> Path:
    """Gives NaN probabilities (0 / 0)."""

    return _save(
        path,
        "nan",
        [*_row_sums("sums"), _node("Sub", "sums", "sums", out="zeros")],
        _node("Div", "zeros", "zeros"),
    )


def one_row_model(path: Path) -> Path:
    """Gives one row of probabilities whatever the batch: shape inference hides it."""
    return _save(
        path,
        "one-row",
        [*_row_sums("sums"), _node("Softmax", "sums", out="all", axis=1)],
        _node("Slice", "all", "zero", "one", "zero"),  # rows 0:1 of axis 0
    )


def logits_model(path: Path) -> Path:
    """Gives raw scores, not probabilities (no softmax): values far outside [0, 1]."""
    return _save(path, "logits", _row_sums("sums"), _node("Mul", "sums", "tenth"))


def eleven_model(path: Path) -> Path:
    """Gives rows of 11 probabilities, not 10: a zero is padded on, as many as the image has
    any ink (0 or 1), so no shape inference can see it."""
    return _save(
        path,
        "eleven",
        [
            *_row_sums("sums"),
            _node("ReduceMax", "pixels", out="peak", keepdims=0),  # a scalar
            _node("Reshape", "peak", "one", out="peak1"),  # [1]
            _node("Greater", "peak1", "nothing", out="inked"),
            _node("Cast", "inked", out="extra", to=7),  # INT64: [1] if any ink
            _node("Concat", "zero", "zero", "zero", "extra", out="pads", axis=0),
            _node("Pad", "sums", "pads", out="padded"),  # (batch, 10 + extra)
        ],
        _node("Softmax", "padded", axis=1),
    )


def failing_model(path: Path) -> Path:
    """Loads and passes every check a loader can make, then fails on every run: it gathers
    columns 1 to 10 of ten (index 10 is past the end), which only the data can show."""
    return _save(
        path,
        "fails",
        [*_row_sums("sums"), _node("Gather", "sums", "one_to_ten", out="shifted", axis=1)],
        _node("Softmax", "shifted", axis=1),
    )


def _row_sums(out: str) -> list:
    """(batch, 10) float sums of the first ten pixel rows of each image."""
    return [
        _node("Cast", "image", out="pixels", to=1),  # FLOAT
        _node("Slice", "pixels", "zero", "ten", "one", out="rows"),  # (batch, 10, 28)
        _node("ReduceSum", "rows", "two", out=out, keepdims=0),  # (batch, 10)
    ]


def _node(op: str, *inputs: str, out: str = "probabilities", **attributes: object):
    from onnx import helper

    return helper.make_node(op, list(inputs), [out], **attributes)


def _save(path: Path, name: str, nodes: list, last, extra: dict | None = None) -> Path:
    """The model of `nodes` then `last`, with the shared constants and `extra` ones (name ->
    array) as initializers."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    constants = {"zero": 0, "one": 1, "two": 2, "ten": 10, "eleven": 11}
    initializers = [
        numpy_helper.from_array(np.array([value], np.int64), key)
        for key, value in constants.items()
    ]
    initializers.append(numpy_helper.from_array(np.array(0.1, np.float32), "tenth"))
    initializers.append(numpy_helper.from_array(np.array([0.0], np.float32), "nothing"))
    initializers.append(numpy_helper.from_array(np.arange(1, 11, dtype=np.int64), "one_to_ten"))
    initializers += [numpy_helper.from_array(value, key) for key, value in (extra or {}).items()]
    graph = helper.make_graph(
        [*nodes, last],
        name,
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


def endless_loop_model(path: Path, iterations: int = 10**12, from_images: int = 1) -> Path:
    """Gives probabilities after an ONNX Loop of `iterations` steps that each multiply them
    by one (10**12: hours), on a batch of `from_images` images or more (a smaller one: no
    steps): a model that never answers, or one that warms up on one image, then sticks."""
    from onnx import TensorProto, helper

    body = helper.make_graph(
        [
            _node("Identity", "going", out="going_on"),
            _node("Mul", "carried", "one_float", out="carried_on"),
        ],
        "step",
        [
            helper.make_tensor_value_info("step", TensorProto.INT64, []),
            helper.make_tensor_value_info("going", TensorProto.BOOL, []),
            helper.make_tensor_value_info("carried", TensorProto.FLOAT, None),
        ],
        [
            helper.make_tensor_value_info("going_on", TensorProto.BOOL, []),
            helper.make_tensor_value_info("carried_on", TensorProto.FLOAT, None),
        ],
    )
    steps = [
        _node("Shape", "image", out="images", start=0, end=1),  # [batch]
        _node("GreaterOrEqual", "images", "from", out="large"),
        _node("Cast", "large", out="large_int", to=TensorProto.INT64),
        _node("Mul", "large_int", "iterations", out="steps_1d"),
        _node("Squeeze", "steps_1d", out="steps"),
    ]
    loop = helper.make_node("Loop", ["steps", "true", "start"], ["probabilities"], body=body)
    return _save(
        path,
        "endless-loop",
        [*steps, *_row_sums("sums"), _node("Softmax", "sums", out="start", axis=1)],
        loop,
        {
            "from": np.array([from_images], np.int64),
            "iterations": np.array([iterations], np.int64),
            "true": np.array(True),
            "one_float": np.array(1.0, np.float32),
        },
    )
