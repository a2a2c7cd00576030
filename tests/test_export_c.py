"""mnist-edge export-c: C from the ONNX models. The generator's refusals, its memory plan and
its integer arithmetic are checked against independent computations here; the slow test
compiles the C with gcc and runs it beside onnxruntime. (make test-mcu does that on all
10,000 test images and on emulated Cortex-M boards.)"""

import hashlib
import json
import math
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnx
import pytest

from mnist_edge.core.contract import META_QUANTIZATION, META_TRAINING
from mnist_edge.core.errors import ModelError
from mnist_edge.export.c import arith
from mnist_edge.export.c.layers import Conv
from mnist_edge.export.c.lower import UnsupportedModel, lower
from mnist_edge.export.c.plan import plan
from mnist_edge.runtime import Predictor, catalog
from tests.conftest import ROOT

FLOAT_MAX_ABS_DIFF = 1e-5  # float models: largest |p_C - p_onnxruntime|
PARITY_IMAGES = 500
HARNESS = ROOT / "device" / "mcu"


def shipped(name: str) -> Path:
    return catalog.shipped_path(name)


@pytest.mark.parametrize("name", catalog.names())
def test_every_row_is_in_its_ring_slot_when_read_and_live_buffers_never_overlap(name):
    """Replay the schedule: write each produced row into its slot, check every row a step
    reads is still there, and that buffers in use at the same step share no byte."""
    model = lower(shipped(name))
    schedule = plan(model)
    slots = {tensor: [None] * buffer.rows for tensor, buffer in schedule.buffers.items()}
    for number, step in enumerate(schedule.steps):
        layer = model.layers[step.layer]
        for row in rows_read(layer, step):
            if layer.source.name in slots:
                ring = slots[layer.source.name]
                assert ring[row % len(ring)] == row, (name, step, row)
        for row in rows_written(layer, step):
            if layer.output.name in slots:
                ring = slots[layer.output.name]
                ring[row % len(ring)] = row
        alive = [b for b in schedule.buffers.values() if b.first <= number <= b.last]
        spans = sorted((b.offset, b.offset + b.bytes) for b in alive)
        assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))
    assert schedule.arena_bytes <= sum(b.bytes for b in schedule.buffers.values())


def rows_read(layer, step) -> list[int]:
    """The input rows a step needs, from the convolution's geometry."""
    height = layer.source.shape[0]
    if step.action == "run":
        return list(range(height)) if height > 1 else [0]
    if step.action == "add":
        return [step.source_row]
    if step.action == "row":
        top = step.row * layer.stride[0] - layer.pads[0]
        return [y for y in range(top, top + layer.weights.shape[1]) if 0 <= y < height]
    return []


def rows_written(layer, step) -> list[int]:
    if step.action == "run":
        return list(range(layer.output.shape[0]))
    return [step.row] if step.action in ("row", "finish") else []


def test_the_cnn_streams_its_convolutions_in_less_memory_than_its_largest_two_tensors():
    model = lower(shipped("cnn"))
    convs = [layer for layer in model.layers if isinstance(layer, Conv)]
    tensor_bytes = [4 * layer.output.size for layer in convs]  # float32
    largest_pair = max(a + b for a, b in zip(tensor_bytes, tensor_bytes[1:], strict=False))
    assert plan(model).arena_bytes < largest_pair / 2


@pytest.mark.parametrize("scale", [1.0, 7.1377926e-06 * 1 / 0.03529714, 0.25843507, 3.3e-3])
def test_a_requantization_multiplier_and_shift_are_exactly_the_float32_scale(scale):
    requant = arith.requantization(np.array([scale], np.float32))
    multiplier, shift = int(requant.multiplier[0]), int(requant.shift[0])
    assert 2**23 <= multiplier < 2**24
    assert Fraction(multiplier, 2**shift) == Fraction(float(np.float32(scale)))


def test_the_softmax_table_cannot_overflow_a_float32_sum():
    table = arith.softmax_table(0.25843507, length=10)
    assert np.all(np.isfinite(table)) and np.all(np.diff(table) > 0)
    assert 10 * float(table[-1]) < float(np.finfo(np.float32).max)
    assert math.isclose(table[254] / table[255], math.exp(-0.25843507), rel_tol=1e-6)


