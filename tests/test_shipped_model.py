"""The models shipped inside the runtime package: they load, describe themselves, and work."""

import numpy as np

from harness.targets import (
    CNN_INT8_MAX_BYTES,
    CNN_INT8_MAX_DROP,
    CNN_MAX_PARAMETERS,
    CNN_TEST_ACCURACY,
    INT8_MAX_DROP,
    INT8_MAX_SIZE_RATIO,
    MLP_TEST_ACCURACY,
)
from mnist_edge.core.contract import (
    META_ARCHITECTURE,
    META_QUANTIZATION,
    META_SOURCE_SHA256,
    META_TRAINING,
)
from mnist_edge.runtime import Predictor


def accuracy(predictor: Predictor, mnist) -> float:
    return float(np.mean(predictor.predict(mnist.x_test).argmax(axis=1) == mnist.y_test))


def test_shipped_tutorial_model_reaches_the_target(mnist):
    predictor = Predictor("mlp")
    measured = accuracy(predictor, mnist)
    training = predictor.metadata[META_TRAINING]
    recorded = training["test_accuracy"]
    print(f"shipped tutorial MLP: {measured:.4f} on the test set (recorded {recorded})")
    assert measured >= MLP_TEST_ACCURACY
    assert measured == training["test_accuracy"]
    assert training["seed"] is not None and training["epochs"] == 8
    assert len(predictor.metadata[META_SOURCE_SHA256]) == 64


def test_shipped_tutorial_int8_model_is_small_and_close(mnist):
    float_model, int8_model = Predictor("mlp"), Predictor("mlp.int8")
    ratio = int8_model.model_path.stat().st_size / float_model.model_path.stat().st_size
    drop = accuracy(float_model, mnist) - accuracy(int8_model, mnist)
    print(f"int8: {ratio:.0%} of the float file, {100 * drop:.2f} points of accuracy lost")
    assert ratio <= INT8_MAX_SIZE_RATIO and drop <= INT8_MAX_DROP
    assert "calibration" in int8_model.metadata[META_QUANTIZATION]


def test_shipped_cnn_reaches_its_targets(mnist):
    float_model, int8_model = Predictor("cnn"), Predictor("cnn.int8")
    measured, measured_int8 = accuracy(float_model, mnist), accuracy(int8_model, mnist)
    training = float_model.metadata[META_TRAINING]
    size = int8_model.model_path.stat().st_size
    print(f"shipped CNN: {measured:.4f}, int8 {measured_int8:.4f} in {size:,} bytes")
    assert measured >= CNN_TEST_ACCURACY and measured == training["test_accuracy"]
    assert training["arch"] == "cnn" and training["augment"] is True and training["seed"] == 0
    assert float_model.metadata[META_ARCHITECTURE]["parameters"] <= CNN_MAX_PARAMETERS
    assert size <= CNN_INT8_MAX_BYTES and measured - measured_int8 <= CNN_INT8_MAX_DROP
    assert int8_model.metadata[META_QUANTIZATION]["test_accuracy"] == measured_int8
