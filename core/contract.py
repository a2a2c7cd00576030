"""The contract between the exporter and the runtime: names, shapes and metadata keys.

The exporter writes models that follow it; the runtime refuses models that do not.
"""

import json
from dataclasses import dataclass
from typing import Any

IMAGE_SIZE = 28  # MNIST images are 28x28
NUM_CLASSES = 10
LABELS = tuple(str(digit) for digit in range(NUM_CLASSES))

INPUT_NAME = "image"  # uint8 (batch, 28, 28), light digit on dark, as in MNIST
OUTPUT_NAME = "probabilities"  # float32 (batch, 10), softmax over the digits 0-9
BATCH_DIM = "batch"
OPSET = 17  # the exporter's default ONNX opset: every onnxruntime since 1.13 runs it

INPUT_CONTRACT = {
    "name": INPUT_NAME,
    "dtype": "uint8",
    "shape": [BATCH_DIM, IMAGE_SIZE, IMAGE_SIZE],
    "range": [0, 255],
    "polarity": "light digit on dark background (0 = background, 255 = ink)",
    "normalisation": "inside the model: float32(pixel) / 255",
}
OUTPUT_CONTRACT = {
    "name": OUTPUT_NAME,
    "dtype": "float32",
    "shape": [BATCH_DIM, NUM_CLASSES],
    "meaning": "probability of each digit 0-9; each row sums to 1",
}
PREPROCESSING = (
    "MNIST format: greyscale, light digit on a background of exactly 0, cropped to the ink, "
    "scaled to fit 20x20 keeping the aspect ratio (area resampling), placed in 28x28 with its "
    "intensity-weighted centre of mass at the centre"
)

# Keys in the ONNX model's metadata_props. Values are strings; structured values are JSON.
META_LABELS = "labels"
META_INPUT = "input_contract"
META_OUTPUT = "output_contract"
META_PREPROCESSING = "preprocessing"
META_TRAINING = "training_metrics"
META_SOURCE_SHA256 = "source_sha256"
META_VERSIONS = "versions"
META_QUANTIZATION = "quantization"
META_OPTIMISATIONS = "optimisations"  # graph passes applied after parity (export/optimise.py)
META_ARCHITECTURE = "architecture"  # {"name": "mlp" or "cnn", "parameters": N, "layers": "..."}
JSON_KEYS = (
    META_LABELS,
    META_INPUT,
    META_OUTPUT,
    META_TRAINING,
    META_VERSIONS,
    META_QUANTIZATION,
    META_OPTIMISATIONS,
    META_ARCHITECTURE,
)


def decode_metadata(raw: dict[str, str]) -> dict[str, Any]:
    """Metadata as written by the exporter, with JSON values parsed (unparsable ones kept raw)."""
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_KEYS:
            try:
                decoded[key] = json.loads(value)
                continue
            except json.JSONDecodeError:
                pass
        decoded[key] = value
    return decoded


@dataclass(frozen=True)
class TensorSpec:
    """What a model declares for one input or output."""

    name: str
    dtype: str  # numpy name: "uint8", "float32"
    shape: tuple[int | str | None, ...]  # a str or None is a dynamic dimension

    def describe(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"'{self.name}' {self.dtype}[{dims}]"


def contract_problems(inputs: list[TensorSpec], outputs: list[TensorSpec]) -> list[str]:
    """Why a model's declared inputs and outputs break the contract (empty when they follow it)."""
    expected_in = f"one input uint8[batch, {IMAGE_SIZE}, {IMAGE_SIZE}]"
    expected_out = f"one output float32[batch, {NUM_CLASSES}]"
    problems = []
    if len(inputs) != 1:
        problems.append(f"has {len(inputs)} inputs, expected {expected_in}")
    elif not _matches(inputs[0], "uint8", (IMAGE_SIZE, IMAGE_SIZE)):
        problems.append(f"input {inputs[0].describe()} should be {expected_in}")
    if len(outputs) != 1:
        problems.append(f"has {len(outputs)} outputs, expected {expected_out}")
    elif not _matches(outputs[0], "float32", (NUM_CLASSES,)):
        problems.append(f"output {outputs[0].describe()} should be {expected_out}")
    return problems


def _matches(spec: TensorSpec, dtype: str, tail: tuple[int, ...]) -> bool:
    dynamic_batch = len(spec.shape) > 0 and not isinstance(spec.shape[0], int)
    return spec.dtype == dtype and dynamic_batch and spec.shape[1:] == tail
