"""parity.json: the export's summary written and read back unchanged, as plain JSON that other
tools can read by key (no TensorFlow needed: the summary module is plain data)."""

import json
from dataclasses import replace

import pytest

from mnist_edge.export.summary import (
    ExportSummary,
    Int8Result,
    ParityReport,
    read_summary,
    write_summary,
)

REPORTS = tuple(
    ParityReport(backend, 10000, 2.4e-7, 1.1e-9, 1.0, True)
    for backend in ("onnxruntime", "onnx-reference")
)
SUMMARY = ExportSummary(
    keras_model="build/model/model.keras",
    onnx_model="build/model/model.onnx",
    opset=17,
    images=10000,
    tolerance=1e-5,
    keras_test_accuracy=0.9779,
    backends=REPORTS,
    optimisations=("input scale (Div by pixel_max) folded into the weights of 'dense_1'",),
    readable_graph_backends=REPORTS,
)
INT8 = Int8Result(
    bytes=209_000,
    float_bytes=815_000,
    size_ratio=209_000 / 815_000,
    test_accuracy=0.9771,
    float_test_accuracy=0.9779,
    accuracy_drop_points=0.08,
    argmax_agreement_with_float=0.9968,
    size_rule=True,
    optimisations=(),
)


@pytest.mark.parametrize("summary", [SUMMARY, replace(SUMMARY, int8=INT8)], ids=["float", "int8"])
def test_read_back_as_written(tmp_path, summary):
    path = write_summary(tmp_path / "parity.json", summary)
    assert read_summary(path) == summary


def test_plain_json_by_key(tmp_path):
    """What a reader without mnist_edge sees: the keys parity.json has always had."""
    payload = json.loads(write_summary(tmp_path / "p.json", SUMMARY).read_text())
    assert "int8" not in payload  # no int8 model asked for
    assert payload["backends"][0] == {
        "backend": "onnxruntime",
        "images": 10000,
        "max_abs_diff": 2.4e-7,
        "mean_abs_diff": 1.1e-9,
        "argmax_agreement": 1.0,
        "passed": True,
    }
    with_int8 = json.loads(
        write_summary(tmp_path / "q.json", replace(SUMMARY, int8=INT8)).read_text()
    )
    assert with_int8["int8"]["size_ratio"] == INT8.size_ratio
    assert with_int8["int8"]["optimisations"] == []
