"""The model is the tutorial's, layer by layer, and compiled as the tutorial compiles it."""

import keras
import pytest

from mnist_edge.train.config import TrainConfig
from mnist_edge.train.model import build_model

pytestmark = pytest.mark.slow  # TensorFlow

TUTORIAL_PARAMETERS = 784 * 256 + 256 + 256 * 10 + 10  # 203,530


def test_architecture_matches_the_tutorial():
    model = build_model(TrainConfig())
    flatten, hidden, output = model.layers
    assert isinstance(flatten, keras.layers.Flatten)
    assert model.input_shape == (None, 28, 28)
    assert (hidden.units, hidden.activation.__name__) == (256, "relu")
    assert (output.units, output.activation.__name__) == (10, "softmax")
    assert model.count_params() == TUTORIAL_PARAMETERS


def test_compiled_as_the_tutorial():
    model = build_model(TrainConfig())
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(1e-3)
    assert model.loss == "sparse_categorical_crossentropy"
    assert model.get_compile_config()["metrics"] == ["accuracy"]


def test_defaults_are_the_tutorials_recipe():
    config = TrainConfig()
    assert (config.epochs, config.batch_size, config.hidden_units) == (8, 128, 256)
    assert config.optimizer == "rmsprop" and config.learning_rate is None


def test_options_change_the_model():
    model = build_model(TrainConfig(hidden_units=64, optimizer="adam", learning_rate=0.01))
    assert model.layers[1].units == 64
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.01)


@pytest.mark.parametrize(
    "bad", [{"epochs": 0}, {"optimizer": "lbfgs"}, {"learning_rate": -1.0}, {"train_limit": 0}]
)
def test_bad_recipe_is_refused(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)
