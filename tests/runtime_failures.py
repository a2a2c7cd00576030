"""Models that load and declare the contract's shapes (uint8 [batch, 28, 28] in, float
[batch, 10] out), but whose calls fail or never end: what a service must survive."""

from pathlib import Path

FOR_EVER = 10**12  # Loop iterations: hours


def failing_model(path: Path) -> Path:
    """Every call fails: the 784 pixels of an image are reshaped into rows of 10 (784 is not
    a multiple of 10)."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["pixels", "rows"], ["probabilities"]),
    ]
    rows = helper.make_tensor("rows", TensorProto.INT64, [2], [-1, 10])
    return _save(path, "failing", nodes, [rows])


def looping_model(path: Path, iterations: int = FOR_EVER, from_images: int = 1) -> Path:
    """A call on `from_images` images or more first runs an ONNX Loop of `iterations` steps
    (a smaller batch: none); then every image gets uniform probabilities."""
    from onnx import TensorProto, helper

    body = helper.make_graph(
        [
            helper.make_node("Identity", ["condition_in"], ["condition_out"]),
            helper.make_node("Add", ["count_in", "one"], ["count_out"]),
        ],
        "step",
        [
            helper.make_tensor_value_info("step", TensorProto.INT64, []),
            helper.make_tensor_value_info("condition_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("count_in", TensorProto.INT64, [1]),
        ],
        [
            helper.make_tensor_value_info("condition_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("count_out", TensorProto.INT64, [1]),
        ],
    )
    nodes = [
        helper.make_node("Shape", ["image"], ["images"], start=0, end=1),  # [batch]
        helper.make_node("GreaterOrEqual", ["images", "from"], ["large"]),
        helper.make_node("Cast", ["large"], ["large_int"], to=TensorProto.INT64),
        helper.make_node("Mul", ["large_int", "iterations"], ["trips_1d"]),
        helper.make_node("Squeeze", ["trips_1d"], ["trips"]),
        helper.make_node("Loop", ["trips", "true", "zero"], ["count"], body=body),
        helper.make_node("Cast", ["count"], ["count_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["count_float", "nothing"], ["no_count"]),  # (1,) zero
        helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT),
        helper.make_node("Slice", ["pixels", "zero", "ten", "one"], ["rows"]),  # (batch, 10, 28)
        helper.make_node("ReduceSum", ["rows", "two"], ["sums"], keepdims=0),  # (batch, 10)
        helper.make_node("Mul", ["sums", "nothing"], ["zeros"]),
        helper.make_node("Add", ["zeros", "no_count"], ["still_zeros"]),
        helper.make_node("Add", ["still_zeros", "tenth"], ["probabilities"]),
    ]
    constants = [
        helper.make_tensor("from", TensorProto.INT64, [1], [from_images]),
        helper.make_tensor("iterations", TensorProto.INT64, [1], [iterations]),
        helper.make_tensor("true", TensorProto.BOOL, [], [True]),
        helper.make_tensor("nothing", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("tenth", TensorProto.FLOAT, [], [0.1]),
        *[
            helper.make_tensor(name, TensorProto.INT64, [1], [value])
            for name, value in (("zero", 0), ("ten", 10), ("one", 1), ("two", 2))
        ],
    ]
    return _save(path, "looping", nodes, constants)


def _save(path: Path, name: str, nodes: list, constants: list) -> Path:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path
