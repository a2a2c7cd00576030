"""The non-MNIST digit set (fonts and pen strokes): fixed, balanced, in MNIST format, and
read better by the shipped CNN than by the tutorial's MLP."""

from pathlib import Path

import numpy as np
import pytest

from harness import other_digits as other
from mnist_edge.runtime import Predictor

pytestmark = pytest.mark.slow  # 1,800 digits drawn and preprocessed

CENTRE_TOLERANCE = 0.6  # the runtime places the centre of mass within half a pixel
CNN_AHEAD_POINTS = 3.0  # the CNN (augmented) reads these at least this much better
CNN_AT_LEAST = 0.97


@pytest.fixture(scope="module")
def digits() -> other.OtherDigits:
    return other.other_digits()


def test_a_fixed_balanced_set(digits):
    assert len(digits.images) == other.COUNT >= 1000
    assert digits.images.shape[1:] == (28, 28) and digits.images.dtype == np.uint8
    for kind in other.KINDS:
        counts = np.bincount(digits.labels[digits.kinds == kind], minlength=10)
        assert counts.tolist() == [other.COUNT // 30] * 10
    again = other.other_digits(count=90)
    assert np.array_equal(again.images, digits.images[:90])  # the same seed, the same set


def test_in_mnist_format(digits):
    grid = np.arange(28)
    mass = digits.images.astype(np.float64)
    total = mass.sum(axis=(1, 2))
    rows = (mass.sum(axis=2) @ grid) / total
    cols = (mass.sum(axis=1) @ grid) / total
    assert np.abs(rows - 14).max() <= CENTRE_TOLERANCE
    assert np.abs(cols - 14).max() <= CENTRE_TOLERANCE
    assert (digits.images.max(axis=(1, 2)) == 255).all()


def test_ci_installs_every_font_package():
    listed = (Path(__file__).parents[1] / ".ci" / "system-packages").read_text().split()
    assert set(other.FONT_PACKAGES) <= set(listed)


def test_a_missing_font_names_its_package(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(other, "FONT_ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install fonts-"):
        other.other_digits(count=3)


def test_the_cnn_reads_them_better_than_the_tutorials_mlp(digits):
    mlp, cnn = (other.other_score(Predictor(name), digits) for name in ("mlp", "cnn"))
    for name, score in (("mlp", mlp), ("cnn", cnn)):
        kinds = ", ".join(f"{kind} {score[kind]:.1%}" for kind in other.KINDS)
        print(f"{name}: {score['all']:.2%} ({kinds})")
    assert cnn["all"] >= CNN_AT_LEAST
    assert 100 * (cnn["all"] - mlp["all"]) >= CNN_AHEAD_POINTS
