"""What an export measured, as parity.json holds it: one record, written once the export is
over (also when it failed), read back by `mnist-edge export`, the README's generator and
the tests. Plain data: importing this module loads neither onnx nor onnxruntime."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from mnist_edge.core.files import write_json


@dataclass(frozen=True)
class ParityReport:
    """One backend's outputs against Keras's on the same images."""

    backend: str
    images: int
    max_abs_diff: float
    mean_abs_diff: float
    argmax_agreement: float  # fraction of images whose predicted digit is the same
    passed: bool


@dataclass(frozen=True)
class Int8Result:
    """The int8 model beside its float twin, measured before its targets are checked."""

    bytes: int
    float_bytes: int
    size_ratio: float  # bytes / float_bytes
    test_accuracy: float
    float_test_accuracy: float
    accuracy_drop_points: float  # 100 * (float - int8) test accuracy
    argmax_agreement_with_float: float
    size_rule: bool  # whether the size target applied (export/run.py: INT8_SIZE_RULE)
    optimisations: tuple[str, ...]  # passes applied to the quantized graph


@dataclass(frozen=True)
class ExportSummary:
    """The whole export: parity of the graph written and of the readable one, and int8."""

    keras_model: str
    onnx_model: str
    opset: int
    images: int  # test images parity was measured on
    tolerance: float  # largest |p_keras - p_onnx| the exporter accepted
    keras_test_accuracy: float
    backends: tuple[ParityReport, ...]  # the graph written
    optimisations: tuple[str, ...]  # passes applied after the readable graph's parity
    readable_graph_backends: tuple[ParityReport, ...]  # the converter's own graph
    int8: Int8Result | None = None  # None: no int8 model asked for, or not reached


def write_summary(path: Path, summary: ExportSummary) -> Path:
    """parity.json: the summary as strict JSON (no "int8" key when there is none)."""
    payload = asdict(summary)
    if summary.int8 is None:
        del payload["int8"]
    return write_json(path, payload)


def read_summary(path: Path) -> ExportSummary:
    """The summary in a parity.json written by write_summary."""
    payload = json.loads(path.read_text())
    payload["backends"] = _reports(payload["backends"])
    payload["optimisations"] = tuple(payload["optimisations"])
    payload["readable_graph_backends"] = _reports(payload["readable_graph_backends"])
    int8 = payload.pop("int8", None)
    return ExportSummary(**payload, int8=None if int8 is None else _int8(int8))


def _reports(rows: list[dict]) -> tuple[ParityReport, ...]:
    return tuple(ParityReport(**row) for row in rows)


def _int8(figures: dict) -> Int8Result:
    return Int8Result(**figures | {"optimisations": tuple(figures["optimisations"])})
