"""Digits not in MNIST format are read nearly as well as MNIST itself."""

import io

import numpy as np
import pytest
from PIL import Image

from mnist_edge.runtime import Predictor
from mnist_edge.runtime.preprocess import to_mnist
from tests.wild_digits import KINDS, wild_set

COUNT = 2000  # digits from the test split, 500 of each kind
TARGET = 0.95


@pytest.fixture(scope="module")
def wild(mnist):
    return wild_set(mnist.x_test, COUNT, seed=0)


def saved_and_reopened(picture: Image.Image) -> Image.Image:
    """Through a real file encoding, as users' files arrive."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG" if picture.format == "JPEG" else "PNG")
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_wild_digits_are_read_nearly_as_well_as_mnist(wild, mnist):
    predictor = Predictor()
    labels = np.array([mnist.y_test[index] for index, _, _ in wild])
    kinds = np.array([kind for _, kind, _ in wild])
    images = np.stack([to_mnist(saved_and_reopened(picture)) for _, _, picture in wild])
    correct = predictor.predict(images).argmax(axis=1) == labels
    clean = predictor.predict(mnist.x_test[[index for index, _, _ in wild]]).argmax(axis=1)
    naive = np.stack([np.asarray(picture.convert("L").resize((28, 28))) for _, _, picture in wild])
    naive_correct = predictor.predict(naive).argmax(axis=1) == labels
    print(
        f"\nwild digits: {correct.mean():.2%} (same digits in MNIST form: "
        f"{(clean == labels).mean():.2%}; plain resize: {naive_correct.mean():.2%})"
    )
    for kind in KINDS:
        print(f"  {kind}: {correct[kinds == kind].mean():.2%}")
    assert correct.mean() >= TARGET
    assert naive_correct.mean() < 0.5  # the preprocessing is what makes the difference
