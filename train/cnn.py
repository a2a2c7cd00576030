"""A small CNN for edge devices: three strided or unpadded convolutions, then a classifier.

Shapes for one image: (28, 28) -> (28, 28, 1) -> conv 5x5 / 2 -> (14, 14, f0) -> conv 3x3 / 2
-> (7, 7, f1) -> conv 3x3 valid -> (5, 5, f2) -> conv 5x5 valid, softmax -> (1, 1, 10) -> (10).
Each of the first three convolutions is followed by batch normalisation (folded into it at
export) and relu.

Why this shape: at batch 1,024 onnxruntime spends its time moving activations, not
multiplying, so the network never holds a full-size (28x28) map of many channels; there is
no pooling (the strides do the downsampling); and the first convolution, which sees one
input channel and is the least efficient kernel, is strided. The classifier is a 5x5
convolution over the last map: the same weights as Flatten -> Dense, but onnxruntime keeps
it in its blocked convolution layout, where a Flatten needs a transpose of every map
first. About 0.8 M multiply-adds and 40,000 weights per image with the default filters
(the MLP: 0.2 M and 203,530).
"""

import keras
from keras import layers

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.train.config import CnnConfig

NAME = "mnist_cnn"
CONVOLUTIONS = (  # (kernel, stride, padding) of each convolution, filters from the recipe
    (5, 2, "same"),
    (3, 2, "same"),
    (3, 1, "valid"),
)
CLASSIFIER_KERNEL = 5  # the last map's size: (28 -> 14 -> 7 -> 5)
DROPOUT = 0.2  # before the classifier, during training only
# Keras's default (0.99) needs a few hundred steps before the statistics used at inference
# settle: a quick run (--limit, CI's one epoch) would export a model that reads nothing.
BATCH_NORM_MOMENTUM = 0.9


def build_cnn(config: CnnConfig) -> keras.Model:
    """The network, not compiled (train/model.py compiles every architecture)."""
    stack: list[layers.Layer] = [
        keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE), name="image"),
        layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1)),
    ]
    for filters, (kernel, stride, padding) in zip(config.filters, CONVOLUTIONS, strict=True):
        stack += [
            layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False),
            layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM),
            layers.ReLU(),
        ]
    stack += [
        layers.Dropout(DROPOUT),
        layers.Conv2D(NUM_CLASSES, CLASSIFIER_KERNEL, activation="softmax"),  # (1, 1, 10)
        layers.Flatten(),
    ]
    return keras.Sequential(stack, name=NAME)
