"""The parity checks every exported architecture must pass, stated once."""

from pathlib import Path

import numpy as np

from mnist_edge.core.mnist import Mnist
from mnist_edge.export.parity import BACKENDS, MAX_ABS_DIFF
from mnist_edge.export.summary import read_summary
from mnist_edge.runtime import Predictor
from tests.targets import PARITY_TOLERANCE


def assert_runtime_matches_keras(onnx_path: Path, keras_path: Path, mnist: Mnist) -> None:
    """Independent of the exporter's own check: the runtime's Predictor on the exported file
    against Keras on the tutorial's `x_test / 255`, all 10,000 test images."""
    import keras

    model = keras.models.load_model(keras_path, compile=False)
    runtime = Predictor(onnx_path).predict(mnist.x_test)
    expected = model.predict(mnist.x_test / 255, batch_size=1000, verbose=0)
    difference = np.abs(runtime.astype(np.float64) - expected).max()
    print(f"{keras_path.name}, runtime vs Keras on 10,000 test images: max |diff| {difference:.3g}")
    assert difference <= PARITY_TOLERANCE
    assert np.array_equal(runtime.argmax(axis=1), expected.argmax(axis=1))


def assert_parity_report(parity_json: Path) -> None:
    """The exporter's parity.json: every backend on all 10,000 test images, within tolerance,
    the same digit everywhere."""
    summary = read_summary(parity_json)
    assert summary.images == 10000 and summary.tolerance == MAX_ABS_DIFF
    assert [row.backend for row in summary.backends] == list(BACKENDS)
    for row in summary.backends:
        print(f"{row.backend}: max |diff| {row.max_abs_diff:.3g}")
        assert row.max_abs_diff <= MAX_ABS_DIFF
        assert row.argmax_agreement == 1.0 and row.passed
