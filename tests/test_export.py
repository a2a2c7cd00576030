"""Export: a clean, self-describing ONNX graph that computes what Keras computes."""

import hashlib
import json

import keras
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from harness.targets import INT8_MAX_DROP, INT8_MAX_SIZE_RATIO, PARITY_BACKENDS, PARITY_TOLERANCE
from mnist_edge.core import contract
from mnist_edge.export import run as export_run
from mnist_edge.export.parity import ParityError, measure_parity, require_parity, run_backend
from mnist_edge.export.run import export_model, int8_path
from mnist_edge.export.summary import read_summary
from mnist_edge.runtime import Predictor
from mnist_edge.train.model import scale_pixels
from tests.conftest import ROOT
from tests.parity import assert_parity_report, assert_runtime_matches_keras

pytestmark = pytest.mark.slow  # TensorFlow
DATA = ROOT / "data" / "mnist.npz"
ONE_IMAGE = 1e-4  # of 10,000: accuracies measured by two onnxruntime sessions may differ by one


def largest_difference(model: bytes, images: np.ndarray, expected: np.ndarray) -> float:
    """Measured here, not by the exporter's checker: |p_onnx - p_keras| over both backends."""
    outputs = [run_backend(b, model, images)["probabilities"] for b in PARITY_BACKENDS]
    assert all(output.shape == expected.shape for output in outputs)
    return max(float(np.abs(output - expected).max(initial=0.0)) for output in outputs)


@pytest.fixture(scope="module")
def exported(short_model, tmp_path_factory):
    output = tmp_path_factory.mktemp("export") / "model.onnx"
    return export_model(short_model, output, data=DATA, int8=True)


@pytest.fixture(scope="module")
def keras_model(short_model):
    return keras.models.load_model(short_model, compile=False)


def test_the_runtime_computes_what_keras_computes(exported, short_model, mnist):
    assert_runtime_matches_keras(exported.model, short_model, mnist)


def test_parity_report_on_all_test_images(exported):
    assert_parity_report(exported.parity)


def test_graph_is_clean_and_self_describing(exported):
    model = onnx.load(exported.model)
    onnx.checker.check_model(model, full_check=True)
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    assert graph_input.name == "image"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim] == [
        "batch",
        28,
        28,
    ]
    assert graph_output.name == "probabilities"
    assert [d.dim_param or d.dim_value for d in graph_output.type.tensor_type.shape.dim] == [
        "batch",
        10,
    ]
    assert [(op.domain, op.version) for op in model.opset_import] == [("", 17)]
    # the tutorial's `/ 255` is folded into the first layer's weights once parity is proven
    assert [node.op_type for node in model.graph.node][:2] == ["Cast", "Reshape"]
    assert "Div" not in {node.op_type for node in model.graph.node}


def test_optimisations_are_recorded_and_proven_on_both_graphs(exported):
    """The readable graph (with its own `/ 255` node) is the reference: parity is proven on it
    first, then again on the optimised graph that is written."""
    summary = read_summary(exported.parity)
    props = {entry.key: entry.value for entry in onnx.load(exported.model).metadata_props}
    recorded = json.loads(props[contract.META_OPTIMISATIONS])
    print(recorded, summary.int8.optimisations)
    assert recorded == list(summary.optimisations) and "folded" in recorded[0]
    for row in summary.readable_graph_backends + summary.backends:
        assert row.max_abs_diff <= PARITY_TOLERANCE and row.argmax_agreement == 1.0
    int8 = {entry.key: entry.value for entry in onnx.load(exported.int8_model).metadata_props}
    int8_recorded = json.loads(int8[contract.META_OPTIMISATIONS])
    assert int8_recorded == recorded + list(summary.int8.optimisations)


def test_metadata_describes_the_model(exported, short_model):
    props = {entry.key: entry.value for entry in onnx.load(exported.model).metadata_props}
    meta = contract.decode_metadata(props)
    assert meta[contract.META_LABELS] == [str(d) for d in range(10)]
    assert meta[contract.META_INPUT]["dtype"] == "uint8"
    assert "light digit on dark" in meta[contract.META_INPUT]["polarity"]
    assert "centre of mass" in meta[contract.META_PREPROCESSING]
    training = meta[contract.META_TRAINING]
    assert training["epochs"] == 1 and training["seed"] == 0 and training["train_images"] == 6000
    assert training["test_accuracy"] > 0.85
    assert meta[contract.META_SOURCE_SHA256] == hashlib.sha256(short_model.read_bytes()).hexdigest()
    assert set(meta[contract.META_VERSIONS]) >= {"tensorflow", "keras", "tf2onnx", "onnx"}
    assert meta[contract.META_ARCHITECTURE] == {
        "name": "mlp",
        "parameters": 784 * 256 + 256 + 256 * 10 + 10,
        "layers": "Flatten -> Dense(256, relu) -> Dense(10, softmax)",
    }
    assert training["arch"] == "mlp" and training["augment"] is False
    model = onnx.load(exported.model)
    assert model.graph.name == "mnist_mlp" and "(MLP: Flatten" in model.doc_string


