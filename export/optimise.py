"""Graph optimisations, applied to a copy of the readable graph once its parity is proven.

The readable graph says what the model computes in the tutorial's own steps (`pixels / 255`
as a node of its own); it stays the reference. A pass rewrites a copy into something cheaper
to run that computes the same function, and says what it did; the exporter then proves the
copy's parity again and records the passes in the model's metadata.

Passes are generic over the graph: each looks for its pattern anywhere and leaves a graph
without it unchanged.
"""

import json

import numpy as np
import onnx
from onnx import numpy_helper

from mnist_edge.core.contract import META_OPTIMISATIONS

# Ops that move or reshape values without changing them: a scale passes through unchanged.
SHAPE_ONLY = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity"}
# Linear in their first input, with weights as their second: f(x * s, W) == f(x, W * s).
LINEAR = {"MatMul", "Gemm", "Conv"}


def optimise(proto: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str]]:
    """A copy of `proto` with every pass that applies, and what each one did (added to the
    model's metadata, after what earlier runs recorded: an int8 model made from an optimised
    float model lists both)."""
    optimised = onnx.ModelProto()
    optimised.CopyFrom(proto)
    applied = [note for p in (fold_input_scale, drop_unit_quantize) if (note := p(optimised.graph))]
    if applied:
        recorded = {entry.key: entry.value for entry in optimised.metadata_props}
        earlier = json.loads(recorded.get(META_OPTIMISATIONS, "[]"))
        recorded[META_OPTIMISATIONS] = json.dumps(earlier + applied)
        optimised.ClearField("metadata_props")
        onnx.helper.set_model_props(optimised, recorded)
    return optimised, applied


def fold_input_scale(graph: onnx.GraphProto) -> str | None:
    """Fold `x / c` (or `x * c`), c a constant scalar, into the weights of the linear layers
    that are its only consumers (through shape-only ops): one elementwise pass over every
    input pixel fewer. None (graph untouched) when no such scale exists."""
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    for node in graph.node:
        factor = _scalar_factor(node, initializers)
        if factor is None:
            continue
        layers = _linear_consumers(graph, node.output[0])
        if not layers or not all(_owns_weights(graph, layer, initializers) for layer in layers):
            continue
        for layer in layers:
            weights = initializers[layer.input[1]]
            scaled = numpy_helper.to_array(weights).astype(np.float64) * factor
            weights.CopyFrom(numpy_helper.from_array(scaled.astype(np.float32), weights.name))
        _bypass(graph, node)
        names = ", ".join(f"'{layer.name or layer.op_type}'" for layer in layers)
        return f"input scale ({node.op_type} by {node.input[1]}) folded into the weights of {names}"
    return None


def drop_unit_quantize(graph: onnx.GraphProto) -> str | None:
    """Drop `QuantizeLinear(Cast(x), scale 1, zero point 0)` when x has the quantized type
    already (uint8 pixels, once the scale is folded away): rounding an integer and saturating
    it to its own range is the identity, so the quantized layers can read x itself."""
    for quantize in graph.node:
        cast = _unit_quantize_of_cast(graph, quantize)
        if cast is None:
            continue
        source = cast.input[0]
        graph.node.remove(cast)
        graph.node.remove(quantize)
        _rename_input(graph, cast.output[0], source)
        unquantized = source if quantize.input[0] == cast.output[0] else quantize.input[0]
        _rename_input(graph, quantize.output[0], unquantized)
        graph.ClearField("value_info")  # the tensors in between are integers now
        return f"QuantizeLinear of the integer input {source} (scale 1, zero point 0) dropped"
    return None


def _unit_quantize_of_cast(graph: onnx.GraphProto, quantize: onnx.NodeProto):
    """The Cast that `quantize` undoes, reached back through shape-only ops used only on this
    path, if `quantize` has scale 1 and zero point 0 of the Cast input's own type; else None."""
    if quantize.op_type != "QuantizeLinear" or len(quantize.input) != 3:
        return None
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    scale, zero = (initializers.get(name) for name in quantize.input[1:])
    if scale is None or zero is None:
        return None
    if numpy_helper.to_array(scale).tolist() != 1.0 or numpy_helper.to_array(zero).tolist() != 0:
        return None
    producers = {output: node for node in graph.node for output in node.output}
    node = producers.get(quantize.input[0])
    while node is not None and node.op_type in SHAPE_ONLY and _single_use(graph, node.output[0]):
        node = producers.get(node.input[0])
    if node is None or node.op_type != "Cast" or not _single_use(graph, node.output[0]):
        return None
    return node if _elem_type(graph, node.input[0]) == zero.data_type else None


def _single_use(graph: onnx.GraphProto, tensor: str) -> bool:
    outputs = {value.name for value in graph.output}
    uses = sum(list(node.input).count(tensor) for node in graph.node)
    return uses == 1 and tensor not in outputs


def _elem_type(graph: onnx.GraphProto, tensor: str) -> int | None:
    for value in [*graph.input, *graph.value_info]:
        if value.name == tensor:
            return value.type.tensor_type.elem_type
    return None


def _scalar_factor(node: onnx.NodeProto, initializers: dict) -> float | None:
    """What `node` multiplies its first input by, if it is Div or Mul by a float scalar."""
    if node.op_type not in ("Div", "Mul") or node.input[1] not in initializers:
        return None
    constant = numpy_helper.to_array(initializers[node.input[1]])
    if constant.size != 1 or constant.dtype != np.float32 or not np.isfinite(constant).all():
        return None
    value = float(constant.reshape(()))
    if value == 0:
        return None
    return 1 / value if node.op_type == "Div" else value


def _linear_consumers(graph: onnx.GraphProto, tensor: str) -> list[onnx.NodeProto] | None:
    """The linear layers `tensor` reaches as their data input, through shape-only ops; None
    if it reaches anything else (another op, a second input, a graph output)."""
    outputs = {value.name for value in graph.output}
    layers, pending = [], [tensor]
    while pending:
        name = pending.pop()
        if name in outputs:
            return None
        for node in graph.node:
            for index, used in enumerate(node.input):
                if used != name:
                    continue
                if index != 0 or node.op_type not in SHAPE_ONLY | LINEAR:
                    return None
                if node.op_type in LINEAR:
                    layers.append(node)
                else:
                    pending.extend(node.output)
    return layers


def _owns_weights(graph: onnx.GraphProto, layer: onnx.NodeProto, initializers: dict) -> bool:
    """The layer's weights are a float32 constant no other node reads."""
    weights = layer.input[1] if len(layer.input) > 1 else ""
    if weights not in initializers or initializers[weights].data_type != onnx.TensorProto.FLOAT:
        return False
    return sum(list(node.input).count(weights) for node in graph.node) == 1


def _bypass(graph: onnx.GraphProto, node: onnx.NodeProto) -> None:
    """Remove `node`: its consumers read its first input; its constant goes if now unused."""
    source, result, constant = node.input[0], node.output[0], node.input[1]
    graph.node.remove(node)
    _rename_input(graph, result, source)
    if not any(constant in other.input for other in graph.node):
        kept = [tensor for tensor in graph.initializer if tensor.name != constant]
        graph.ClearField("initializer")
        graph.initializer.extend(kept)
    kept_info = [value for value in graph.value_info if value.name != result]
    graph.ClearField("value_info")
    graph.value_info.extend(kept_info)


def _rename_input(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Every node that read `old` reads `new`."""
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
