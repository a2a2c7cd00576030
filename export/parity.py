"""Prove that an ONNX model computes what the Keras model computes.

Compare output names, then shapes, then values; report the largest absolute difference.
Two independent ONNX implementations are checked: onnxruntime, and onnx's reference
evaluator (pure NumPy), so that parity is a property of the model, not of one runtime.
"""

import numpy as np
import onnx
import onnxruntime
from onnx.reference import ReferenceEvaluator

from mnist_edge.core.contract import INPUT_NAME, OUTPUT_NAME
from mnist_edge.export.summary import ParityReport

MAX_ABS_DIFF = 1e-5  # largest |p_keras - p_onnx| accepted on any probability
BACKENDS = ("onnxruntime", "onnx-reference")


class ParityError(RuntimeError):
    """The ONNX model does not compute what the Keras model computes."""


def run_backend(backend: str, model: bytes, images: np.ndarray) -> dict[str, np.ndarray]:
    """All outputs of the serialized `model` on uint8 `images`, by output name."""
    if backend == "onnxruntime":
        session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]
        return dict(zip(names, session.run(None, {INPUT_NAME: images}), strict=True))
    if backend == "onnx-reference":
        evaluator = ReferenceEvaluator(onnx.load_from_string(model))
        return dict(
            zip(evaluator.output_names, evaluator.run(None, {INPUT_NAME: images}), strict=True)
        )
    raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


def compare(backend: str, expected: np.ndarray, outputs: dict[str, np.ndarray]) -> ParityReport:
    """Check names, then shapes, then values of `outputs` against Keras's probabilities."""
    if list(outputs) != [OUTPUT_NAME]:
        raise ParityError(f"{backend}: outputs {list(outputs)}, expected ['{OUTPUT_NAME}']")
    actual = outputs[OUTPUT_NAME]
    if actual.shape != expected.shape:
        raise ParityError(
            f"{backend}: output '{OUTPUT_NAME}' has shape {actual.shape}, "
            f"Keras gives {expected.shape}"
        )
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    images = len(expected)
    agreement = float(np.mean(actual.argmax(1) == expected.argmax(1))) if images else 1.0
    max_diff = float(diff.max()) if diff.size else 0.0
    return ParityReport(
        backend=backend,
        images=images,
        max_abs_diff=max_diff,
        mean_abs_diff=float(diff.mean()) if diff.size else 0.0,
        argmax_agreement=agreement,
        passed=max_diff <= MAX_ABS_DIFF and agreement == 1.0,
    )


def measure_parity(model: bytes, images: np.ndarray, expected: np.ndarray) -> list[ParityReport]:
    """Parity of the serialized ONNX `model` with Keras's `expected` output, on every backend."""
    return [compare(b, expected, run_backend(b, model, images)) for b in BACKENDS]


def require_parity(reports: list[ParityReport]) -> None:
    """Raise ParityError naming the first backend that failed."""
    for report in reports:
        if not report.passed:
            raise ParityError(
                f"{report.backend}: output '{OUTPUT_NAME}' differs from Keras by up to "
                f"{report.max_abs_diff:.3g} (tolerance {MAX_ABS_DIFF:g}); predicted digit agrees "
                f"on {report.argmax_agreement:.2%} of {report.images} images"
            )
