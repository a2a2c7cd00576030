"""The CNN through the same exporter: the same contract, the same parity proof, int8 gated on
its accuracy (the size rule is the MLP's; export/run.py says why)."""

import keras
import numpy as np
import onnx
import pytest

from harness.targets import (
    CNN_INT8_MAX_BYTES,
    CNN_MAX_PARAMETERS,
    INT8_MAX_DROP,
    INT8_MAX_SIZE_RATIO,
)
from mnist_edge.core import contract
from mnist_edge.export.run import export_model
from mnist_edge.export.summary import read_summary
from mnist_edge.runtime import Predictor
from tests.conftest import ROOT
from tests.parity import assert_parity_report, assert_runtime_matches_keras

pytestmark = pytest.mark.slow  # TensorFlow
DATA = ROOT / "data" / "mnist.npz"


@pytest.fixture(scope="module")
def exported(short_cnn, tmp_path_factory):
    output = tmp_path_factory.mktemp("export-cnn") / "model.onnx"
    return export_model(short_cnn, output, data=DATA, int8=True)


def test_the_runtime_computes_what_keras_computes(exported, short_cnn, mnist):
    assert_runtime_matches_keras(exported.model, short_cnn, mnist)


def test_parity_report_on_all_test_images(exported):
    assert_parity_report(exported.parity)


def test_same_contract_and_named_for_its_architecture(exported, short_cnn):
    model = onnx.load(exported.model)
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert graph_input.name == "image"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert graph_output.name == "probabilities"
    assert [op.domain for op in model.opset_import] == [""]  # loads in older onnxruntime
    assert model.graph.name == "mnist_cnn" and "CNN" in model.doc_string
    assert "Conv" in {node.op_type for node in model.graph.node}
    assert "Transpose" not in {node.op_type for node in model.graph.node}  # no NHWC flatten
    props = {entry.key: entry.value for entry in model.metadata_props}
    network = contract.decode_metadata(props)[contract.META_ARCHITECTURE]
    parameters = keras.models.load_model(short_cnn, compile=False).count_params()
    assert network["name"] == "cnn" and network["parameters"] == parameters <= CNN_MAX_PARAMETERS
    assert network["layers"].startswith("Conv2D(16, 5x5, stride 2)")
    training = contract.decode_metadata(props)[contract.META_TRAINING]
    assert training["arch"] == "cnn" and training["augment"] is True


def test_int8_is_gated_on_accuracy_only(exported, mnist):
    """Written although it is over the MLP's size ratio (a fixed cost no small weight count
    pays back): only its accuracy, and the CNN's own byte budget, hold it back."""
    sizes = [path.stat().st_size for path in (exported.model, exported.int8_model)]
    accuracies = [
        float(np.mean(Predictor(path).predict(mnist.x_test).argmax(1) == mnist.y_test))
        for path in (exported.model, exported.int8_model)
    ]
    print(
        f"CNN int8: {sizes[1]:,} bytes, {sizes[1] / sizes[0]:.0%} of the float file, {accuracies}"
    )
    assert sizes[1] / sizes[0] > INT8_MAX_SIZE_RATIO and sizes[1] <= CNN_INT8_MAX_BYTES
    assert accuracies[0] - accuracies[1] <= INT8_MAX_DROP
    recorded = read_summary(exported.parity).int8  # parity.json tells what the files show
    assert (recorded.float_bytes, recorded.bytes) == tuple(sizes)
    int8 = Predictor(exported.int8_model)
    assert int8.metadata[contract.META_QUANTIZATION]["test_accuracy"] == pytest.approx(
        accuracies[1], abs=1e-6
    )
