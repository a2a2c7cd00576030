"""Lower an mnist-edge ONNX graph (float32, or int8 as QDQ) to the C generator's layers.

The graph is walked once, in order, as a symbolic evaluation: each ONNX value becomes a
constant, a run-time tensor, or a view of one (a Cast of the uint8 image to float, a
DequantizeLinear of a uint8 tensor). QDQ pairs are folded here: DequantizeLinear of
weights keeps their int8 values and scales; DequantizeLinear -> Gemm/Conv/Softmax ->
QuantizeLinear becomes one integer layer, as onnxruntime fuses it (QGemm, QLinearConv,
QLinearSoftmax). A bias Add and a Relu fold into the layer before them; Reshape is a view.
Anything else is refused with one line naming the node and its operator.
"""

import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import numpy as np
import onnx
from onnx import numpy_helper

from mnist_edge.core import contract
from mnist_edge.core.errors import ModelError
from mnist_edge.export.c import arith
from mnist_edge.export.c.layers import Conv, Dense, Dequantize, Layer, Model, Softmax, Tensor

BIAS_SCALE_TOLERANCE = 1e-6  # relative: a bias's scale must be x_scale * w_scale
SUPPORTED = (
    "Cast", "Reshape", "MatMul", "Gemm", "Add", "Relu", "Conv", "Softmax",
    "QuantizeLinear", "DequantizeLinear",
)  # fmt: skip


class UnsupportedModel(ModelError):
    """The graph uses an operator, or a form of one, that the C generator does not support."""


@dataclass(frozen=True)
class Constant:
    value: np.ndarray  # the float value (dequantized when `quantized` is set)
    quantized: np.ndarray | None = None  # DequantizeLinear's integer input
    scale: np.ndarray | None = None
    zero_point: np.ndarray | None = None


@dataclass(frozen=True)
class Value:
    """A run-time tensor seen through an ONNX shape: as stored ("raw"), as float32 ("float",
    a Cast of uint8), or dequantized ("dequantized", a DequantizeLinear of uint8)."""

    tensor: Tensor
    onnx_shape: tuple[int, ...]  # batch 1
    view: str = "raw"


@dataclass
class Pending:
    """A float operator between DequantizeLinear and QuantizeLinear: an integer layer waiting
    for its output's scale and zero point."""

    layer: Layer
    onnx_shape: tuple[int, ...]
    weight_scale: np.ndarray | None = None  # float32, per output channel or one


def lower(path: Path) -> Model:
    """The layers of the ONNX model at `path` (UnsupportedModel or ModelError when it cannot)."""
    try:
        model = onnx.load(str(path))
    except Exception as error:  # onnx raises DecodeError, OSError, ...: all mean "not a model"
        raise ModelError(f"{path}: not a readable ONNX model ({error})") from None
    return Lowering(model, Path(path).name).run()


