"""The export job: Keras model -> checked ONNX model (+ int8) -> parity.json."""

import os
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import onnx

from mnist_edge.core.contract import OPSET, OUTPUT_NAME
from mnist_edge.core.errors import ModelError
from mnist_edge.core.mnist import Mnist, load_mnist
from mnist_edge.export.convert import keras_to_onnx
from mnist_edge.export.metadata import architecture, build_metadata, set_metadata
from mnist_edge.export.optimise import optimise
from mnist_edge.export.parity import (
    MAX_ABS_DIFF,
    ParityError,
    measure_parity,
    require_parity,
    run_backend,
)
from mnist_edge.export.quantize import calibration_set, quantize_int8, record_accuracy
from mnist_edge.export.summary import ExportSummary, Int8Result, ParityReport, write_summary
from mnist_edge.train.model import scale_pixels

PARITY_FILE = "parity.json"
INT8_MAX_SIZE_RATIO = 0.30  # the int8 file is at most 30% of the float file
INT8_MAX_ACCURACY_DROP = 0.005  # and loses at most half a percentage point of test accuracy
# The size rule holds where weights are nearly the whole file (the MLP's 203,530). The small
# CNN has about 40,000, and a quantized graph carries a fixed cost that no weight count pays
# back (a scale and zero point per channel, a DequantizeLinear node per tensor, the same
# metadata as the float file): its int8 file is about a third of the float one however well
# it quantizes. So for the CNN the accuracy drop is the only gate (its file is ~55 KB).
INT8_SIZE_RULE = ("mlp",)


class QuantizationError(RuntimeError):
    """The int8 model misses its size or accuracy target."""


@dataclass(frozen=True)
class ExportResult:
    model: Path
    int8_model: Path | None
    parity: Path
    summary: ExportSummary  # what parity.json holds


def int8_path(model: Path) -> Path:
    return model.with_name(f"{model.stem}.int8{model.suffix}")


def export_model(
    keras_path: Path,
    output: Path,
    data: Path | None = None,
    int8: bool = False,
    opset: int = OPSET,
) -> ExportResult:
    """Convert, check, prove parity on the 10,000 test images, then (only then) write.

    On failure no model is left at the output paths, and parity.json says what failed.
    """
    model = load_keras(keras_path)
    mnist = load_mnist(data)
    expected = model.predict(scale_pixels(mnist.x_test), batch_size=1024, verbose=0)
    keras_accuracy = accuracy(expected, mnist.y_test)
    readable = keras_to_onnx(model, opset)
    set_metadata(readable, build_metadata(keras_path, model, keras_accuracy))
    onnx.checker.check_model(readable, full_check=True)
    readable_reports = measure_parity(readable.SerializeToString(), mnist.x_test, expected)
    proto, optimisations = optimise(readable)  # what is written: proven again below
    onnx.checker.check_model(proto, full_check=True)
    model_bytes = proto.SerializeToString()
    reports = measure_parity(model_bytes, mnist.x_test, expected)
    summary = ExportSummary(
        keras_model=str(keras_path),
        onnx_model=str(output),
        opset=opset,
        images=len(mnist.x_test),
        tolerance=MAX_ABS_DIFF,
        keras_test_accuracy=keras_accuracy,
        backends=tuple(reports),
        optimisations=tuple(optimisations),
        readable_graph_backends=tuple(readable_reports),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    parity_path = output.parent / PARITY_FILE
    try:
        require_parity(readable_reports)  # the converter's own graph: the reference
        require_optimised_parity(reports, optimisations)
        _write_atomically(output, model_bytes)
        if int8:
            quantized, measured = measure_int8(proto, model_bytes, mnist, architecture(model))
            summary = replace(summary, int8=measured)  # recorded even when it misses a target
            write_int8(quantized, measured, int8_path(output))
    except (ParityError, QuantizationError) as error:
        stale = [int8_path(output)] + ([output] if isinstance(error, ParityError) else [])
        for path in stale:
            path.unlink(missing_ok=True)
        raise
    finally:
        write_summary(parity_path, summary)
    return ExportResult(output, int8_path(output) if int8 else None, parity_path, summary)


def require_optimised_parity(reports: list[ParityReport], optimisations: list[str]) -> None:
    """The graph to be written keeps the readable graph's parity, or the error names the pass."""
    try:
        require_parity(reports)
    except ParityError as error:
        if not optimisations:
            raise
        raise ParityError(f"optimised graph ({'; '.join(optimisations)}): {error}") from None


def measure_int8(
    proto: onnx.ModelProto, float_bytes: bytes, mnist: Mnist, network: dict
) -> tuple[onnx.ModelProto, Int8Result]:
    """Quantize (calibrated on training images), optimise, note its test accuracy in its
    metadata; measured as it will be written (its targets not checked yet)."""
    int8_model, optimisations = optimise(quantize_int8(proto, calibration_set(mnist.x_train)))
    float_probs = _probabilities(float_bytes, mnist.x_test)
    int8_probs = _probabilities(int8_model.SerializeToString(), mnist.x_test)
    float_accuracy = accuracy(float_probs, mnist.y_test)
    int8_accuracy = accuracy(int8_probs, mnist.y_test)
    record_accuracy(int8_model, int8_accuracy)
    int8_size = int8_model.ByteSize()  # the file's size, the accuracy note included
    return int8_model, Int8Result(
        bytes=int8_size,
        float_bytes=len(float_bytes),
        size_ratio=int8_size / len(float_bytes),
        test_accuracy=int8_accuracy,
        float_test_accuracy=float_accuracy,
        accuracy_drop_points=100 * (float_accuracy - int8_accuracy),
        argmax_agreement_with_float=float(np.mean(int8_probs.argmax(1) == float_probs.argmax(1))),
        size_rule=network["name"] in INT8_SIZE_RULE,
        optimisations=tuple(optimisations),
    )


def write_int8(int8_model: onnx.ModelProto, measured: Int8Result, path: Path) -> None:
    """Check the targets, and only then write."""
    require_int8_targets(measured)
    _write_atomically(path, int8_model.SerializeToString())


def load_keras(path: Path) -> keras.Model:
    if not path.is_file():
        raise ModelError(f"{path}: no such model file (train one with `mnist-edge train`)")
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise ModelError(f"{path}: cannot load as a Keras model ({error})") from None


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def require_int8_targets(measured: Int8Result) -> None:
    """Raise QuantizationError when the int8 model misses a target (the size rule only for
    the architectures in INT8_SIZE_RULE)."""
    missed = []
    if measured.size_rule and measured.size_ratio > INT8_MAX_SIZE_RATIO:
        missed.append(f"size {measured.size_ratio:.0%} of the float model (target <= 30%)")
    if measured.accuracy_drop_points > 100 * INT8_MAX_ACCURACY_DROP:
        missed.append(f"accuracy drop {measured.accuracy_drop_points:.2f} points (target <= 0.5)")
    if missed:
        raise QuantizationError(f"int8 model not written: {'; '.join(missed)}")


def _probabilities(model: bytes, images: np.ndarray) -> np.ndarray:
    return run_backend("onnxruntime", model, images)[OUTPUT_NAME]


def _write_atomically(path: Path, payload: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(payload)
    os.replace(partial, path)
