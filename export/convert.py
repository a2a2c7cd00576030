"""Keras -> ONNX with tf2onnx, then wrapped into the mnist-edge input/output contract."""

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from onnx import TensorProto, helper, numpy_helper

from mnist_edge.core.contract import (
    BATCH_DIM,
    IMAGE_SIZE,
    INPUT_NAME,
    NUM_CLASSES,
    OPSET,
    OUTPUT_NAME,
)


def keras_to_onnx(model: keras.Model, opset: int = OPSET) -> onnx.ModelProto:
    """The model as ONNX taking uint8 pixels (batch, 28, 28) and giving probabilities (batch, 10).

    tf2onnx's `from_keras` fails on Keras 3 models, so the Keras call is traced as a
    tf.function with an explicit input signature (what Keras's own ONNX export does).
    """
    signature = (tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32, name="pixels"),)
    forward = tf.function(lambda pixels: model(pixels, training=False), input_signature=signature)
    proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature, opset=opset)
    return wrap_in_contract(proto, graph_name=model.name)


def wrap_in_contract(proto: onnx.ModelProto, graph_name: str) -> onnx.ModelProto:
    """Put uint8 -> float32 / 255 in front of the float graph; name input, output and batch."""
    graph = proto.graph
    (float_input,) = graph.input
    (float_output,) = graph.output
    # (batch, 28, 28) uint8 -> float32 -> / 255: the tutorial's `astype("float32") / 255`
    graph.initializer.append(numpy_helper.from_array(np.array(255, np.float32), "pixel_max"))
    normalise = [
        helper.make_node("Cast", [INPUT_NAME], ["pixels_float"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["pixels_float", "pixel_max"], [float_input.name]),
    ]
    for offset, node in enumerate(normalise):
        graph.node.insert(offset, node)
    for node in graph.node:
        node.output[:] = [OUTPUT_NAME if n == float_output.name else n for n in node.output]
    shape_in = [BATCH_DIM, IMAGE_SIZE, IMAGE_SIZE]
    graph.ClearField("input")
    graph.input.append(helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, shape_in))
    graph.ClearField("output")
    graph.output.append(
        helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [BATCH_DIM, NUM_CLASSES])
    )
    graph.ClearField("value_info")  # intermediate shapes named by tf2onnx; re-inferred below
    graph.name = graph_name  # the Keras model's: mnist_mlp, mnist_cnn
    keep_used_opsets(proto)
    return onnx.shape_inference.infer_shapes(proto, strict_mode=True)


def keep_used_opsets(proto: onnx.ModelProto) -> None:
    """Drop the opset imports no node uses: converters and quantizers declare many (ai.onnx.ml
    5, com.microsoft, ...), and an older onnxruntime refuses a model that merely names an
    opset newer than it knows."""
    used = {node.domain for node in proto.graph.node} | {""}
    kept = [opset for opset in proto.opset_import if opset.domain in used]
    proto.ClearField("opset_import")
    proto.opset_import.extend(kept)
