"""The layers the C generator knows: what the ONNX graph is lowered to, before any C is written.

Feature maps are stored height, width, channels (HWC), so that a row of a convolution's input
is one contiguous block; vectors are (1, 1, length). Weights are laid out for that order.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Tensor:
    """A tensor computed at run time (or the input image), seen through one shape: a Reshape
    gives another Tensor of the same name, which is the same memory."""

    name: str
    shape: tuple[int, int, int]  # (height, width, channels)
    dtype: str  # "uint8" or "float32"
    scale: float | None = None  # quantized: real = scale * (q - zero_point)
    zero_point: int = 0

    @property
    def size(self) -> int:
        height, width, channels = self.shape
        return height * width * channels

    @property
    def row_size(self) -> int:
        return self.shape[1] * self.shape[2]

    @property
    def item_bytes(self) -> int:
        return 1 if self.dtype == "uint8" else 4


@dataclass
class Layer:
    node: str  # the ONNX node it came from (the last one folded into it)
    source: Tensor
    output: Tensor


@dataclass
class Conv(Layer):
    weights: np.ndarray  # (out_channels, kernel_h, kernel_w, in_channels), float32 or int8
    bias: np.ndarray  # (out_channels,), float32 or int32
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    relu: bool = False
    multiplier: np.ndarray | None = None  # int8: requantization per output channel
    shift: np.ndarray | None = None

    @property
    def kernel(self) -> tuple[int, int]:
        return self.weights.shape[1], self.weights.shape[2]

    def input_rows(self, row: int) -> range:
        """The input rows output row `row` reads (some may be padding: < 0 or >= height)."""
        top = row * self.stride[0] - self.pads[0]
        return range(top, top + self.kernel[0])

    @property
    def macs(self) -> int:
        return self.output.size * int(np.prod(self.weights.shape[1:]))


@dataclass
class Dense(Layer):
    weights: np.ndarray  # (outputs, inputs), float32 or int8
    bias: np.ndarray  # (outputs,), float32 or int32
    relu: bool = False
    multiplier: np.ndarray | None = None
    shift: np.ndarray | None = None

    @property
    def macs(self) -> int:
        return int(self.weights.size)


@dataclass
class Softmax(Layer):
    table: np.ndarray | None = None  # int8: onnxruntime's float32 lookup table (256,)
    quotient_scale: float = 0.0  # int8: what the quotient is scaled by before rounding


@dataclass
class Dequantize(Layer):
    pass


@dataclass
class Model:
    """The lowered graph: layers in execution order, from the image to the probabilities."""

    name: str  # the ONNX file's name
    image: Tensor
    layers: list[Layer]
    probabilities: Tensor
    metadata: dict[str, object] = field(default_factory=dict)

    @property
    def int8(self) -> bool:
        return any(isinstance(layer, Dequantize) for layer in self.layers)

    @property
    def weight_bytes(self) -> int:
        total = 0
        for layer in self.layers:
            if isinstance(layer, Conv | Dense):
                total += layer.weights.nbytes + layer.bias.nbytes
        return total
