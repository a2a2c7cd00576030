"""Broken models made on purpose, for the paths that must survive them."""

from pathlib import Path


def nan_model(path: Path) -> Path:
    """An ONNX model that follows the contract but gives NaN probabilities (0 / 0)."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT),
        helper.make_node("Slice", ["pixels", "zero", "ten", "one"], ["rows"]),  # (batch, 10, 28)
        helper.make_node("ReduceSum", ["rows", "two"], ["sums"], keepdims=0),  # (batch, 10)
        helper.make_node("Sub", ["sums", "sums"], ["zeros"]),
        helper.make_node("Div", ["zeros", "zeros"], ["probabilities"]),  # 0 / 0 = NaN
    ]
    graph = helper.make_graph(
        nodes,
        "nan",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        [
            helper.make_tensor(name, TensorProto.INT64, [1], [value])
            for name, value in (("zero", 0), ("ten", 10), ("one", 1), ("two", 2))
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path