@pytest.mark.parametrize(
    "images",
    [
        pytest.param(np.zeros((1, 28, 28), np.uint8), id="one all-black image"),
        pytest.param(np.full((1, 28, 28), 255, np.uint8), id="one all-white image"),
        pytest.param(np.zeros((0, 28, 28), np.uint8), id="empty batch"),
    ],
)
def test_parity_on_edge_cases(exported, keras_model, images):
    expected = (
        keras_model.predict(scale_pixels(images), verbose=0)
        if len(images)
        else np.zeros((0, 10), np.float32)
    )
    assert largest_difference(exported.model.read_bytes(), images, expected) <= PARITY_TOLERANCE
    reports = measure_parity(exported.model.read_bytes(), images, expected)
    assert all(report.images == len(images) and report.passed for report in reports)


def test_parity_on_a_batch_of_one_test_image(exported, keras_model, x_test):
    image = x_test[99:100]
    expected = keras_model.predict(scale_pixels(image), verbose=0)
    assert largest_difference(exported.model.read_bytes(), image, expected) <= PARITY_TOLERANCE


def test_a_wrong_model_fails_parity(exported, x_test, keras_model):
    model = onnx.load(exported.model)
    bias = next(t for t in model.graph.initializer if numpy_helper.to_array(t).shape == (10,))
    nudged = numpy_helper.to_array(bias).copy()
    nudged[3] += 1e-3  # one logit only: a shift of all of them would cancel in the softmax
    bias.CopyFrom(numpy_helper.from_array(nudged, bias.name))
    expected = keras_model.predict(scale_pixels(x_test[:500]), verbose=0)
    wrong = largest_difference(model.SerializeToString(), x_test[:500], expected)
    print(f"nudged model: max |diff| {wrong:.3g}")
    assert wrong > PARITY_TOLERANCE  # the model really is wrong, measured here
    reports = measure_parity(model.SerializeToString(), x_test[:500], expected)
    assert not any(report.passed for report in reports)
    with pytest.raises(ParityError, match="differs from Keras by up to"):
        require_parity(reports)


def test_failed_parity_leaves_no_model(short_model, tmp_path, monkeypatch):
    """A converter that gets the maths wrong must not leave a model.onnx behind."""
    convert = export_run.keras_to_onnx

    def off_by_a_little(model, opset):
        proto = convert(model, opset)
        scale = next(t for t in proto.graph.initializer if t.name == "pixel_max")
        scale.CopyFrom(numpy_helper.from_array(np.array(254, np.float32), "pixel_max"))
        return proto

    monkeypatch.setattr(export_run, "keras_to_onnx", off_by_a_little)
    output = tmp_path / "model.onnx"
    output.write_bytes(b"an older export")
    with pytest.raises(ParityError):
        export_model(short_model, output, data=DATA, int8=True)
    assert not output.exists() and not int8_path(output).exists()
    summary = read_summary(tmp_path / "parity.json")
    assert all(row.max_abs_diff > PARITY_TOLERANCE for row in summary.backends)
    assert not any(row.passed for row in summary.backends)


def test_int8_model_is_small_and_accurate(exported, mnist):
    sizes = [path.stat().st_size for path in (exported.int8_model, exported.model)]
    accuracies = [
        float(np.mean(Predictor(path).predict(mnist.x_test).argmax(1) == mnist.y_test))
        for path in (exported.int8_model, exported.model)
    ]
    print(f"int8: {sizes[0] / sizes[1]:.0%} of the float size, accuracy {accuracies}")
    assert sizes[0] / sizes[1] <= INT8_MAX_SIZE_RATIO
    assert accuracies[1] - accuracies[0] <= INT8_MAX_DROP
    recorded = read_summary(exported.parity).int8  # parity.json tells what the files show
    assert (recorded.bytes, recorded.float_bytes) == tuple(sizes)
    assert recorded.test_accuracy == pytest.approx(accuracies[0], abs=ONE_IMAGE)
    assert recorded.float_test_accuracy == pytest.approx(accuracies[1], abs=ONE_IMAGE)
    int8 = onnx.load(exported.int8_model)
    props = {entry.key: entry.value for entry in int8.metadata_props}
    float_props = {entry.key: entry.value for entry in onnx.load(exported.model).metadata_props}
    inherited = set(float_props) - {contract.META_OPTIMISATIONS}  # int8 adds its own passes
    assert {k: props[k] for k in inherited} == {k: float_props[k] for k in inherited}
    assert "training images" in json.loads(props[contract.META_QUANTIZATION])["calibration"]


def test_an_optimisation_that_changes_the_maths_leaves_no_model(short_model, tmp_path, monkeypatch):
    """The optimised graph is proven again: a pass that got it wrong is named, nothing written."""
    optimise = export_run.optimise

    def folded_wrongly(proto):
        optimised, applied = optimise(proto)
        weights = max(optimised.graph.initializer, key=lambda tensor: len(tensor.raw_data))
        wrong = numpy_helper.to_array(weights) * 1.01  # a scale folded in 1% off
        weights.CopyFrom(numpy_helper.from_array(wrong, weights.name))
        return optimised, applied

    monkeypatch.setattr(export_run, "optimise", folded_wrongly)
    output = tmp_path / "model.onnx"
    with pytest.raises(ParityError, match=r"optimised graph \(input scale .* folded"):
        export_model(short_model, output, data=DATA)
    assert not output.exists()
    summary = read_summary(tmp_path / "parity.json")
    assert all(row.max_abs_diff <= PARITY_TOLERANCE for row in summary.readable_graph_backends)
    assert all(row.max_abs_diff > PARITY_TOLERANCE for row in summary.backends)
