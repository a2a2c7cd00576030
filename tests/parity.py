"""The parity checks every exported architecture must pass, stated once."""

from pathlib import Path

import numpy as np

from harness.targets import PARITY_BACKENDS, PARITY_TOLERANCE, TEST_IMAGES
from mnist_edge.core.mnist import Mnist
from mnist_edge.export.summary import read_summary
from mnist_edge.runtime import Predictor


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
    """The exporter's parity.json held to the tests' own targets: both backends on all 10,000
    test images, every recorded difference within PARITY_TOLERANCE, the same digit everywhere,
    the exporter's gate no looser than the target; its own `passed` only has to agree."""
    summary = read_summary(parity_json)
    assert summary.images == TEST_IMAGES and summary.tolerance <= PARITY_TOLERANCE
    assert tuple(row.backend for row in summary.backends) == PARITY_BACKENDS
    for row in summary.backends:
        print(f"{row.backend}: max |diff| {row.max_abs_diff:.3g}")
        assert row.images == TEST_IMAGES
        assert row.max_abs_diff <= PARITY_TOLERANCE and row.argmax_agreement == 1.0
        assert row.passed  # the record says what its numbers say
