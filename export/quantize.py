"""int8 model for small devices: onnxruntime static quantization, calibrated on training images."""

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)

from mnist_edge.core.contract import INPUT_NAME, META_QUANTIZATION
from mnist_edge.export.convert import keep_used_opsets
from mnist_edge.export.metadata import set_metadata

CALIBRATION_IMAGES = 1000  # training images, never test images
CALIBRATION_BATCH = 100
CALIBRATION_SEED = 0


class ImageBatches(CalibrationDataReader):
    """Feeds calibration batches to the quantizer, one dict per batch."""

    def __init__(self, images: np.ndarray) -> None:
        self._batches = iter(np.array_split(images, max(1, len(images) // CALIBRATION_BATCH)))

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {INPUT_NAME: batch}


def calibration_set(train_images: np.ndarray) -> np.ndarray:
    """A fixed random sample of the training images."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    picks = rng.choice(
        len(train_images), size=min(CALIBRATION_IMAGES, len(train_images)), replace=False
    )
    return np.ascontiguousarray(train_images[np.sort(picks)])


def quantize_int8(float_model: onnx.ModelProto, calibration: np.ndarray) -> onnx.ModelProto:
    """The int8 model, carrying the float model's metadata plus a note of how it was made."""
    with tempfile.TemporaryDirectory() as scratch:
        source, prepared, quantized = (Path(scratch) / f"{n}.onnx" for n in "spq")
        onnx.save(float_model, source)
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            ImageBatches(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
        )
        int8_model = onnx.load(quantized)
    keep_used_opsets(int8_model)
    method = {
        "weights": "int8, per output channel",
        "activations": "uint8, static (calibrated min/max)",
        "format": "QDQ",
        "calibration": f"{len(calibration)} training images (seed {CALIBRATION_SEED})",
    }
    metadata = {entry.key: entry.value for entry in float_model.metadata_props}
    set_metadata(int8_model, {**metadata, META_QUANTIZATION: json.dumps(method)})
    return int8_model


def record_accuracy(int8_model: onnx.ModelProto, test_accuracy: float) -> None:
    """Add the int8 model's own test accuracy, measured at export, to its quantization note."""
    for entry in int8_model.metadata_props:
        if entry.key == META_QUANTIZATION:
            method = json.loads(entry.value)
            entry.value = json.dumps({**method, "test_accuracy": round(test_accuracy, 6)})