class Lowering:
    def __init__(self, model: onnx.ModelProto, name: str) -> None:
        self.graph = model.graph
        self.name = name
        self.metadata = contract.decode_metadata({p.key: p.value for p in model.metadata_props})
        self.values: dict[str, Constant | Value | Pending] = {
            init.name: Constant(numpy_helper.to_array(init)) for init in self.graph.initializer
        }
        self.layers: list[Layer] = []
        self.consumers: dict[str, int] = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers[name] = self.consumers.get(name, 0) + 1
        self.node = self.graph.node[0] if self.graph.node else None

    def run(self) -> Model:
        image = self._check_contract()
        self.values[contract.INPUT_NAME] = Value(
            image, (1, contract.IMAGE_SIZE, contract.IMAGE_SIZE)
        )
        for node in self.graph.node:
            self.node = node
            handler = getattr(self, f"_{node.op_type}", None)
            if node.domain not in ("", "ai.onnx") or handler is None:
                self.refuse("operator not supported by export-c")
            inputs = [self.values.get(name) if name else None for name in node.input]
            if any(value is None for name, value in zip(node.input, inputs, strict=True) if name):
                self.refuse("an input is neither a constant nor computed before it")
            try:
                inspect.signature(handler).bind(*inputs)
            except TypeError:  # more or fewer inputs than the form supported here
                self.refuse(f"{len(node.input)} inputs: not a supported form of {node.op_type}")
            self.values[node.output[0]] = handler(*inputs)
        probabilities = self._output(self.values[contract.OUTPUT_NAME])
        model = Model(self.name, image, self.layers, probabilities, self.metadata)
        sources = [layer.source.name for layer in self.layers]
        if sources != [image.name] + [layer.output.name for layer in self.layers[:-1]]:
            raise UnsupportedModel(f"{self.name}: only a chain of layers is supported (no branch)")
        if model.int8 and any(layer.output.dtype == "float32" for layer in self.layers[:-1]):
            raise UnsupportedModel(
                f"{self.name}: float layers in a quantized model are not supported"
            )
        return model

    def refuse(self, problem: str) -> NoReturn:
        raise UnsupportedModel(f"node '{self.node.name}' ({self.node.op_type}): {problem}")

    def _check_contract(self) -> Tensor:
        def spec(value: onnx.ValueInfoProto) -> contract.TensorSpec:
            kind = value.type.tensor_type
            dims = tuple(d.dim_value if d.HasField("dim_value") else d.dim_param or None
                         for d in kind.shape.dim)  # fmt: skip
            dtype = onnx.helper.tensor_dtype_to_np_dtype(kind.elem_type).name
            return contract.TensorSpec(value.name, dtype, dims)

        inputs = [i for i in self.graph.input if i.name not in self.values]
        problems = contract.contract_problems(
            list(map(spec, inputs)), list(map(spec, self.graph.output))
        )
        if (
            problems
            or inputs[0].name != contract.INPUT_NAME
            or self.graph.output[0].name != contract.OUTPUT_NAME
        ):
            raise ModelError(
                f"{self.name}: not an mnist-edge model ({'; '.join(problems) or 'tensor names'})"
            )
        return Tensor("image", (contract.IMAGE_SIZE, contract.IMAGE_SIZE, 1), "uint8")

    # --- the operators -------------------------------------------------------------------

    def _Cast(self, source: Value) -> Value:
        to = self.attribute("to", 0)
        if not isinstance(source, Value) or source.tensor.dtype != "uint8" or source.view != "raw":
            self.refuse("only a Cast of the uint8 image is supported")
        if to != onnx.TensorProto.FLOAT:
            self.refuse("only a Cast to float is supported")
        return replace(source, view="float")

    def _Reshape(self, source: Value, shape: Constant) -> Value:
        if not isinstance(source, Value) or not isinstance(shape, Constant):
            self.refuse("only a constant reshape of a run-time tensor is supported")
        new_shape = tuple(int(d) for d in shape.value)
        old = source.onnx_shape
        new_shape = tuple(old[i] if d == 0 else d for i, d in enumerate(new_shape))
        if -1 in new_shape:
            known = int(np.prod([d for d in new_shape if d != -1]))
            new_shape = tuple(int(np.prod(old)) // known if d == -1 else d for d in new_shape)
        if int(np.prod(new_shape)) != int(np.prod(old)) or new_shape[0] != 1:
            self.refuse(f"cannot reshape {old} to {new_shape}")
        if not in_onnx_order(old) or not in_onnx_order(new_shape):
            self.refuse("reshaping a feature map of several channels and pixels is not supported")
        return Value(replace(source.tensor, shape=storage_shape(new_shape)), new_shape, source.view)

    def _DequantizeLinear(self, source, scale: Constant, zero_point: Constant | None = None):
        zero = zero_point.value if zero_point is not None else np.zeros((), np.uint8)
        if isinstance(source, Constant):
            axis = self.attribute("axis", 1)
            if scale.value.size != 1 and not (
                -source.value.ndim <= axis < source.value.ndim
                and scale.value.shape == (source.value.shape[axis],) == zero.shape
            ):
                self.refuse(f"per-axis scales that do not match axis {axis} of the weights")
            value = dequantize(source.value, scale.value, zero, axis % max(source.value.ndim, 1))
            return Constant(value, source.value, scale.value, zero)
        if not isinstance(source, Value) or source.view != "raw" or source.tensor.dtype != "uint8":
            self.refuse("only uint8 tensors can be dequantized at run time")
        if scale.value.size != 1 or zero.dtype != np.uint8:
            self.refuse("a run-time tensor needs one scale and a uint8 zero point")
        tensor = source.tensor
        if tensor.scale is None:  # the image: its scale is given here
            tensor = replace(tensor, scale=float(scale.value), zero_point=int(zero))
        elif (np.float32(tensor.scale), tensor.zero_point) != (np.float32(scale.value), int(zero)):
            self.refuse("dequantized with a scale other than the one it was quantized with")
        return Value(tensor, source.onnx_shape, "dequantized")

    def _QuantizeLinear(self, source, scale: Constant, zero_point: Constant) -> Value:
        if scale.value.size != 1 or zero_point.value.dtype != np.uint8:
            self.refuse("only uint8 outputs with one scale are supported")
        y_scale, y_zero = float(scale.value), int(zero_point.value)
        if isinstance(source, Value) and source.view == "dequantized":
            tensor = source.tensor  # requantized as it was: the identity
            if (np.float32(tensor.scale), tensor.zero_point) != (np.float32(y_scale), y_zero):
                self.refuse("requantizing with a new scale is not supported")
            return replace(source, view="raw")
        if not isinstance(source, Pending):
            self.refuse(
                "only the output of a dequantized Gemm, MatMul, Conv or Softmax can be quantized"
            )
        return self._finish_integer(source, y_scale, y_zero)

    def _MatMul(self, a, b: Constant, bias: Constant | None = None) -> Value | Pending:
        return self._dense(a, b, bias, transposed=False)

    def _Gemm(self, a, b: Constant, bias: Constant | None = None) -> Value | Pending:
        if (
            self.attribute("transA", 0)
            or self.attribute("alpha", 1.0) != 1.0
            or self.attribute("beta", 1.0) != 1.0
        ):
            self.refuse("only Gemm with transA=0, alpha=1, beta=1 is supported")
        return self._dense(a, b, bias, transposed=bool(self.attribute("transB", 0)))

    def _Conv(self, x, w: Constant, bias: Constant | None = None) -> Value | Pending:
        source = self.runtime_input(x)
        if len(x.onnx_shape) != 4 or not isinstance(w, Constant) or w.value.ndim != 4:
            self.refuse("only a 2-D convolution with constant weights is supported")
        if self.attribute("group", 1) != 1 or any(
            d != 1 for d in self.attribute("dilations", [1, 1])
        ):
            self.refuse("only group=1 and dilation 1 are supported")
        if self.attribute("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            self.refuse("auto_pad is not supported (explicit pads are)")
        top, left, bottom, right = self.attribute("pads", [0, 0, 0, 0])
        stride = tuple(self.attribute("strides", [1, 1]))
        out_channels, _, kernel_h, kernel_w = w.value.shape
        if min(stride) < 1 or not all(
            0 <= pad < kernel
            for pad, kernel in zip(
                (top, left, bottom, right), (kernel_h, kernel_w) * 2, strict=True
            )
        ):
            self.refuse("strides must be >= 1 and pads between 0 and the kernel's size")
        height, width, _ = source.shape
        out_h = (height + top + bottom - kernel_h) // stride[0] + 1
        out_w = (width + left + right - kernel_w) // stride[1] + 1
        if out_h < 1 or out_w < 1 or w.value.shape[1] != source.shape[2]:
            self.refuse(f"weights {w.value.shape} do not fit an input of {source.shape} (HWC)")
        onnx_shape = (1, out_channels, out_h, out_w)
        layout = (0, 2, 3, 1)  # (O, I, kH, kW) -> (O, kH, kW, I), to match HWC inputs
        output = Tensor(self.output_name(), (out_h, out_w, out_channels), "float32")
        layer = Conv(
            self.node.name, source, output,
            weights=w.value.transpose(layout), bias=zeros_or(bias, out_channels),
            stride=stride, pads=(top, left, bottom, right),
        )  # fmt: skip
        if x.view == "dequantized":
            layer.weights = self.integer_weights(w, axis=0).transpose(layout)
            layer.bias = self.integer_bias(bias, source, w, out_channels)
            if source.zero_point and any((top, left, bottom, right)):
                self.refuse("a padded convolution of an input with a zero point is not supported")
            layer.bias -= source.zero_point * layer.weights.astype(np.int32).sum(axis=(1, 2, 3))
            return Pending(layer, onnx_shape, w.scale)
        self.layers.append(layer)
        return Value(layer.output, onnx_shape)

    def _Add(self, a, b) -> Value:
        layer = self.layers[-1] if self.layers else None
        if (
            not isinstance(a, Value) or not isinstance(b, Constant) or not isinstance(layer, Dense)
            or a.tensor.name != layer.output.name or self.consumers.get(self.node.input[0]) != 1
            or layer.bias.any() or b.value.shape != layer.bias.shape
        ):  # fmt: skip
            self.refuse("only a bias added to the output of a MatMul is supported")
        layer.bias = b.value.astype(np.float32)
        return a

    def _Relu(self, x) -> Value | Pending:
        if isinstance(x, Pending) and isinstance(x.layer, Conv | Dense):
            x.layer.relu = True
            return x
        layer = self.layers[-1] if self.layers else None
        if (
            not isinstance(x, Value)
            or not isinstance(layer, Conv | Dense)
            or x.tensor.name != layer.output.name
        ):
            self.refuse("only a Relu right after a MatMul, Gemm or Conv is supported")
        layer.relu = True
        return x

    def _Softmax(self, x) -> Value | Pending:
        source = self.runtime_input(x)
        if x.view == "float":
            self.refuse("a softmax of the image is not supported")
        axis = self.attribute("axis", -1) % len(x.onnx_shape)
        if x.onnx_shape[axis] != source.size:  # one group: every other dimension is 1
            self.refuse(f"only a softmax over the axis that holds all {source.size} values")
        layer = Softmax(self.node.name, source, Tensor(self.output_name(), source.shape, "float32"))
        if x.view == "dequantized":
            layer.table = arith.softmax_table(source.scale, x.onnx_shape[axis])
            return Pending(layer, x.onnx_shape)
        self.layers.append(layer)
        return Value(layer.output, x.onnx_shape)

    # --- helpers -------------------------------------------------------------------------

    def _dense(self, a, b: Constant, bias: Constant | None, transposed: bool) -> Value | Pending:
        source = self.runtime_input(a)
        if len(a.onnx_shape) != 2 or not isinstance(b, Constant) or b.value.ndim != 2:
            self.refuse("only a matrix product of a vector and constant weights is supported")
        weights = b.value.T if not transposed else b.value  # (outputs, inputs)
        outputs, inputs = weights.shape
        if inputs != source.size:
            self.refuse(f"weights of {inputs} inputs for a vector of {source.size}")
        output = Tensor(self.output_name(), (1, 1, outputs), "float32")
        layer = Dense(self.node.name, source, output, weights=weights, bias=zeros_or(bias, outputs))
        if a.view == "dequantized":
            integer = self.integer_weights(b, axis=0 if transposed else 1)
            layer.weights = integer if transposed else integer.T
            layer.bias = self.integer_bias(bias, source, b, outputs)
            layer.bias -= source.zero_point * layer.weights.astype(np.int32).sum(axis=1)
            return Pending(layer, (1, outputs), b.scale)
        self.layers.append(layer)
        return Value(output, (1, outputs))

    def _finish_integer(self, pending: Pending, y_scale: float, y_zero: int) -> Value:
        layer = pending.layer
        layer.output = Tensor(self.output_name(), layer.output.shape, "uint8", y_scale, y_zero)
        if isinstance(layer, Softmax):
            layer.quotient_scale = float(arith.softmax_output_scale(y_scale))
        else:
            scales = arith.output_scales(layer.source.scale, pending.weight_scale, y_scale)
            try:
                requant = arith.requantization(np.broadcast_to(scales, layer.bias.shape))
            except ValueError as error:
                self.refuse(str(error))
            layer.multiplier, layer.shift = requant.multiplier, requant.shift
        self.layers.append(layer)
        return Value(layer.output, pending.onnx_shape)

    def integer_weights(self, w: Constant, axis: int) -> np.ndarray:
        if w.quantized is None or w.quantized.dtype != np.int8:
            self.refuse("the weights of a quantized operator must be int8 (DequantizeLinear)")
        if np.any(w.zero_point != 0):
            self.refuse("only symmetric weights (zero point 0) are supported")
        return w.quantized

    def integer_bias(
        self, bias: Constant | None, source: Tensor, w: Constant, channels: int
    ) -> np.ndarray:
        if bias is None:
            return np.zeros(channels, np.int32)
        if (
            bias.quantized is None
            or bias.quantized.dtype != np.int32
            or np.any(bias.zero_point != 0)
        ):
            self.refuse("the bias of a quantized operator must be int32 with zero point 0")
        expected = np.float32(source.scale) * np.asarray(w.scale, np.float32)
        if not np.allclose(bias.scale, expected, rtol=BIAS_SCALE_TOLERANCE, atol=0):
            self.refuse("the bias's scale is not the input's scale times the weights'")
        return bias.quantized.astype(np.int32).copy()

    def runtime_input(self, x) -> Tensor:
        if not isinstance(x, Value) or (x.view == "raw" and x.tensor.dtype != "float32"):
            self.refuse("its input must be a float tensor or a dequantized uint8 tensor")
        return x.tensor

    def _output(self, value) -> Tensor:
        if not isinstance(value, Value) or value.tensor.size != contract.NUM_CLASSES:
            raise ModelError(
                f"{self.name}: the probabilities are not computed by a supported layer"
            )
        if value.view == "dequantized":
            output = Tensor(contract.OUTPUT_NAME, (1, 1, contract.NUM_CLASSES), "float32")
            self.layers.append(Dequantize("output", value.tensor, output))
            return output
        return value.tensor

    def attribute(self, name: str, default):
        for attribute in self.node.attribute:
            if attribute.name == name:
                return onnx.helper.get_attribute_value(attribute)
        return default

    def output_name(self) -> str:
        return f"t{len(self.layers)}"


def in_onnx_order(shape: tuple[int, ...]) -> bool:
    """Whether HWC storage of an ONNX shape is its row-major order (true unless a 4-D map has
    several channels and several pixels)."""
    return len(shape) != 4 or shape[1] == 1 or shape[2] * shape[3] == 1


def storage_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(height, width, channels) of an ONNX shape with batch 1."""
    if len(shape) == 4:
        return shape[2], shape[3], shape[1]
    if len(shape) == 3:
        return shape[1], shape[2], 1
    return 1, 1, int(np.prod(shape[1:]))


def dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int) -> np.ndarray:
    if scale.size == 1:
        return ((q.astype(np.float32) - zero.astype(np.float32)) * scale).astype(np.float32)
    shape = [1] * q.ndim
    shape[axis] = -1
    return ((q.astype(np.float32) - zero.reshape(shape)) * scale.reshape(shape)).astype(np.float32)


def zeros_or(bias: Constant | None, channels: int) -> np.ndarray:
    return np.zeros(channels, np.float32) if bias is None else bias.value.astype(np.float32)
