"""The exporter's graph passes: the optimised graph computes what the readable one computes,
and a graph the pass does not fit is left as it is.

The reference is the readable graph itself, run by onnx's reference evaluator: the pass is
judged by what the graphs compute, not by how it rewrote them.
"""

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from mnist_edge.core.contract import META_OPTIMISATIONS
from mnist_edge.export.optimise import fold_input_scale, optimise

TOLERANCE = 1e-6  # largest |diff| relative to the largest |output|: float32 rounding of x / 255
# against W / 255 (a few ulps)
RNG = np.random.default_rng(0)


def constant(name: str, array: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(array.astype(np.float32), name)


def model(nodes, initializers, output_shape) -> onnx.ModelProto:
    """A graph from uint8 'image' (N, 28, 28), scaled by 1/255, to float 'out'."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["image"], ["pixels_float"], to=TensorProto.FLOAT),
            helper.make_node("Div", ["pixels_float", "pixel_max"], ["pixels"]),
            *nodes,
        ],
        "test",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["n", 28, 28])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, output_shape)],
        [constant("pixel_max", np.array(255)), *initializers],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def dense_model() -> onnx.ModelProto:
    """The tutorial's shape: flatten, dense + relu, dense."""
    return model(
        [
            helper.make_node("Reshape", ["pixels", "flat"], ["x"]),
            helper.make_node("MatMul", ["x", "w1"], ["h"], name="dense_1"),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gemm", ["r", "w2", "b2"], ["out"], transB=1),
        ],
        [
            numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"),
            constant("w1", RNG.normal(size=(784, 32))),
            constant("w2", RNG.normal(size=(10, 32))),
            constant("b2", RNG.normal(size=10)),
        ],
        ["n", 10],
    )


def conv_model() -> onnx.ModelProto:
    """A convolutional first layer with zero padding, after an Unsqueeze to (N, 1, 28, 28)."""
    return model(
        [
            helper.make_node("Unsqueeze", ["pixels", "channel_axis"], ["x"]),
            helper.make_node("Conv", ["x", "kernel", "bias"], ["out"], pads=[1, 1, 1, 1]),
        ],
        [
            numpy_helper.from_array(np.array([1], np.int64), "channel_axis"),
            constant("kernel", RNG.normal(size=(4, 1, 3, 3))),
            constant("bias", RNG.normal(size=4)),
        ],
        ["n", 4, 28, 28],
    )


def outputs(proto: onnx.ModelProto, images: np.ndarray) -> np.ndarray:
    return ReferenceEvaluator(proto).run(None, {"image": images})[0]


def relative_difference(optimised: onnx.ModelProto, readable: onnx.ModelProto, images) -> float:
    expected = outputs(readable, images).astype(np.float64)
    return float(np.abs(outputs(optimised, images) - expected).max() / np.abs(expected).max())


def ops(proto: onnx.ModelProto) -> list[str]:
    return [node.op_type for node in proto.graph.node]


def test_the_scale_is_folded_into_a_dense_first_layer():
    readable = dense_model()
    optimised, applied = optimise(readable)
    images = RNG.integers(0, 256, size=(16, 28, 28), dtype=np.uint8)
    difference = relative_difference(optimised, readable, images)
    print(f"dense: {applied}, max relative |diff| {difference:.2g}")
    assert "Div" not in ops(optimised) and "Div" in ops(readable)  # the readable graph is kept
    assert applied == [
        "input scale (Div by pixel_max) folded into the weights of 'dense_1'",
    ]
    meta = {entry.key: entry.value for entry in optimised.metadata_props}
    assert json.loads(meta[META_OPTIMISATIONS]) == applied
    assert difference <= TOLERANCE
    onnx.checker.check_model(optimised, full_check=True)


def test_the_scale_is_folded_into_a_convolution():
    readable = conv_model()
    optimised, applied = optimise(readable)
    images = RNG.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    difference = relative_difference(optimised, readable, images)
    print(f"conv: {applied}, max relative |diff| {difference:.2g}")
    assert applied and "Div" not in ops(optimised)
    assert difference <= TOLERANCE


def test_a_scaled_tensor_used_elsewhere_is_left_alone():
    """`pixels` also feeds an Add: folding the scale into the MatMul would change the Add."""
    proto = model(
        [
            helper.make_node("Reshape", ["pixels", "flat"], ["x"]),
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("ReduceSum", ["x"], ["total"], keepdims=1),
            helper.make_node("Add", ["h", "total"], ["out"]),
        ],
        [
            numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"),
            constant("w", RNG.normal(size=(784, 10))),
        ],
        ["n", 10],
    )
    before = proto.SerializeToString()
    assert fold_input_scale(proto.graph) is None
    assert proto.SerializeToString() == before


def test_weights_shared_with_another_layer_are_left_alone():
    """Scaling weights another layer also reads would change that layer."""
    proto = model(
        [
            helper.make_node("Reshape", ["pixels", "flat"], ["x"]),
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Transpose", ["w"], ["wt"]),
            helper.make_node("MatMul", ["h", "wt"], ["out"]),
        ],
        [
            numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"),
            constant("w", RNG.normal(size=(784, 784))),
        ],
        ["n", 784],
    )
    optimised, applied = optimise(proto)
    assert applied == [] and ops(optimised) == ops(proto)
    assert META_OPTIMISATIONS not in {entry.key for entry in optimised.metadata_props}


def quantized_model(scale: float, zero_point: np.ndarray) -> onnx.ModelProto:
    """uint8 'image' -> Cast -> Reshape -> QuantizeLinear(scale, zero_point) -> Dequantize -> out,
    the head of an int8 model quantized from a graph whose scale was folded away."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["image"], ["pixels_float"], to=TensorProto.FLOAT),
            helper.make_node("Reshape", ["pixels_float", "flat"], ["x"]),
            helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"]),
            helper.make_node("DequantizeLinear", ["q", "out_scale", "zero"], ["out"]),
        ],
        "quantized",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["n", 28, 28])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", 784])],
        [
            numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"),
            constant("scale", np.array(scale)),
            numpy_helper.from_array(zero_point, "zero"),
            constant("out_scale", np.array(0.5)),
        ],
    )
    # opset 21: onnx's reference evaluator has no DequantizeLinear for 17
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    onnx.checker.check_model(proto, full_check=True)
    return proto


EVERY_PIXEL_VALUE = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(1, 28, 28)  # 0..255


def test_a_unit_quantize_of_uint8_pixels_is_dropped():
    """round(float(x) / 1) + 0, saturated to uint8, is x for every uint8 x: exactly."""
    readable = quantized_model(1.0, np.array(0, np.uint8))
    optimised, applied = optimise(readable)
    print(applied)
    assert ops(optimised) == ["Reshape", "DequantizeLinear"]
    expected = outputs(readable, EVERY_PIXEL_VALUE)
    assert np.array_equal(outputs(optimised, EVERY_PIXEL_VALUE), expected)
    onnx.checker.check_model(optimised, full_check=True)


def test_a_quantize_that_changes_values_is_kept():
    """Scale 1/255 rounds; an int8 zero point saturates pixels above 127."""
    for scale, zero_point in [(1 / 255, np.array(0, np.uint8)), (1.0, np.array(0, np.int8))]:
        proto = quantized_model(scale, zero_point)
        optimised, applied = optimise(proto)
        assert applied == [] and ops(optimised) == ops(proto)
