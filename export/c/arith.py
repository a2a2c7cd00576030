"""The int8 path's arithmetic, decided at generation time so that the C needs no float per
multiply and gives onnxruntime's answers bit for bit.

onnxruntime runs a QDQ model as fused integer kernels (QGemm, QLinearConv, QLinearSoftmax).
They accumulate in int32, then requantize with float32: round_half_even(float(acc) * scale),
scale = float32(float32(x_scale * w_scale) / y_scale). A float32 scale is a 24-bit integer
times a power of two, so the C does the same with integers only: that integer as the
multiplier, the power as the shift, and the two float32 roundings (of the accumulator, then of
the product) done on the 64-bit product. TensorFlow Lite Micro's rounding (a Q31 multiplier,
rounding half away from zero) differs from onnxruntime's on a few accumulators in a thousand,
and one step on a logit moves a probability by up to 13 steps: not within one step.
"""

import math
from dataclasses import dataclass

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)
SOFTMAX_RESERVED_BITS = 5  # onnxruntime's headroom for a float32 sum of table entries


@dataclass(frozen=True)
class Requantization:
    """round_half_even(acc * scale) as integers: scale == multiplier * 2**-shift exactly."""

    multiplier: np.ndarray  # int32 (channels,), 2**23 <= m < 2**24 (0 for a zero scale)
    shift: np.ndarray  # int32 (channels,), 1 <= shift <= 62


def output_scales(x_scale: float, w_scales: np.ndarray, y_scale: float) -> np.ndarray:
    """float32 (channels,): the scales onnxruntime multiplies its int32 accumulators by."""
    product = np.float32(x_scale) * np.asarray(w_scales, np.float32)
    return (product / np.float32(y_scale)).astype(np.float32)


def requantization(scales: np.ndarray) -> Requantization:
    """Each float32 scale as a 24-bit multiplier and a right shift (ValueError when a scale is
    negative, not finite, or too small or large for a 64-bit product)."""
    multipliers, shifts = [], []
    for scale in np.asarray(scales, np.float32).ravel():
        if not math.isfinite(scale) or scale < 0:
            raise ValueError(f"requantization scale {scale} is not a finite positive number")
        mantissa, exponent = math.frexp(float(scale))  # scale = mantissa * 2**exponent
        multiplier, shift = int(mantissa * (1 << 24)), 24 - exponent
        if scale > 0 and not 1 <= shift <= 62:
            raise ValueError(f"requantization scale {scale:g} is out of range")
        multipliers.append(multiplier)
        shifts.append(shift if scale > 0 else 1)
    return Requantization(np.array(multipliers, np.int32), np.array(shifts, np.int32))


def softmax_table(x_scale: float, length: int) -> np.ndarray:
    """float32 (256,): onnxruntime's QLinearSoftmax lookup table for uint8 inputs.

    Entry i is exp((i - 255 + headroom) * x_scale); a row is looked up shifted so that its
    largest value lands on 255. The headroom keeps the sum of `length` entries finite.
    """
    headroom = math.log(float(np.float32(FLOAT32_MAX) / np.float32(length)))
    headroom = max(0.0, headroom - SOFTMAX_RESERVED_BITS) / float(np.float32(x_scale))
    exponents = [(i - 255 + headroom) * float(np.float32(x_scale)) for i in range(256)]
    return np.array([math.exp(value) for value in exponents], np.float32)


def softmax_output_scale(y_scale: float) -> np.float32:
    """onnxruntime scales the quotient by floor(1 / y_scale) (254 for y_scale = 1/255, whose
    float32 reciprocal is a hair under 255), not by 1 / y_scale."""
    return np.float32(math.floor(np.float32(1.0) / np.float32(y_scale)))
