"""The model is the tutorial's, layer by layer, and compiled as the tutorial compiles it."""

import keras
import pytest

from harness.targets import CNN_MAX_PARAMETERS
from mnist_edge.train.config import CnnConfig, TrainConfig, recipe
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


def test_cnn_fits_the_budget_and_the_contract():
    from mnist_edge.train.cnn import CONVOLUTIONS

    model = build_model(CnnConfig())
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    print(f"CNN: {model.count_params():,} parameters")
    assert model.count_params() <= CNN_MAX_PARAMETERS
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
    assert [(c.filters, c.kernel_size[0], c.strides[0]) for c in convolutions] == [
        (filters, kernel, stride)
        for filters, (kernel, stride, _) in zip(CnnConfig().filters, CONVOLUTIONS, strict=True)
    ] + [(10, 5, 1)]  # the classifier: a 5x5 convolution over the last 5x5 map
    assert convolutions[-1].activation.__name__ == "softmax"


def test_cnn_learning_rate_falls_along_a_cosine():
    model = build_model(CnnConfig(epochs=2, learning_rate=0.01), train_images=1280)
    config = model.optimizer.get_config()["learning_rate"]  # 10 steps an epoch, 20 in all
    schedule = keras.optimizers.schedules.deserialize(config)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(10)) == pytest.approx(0.005)
    assert float(schedule(20)) == pytest.approx(0.0, abs=1e-9)


def test_recipes_by_architecture():
    assert recipe("mlp") == TrainConfig() and recipe("cnn") == CnnConfig()
    changed = recipe("cnn", epochs=3, learning_rate=None, augment=True)
    assert changed.epochs == 3 and changed.learning_rate == CnnConfig().learning_rate
    assert changed.augment and (recipe("mlp").arch, changed.arch) == ("mlp", "cnn")
    with pytest.raises(ValueError, match="architecture must be one of mlp, cnn"):
        recipe("resnet")
    with pytest.raises(ValueError, match="filters"):
        CnnConfig(filters=(8, 16))
