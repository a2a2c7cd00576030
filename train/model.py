"""The tutorial's model: relu(dot(input, W) + b), then softmax over the ten digits."""

import keras
import numpy as np
from keras import layers

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.train.config import TrainConfig


def build_model(config: TrainConfig) -> keras.Model:
    """Flatten(28x28) -> Dense(hidden, relu) -> Dense(10, softmax), compiled as the tutorial."""
    model = keras.Sequential(
        [
            keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE), name="image"),
            layers.Flatten(),
            layers.Dense(config.hidden_units, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mnist_mlp",
    )
    model.compile(
        optimizer=make_optimizer(config),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer | str:
    """The optimizer by name (Keras defaults), or configured with the given learning rate."""
    if config.learning_rate is None:
        return config.optimizer
    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }
    return classes[config.optimizer](learning_rate=config.learning_rate)


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 pixels (N, 28, 28) -> float32 in [0, 1], exactly as the tutorial prepares them."""
    return images.astype("float32") / 255