def test_an_unsupported_operator_is_refused_naming_the_node(tmp_path, cli):
    model = onnx.load(shipped("cnn"))
    node = next(node for node in model.graph.node if node.op_type == "Relu")
    node.op_type = "Sigmoid"
    path = tmp_path / "sigmoid.onnx"
    onnx.save(model, path)
    with pytest.raises(UnsupportedModel, match=f"node '{re.escape(node.name)}' \\(Sigmoid\\)"):
        lower(path)
    result = cli("export-c", path, "--output", tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "(Sigmoid): operator not supported" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_model_outside_the_contract_is_refused(tmp_path):
    model = onnx.load(shipped("mlp"))
    model.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    path = tmp_path / "float-input.onnx"
    onnx.save(model, path)
    with pytest.raises(ModelError, match="not an mnist-edge model"):
        lower(path)


def test_without_onnx_the_command_names_the_extra_to_install(cli, monkeypatch, tmp_path):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else find_spec(name)
    )
    result = cli("export-c", "mlp", "--output", tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "'export-c' needs the mcu extra (onnx not installed): pip install" in result.stderr
    assert "[mcu]'" in result.stderr


def test_an_unknown_model_name_is_a_usage_error(cli, tmp_path):
    result = cli("export-c", "lenet", "--output", tmp_path)
    assert result.returncode == 2 and "shipped: mlp, mlp.int8, cnn, cnn.int8" in result.stderr


@pytest.mark.parametrize("name", ["cnn.int8", "mlp"])
def test_the_header_records_the_model_it_came_from(name, cli, tmp_path):
    result = cli("export-c", name, "--output", tmp_path)
    assert result.returncode == 0
    header = (tmp_path / "mnist_model.h").read_text()
    path = shipped(name)
    metadata = {p.key: p.value for p in onnx.load(path).metadata_props}
    recorded = json.loads(metadata.get(META_QUANTIZATION, metadata[META_TRAINING]))
    constants = dict(re.findall(r"#define (MNIST_\w+) (.+)", header))
    assert constants["MNIST_MODEL_SHA256"] == f'"{hashlib.sha256(path.read_bytes()).hexdigest()}"'
    assert constants["MNIST_MODEL_NAME"] == f'"{path.stem}"'
    assert float(constants["MNIST_MODEL_TEST_ACCURACY"]) == pytest.approx(
        recorded["test_accuracy"], abs=1e-6
    )
    assert "int mnist_predict(const uint8_t image[784], float probabilities[10]);" in header
    source = (tmp_path / "mnist_model.c").read_text()
    assert "malloc" not in source and "#include <math.h>" not in source


@pytest.mark.slow
@pytest.mark.parametrize("name", catalog.names())
def test_the_c_compiled_for_the_host_gives_onnxruntimes_probabilities(name, cli, tmp_path, x_test):
    """gcc -O2 -Werror on the generated C and the example's main.c, 500 test images beside
    onnxruntime: int8 models bit for bit, float models within the parity tolerance."""
    assert shutil.which("gcc"), "gcc is needed (bash .ci/system-packages)"
    assert cli("export-c", name, "--output", tmp_path).returncode == 0
    sources = [HARNESS / "main.c", HARNESS / "board_host.c", tmp_path / "mnist_model.c"]
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{HARNESS}", f"-I{tmp_path}"]
    subprocess.run(["gcc", *flags, *map(str, sources), "-o", str(tmp_path / "host")], check=True)
    images = x_test[:PARITY_IMAGES]
    images.tofile(tmp_path / "mnist_images.bin")
    run = subprocess.run([tmp_path / "host"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    ours = np.fromfile(tmp_path / "mnist_probabilities.bin", np.float32).reshape(-1, 10)
    reference = Predictor(shipped(name)).predict(images)
    largest = float(np.abs(ours - reference).max())
    print(f"{name}: max |p_C - p_onnxruntime| {largest:.2e} on {len(images)} images")
    if name.endswith(".int8"):
        assert np.array_equal(ours, reference)
    else:
        assert largest <= FLOAT_MAX_ABS_DIFF
        assert np.array_equal(ours.argmax(1), reference.argmax(1))


@pytest.mark.parametrize("name", ["cnn", "cnn.int8"])
def test_a_softmax_over_an_axis_of_one_value_is_refused(name, tmp_path):
    """(1, 10, 1, 1) with axis 2: ten groups of one, each probability 1: not what the C's one
    softmax over ten values computes."""
    model = onnx.load(shipped(name))
    softmax = next(node for node in model.graph.node if node.op_type == "Softmax")
    softmax.attribute[0].i = 2
    path = tmp_path / "axis-2.onnx"
    onnx.save(model, path)
    with pytest.raises(UnsupportedModel, match="axis that holds all 10 values"):
        lower(path)
