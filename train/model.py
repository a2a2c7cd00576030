"""The models: the tutorial's relu(dot(input, W) + b) then softmax, or the small CNN."""

import keras
import numpy as np
from keras import layers

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.train.config import CnnConfig, Recipe, TrainConfig

MNIST_TRAIN_IMAGES = 60_000


def build_model(config: Recipe, train_images: int = MNIST_TRAIN_IMAGES) -> keras.Model:
    """The recipe's network, compiled with its optimizer (`train_images` sets the CNN's
    learning-rate schedule, which spans the whole run)."""
    if isinstance(config, CnnConfig):
        from mnist_edge.train.cnn import build_cnn

        model = build_cnn(config)
    else:
        model = build_mlp(config)
    model.compile(
        optimizer=make_optimizer(config, train_images),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_mlp(config: TrainConfig) -> keras.Model:
    """Flatten(28x28) -> Dense(hidden, relu) -> Dense(10, softmax), as the tutorial."""
    return keras.Sequential(
        [
            keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE), name="image"),
            layers.Flatten(),
            layers.Dense(config.hidden_units, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mnist_mlp",
    )


def make_optimizer(config: Recipe, train_images: int) -> keras.optimizers.Optimizer | str:
    """The optimizer by name (Keras defaults), or with the given learning rate: constant for
    the MLP, along a cosine from the peak to 0 over the whole run for the CNN."""
    if config.learning_rate is None:
        return config.optimizer
    rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if isinstance(config, CnnConfig):
        steps = config.epochs * steps_per_epoch(train_images, config.batch_size)
        rate = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps)
    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }
    return classes[config.optimizer](learning_rate=rate)


def steps_per_epoch(train_images: int, batch_size: int) -> int:
    """Gradient steps in one pass (a last, smaller batch counts as one)."""
    return max(1, -(-train_images // batch_size))


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 pixels (N, 28, 28) -> float32 in [0, 1], exactly as the tutorial prepares them."""
    return images.astype("float32") / 255
