"""Augmentation: seeded, digits kept whole and re-centred as the runtime centres them, each
distortion doing what it says, measured with NumPy rather than the code under test."""

import numpy as np
import pytest
import tensorflow as tf

from mnist_edge.train.augment import AugmentConfig, augment_batch, augmented_dataset

pytestmark = pytest.mark.slow  # TensorFlow

NONE = AugmentConfig(  # every distortion off: only the re-centring and peak remain
    rotation_degrees=0,
    shear=0,
    scale=(1, 1),
    aspect=0,
    shift_pixels=0,
    thickness_pixels=(0, 0),
    elastic_pixels=0,
)
CENTRE_TOLERANCE = 0.5 + 0.02  # whole-pixel placement, as the runtime's (MNIST's own: 0.52)
EDGE_INK = 0.05  # at most this share of a digit's ink on the image's edge (99% of digits)
DEFAULT = AugmentConfig()


def centres(images: np.ndarray) -> np.ndarray:
    """(N, 2) intensity-weighted (row, col) of each image, by NumPy."""
    grid = np.arange(images.shape[1])
    total = images.sum(axis=(1, 2))
    return np.stack(
        [(images.sum(axis=2) @ grid) / total, (images.sum(axis=1) @ grid) / total], axis=1
    )


def augment(images: np.ndarray, seed=(0, 0), config: AugmentConfig = DEFAULT) -> np.ndarray:
    pixels = tf.constant(images.astype(np.float32) / 255)
    return augment_batch(pixels, tf.constant(seed, tf.int64), config).numpy()


def test_same_seed_same_images_other_seed_other_images(x_test):
    first, again, other = (augment(x_test[:64], seed) for seed in ((1, 2), (1, 2), (1, 3)))
    assert np.array_equal(first, again)
    assert np.abs(first - other).mean() > 0.01


@pytest.mark.parametrize("shift", [0, 1])
def test_digits_stay_whole_centred_and_at_full_ink(x_test, shift):
    """Re-centred as the runtime centres (within half a pixel), then shifted by whole pixels."""
    images = augment(x_test[:1024], config=AugmentConfig(shift_pixels=shift))
    offsets = np.abs(centres(images) - 14.0).max(axis=1)
    print(f"shift {shift}: centre of mass 99% within {np.percentile(offsets, 99):.2f} px")
    assert np.percentile(offsets, 99) <= shift + CENTRE_TOLERANCE
    edges = images[:, [0, -1], :].sum(axis=(1, 2)) + images[:, :, [0, -1]].sum(axis=(1, 2))
    assert np.all(edges[offsets > shift + CENTRE_TOLERANCE] > 0)  # only digits cut at the edge
    cut = edges / images.sum(axis=(1, 2))  # the share of a digit's ink on the outermost pixels
    print(f"ink on the outermost pixels: {np.percentile(cut, 99):.1%} for 99% of digits")
    assert np.percentile(cut, 99) < EDGE_INK
    assert np.allclose(images.max(axis=(1, 2)), 1.0)
    assert np.array_equal(images, np.round(images * 255) / 255)  # uint8 levels, as at run time


def test_without_distortions_an_mnist_digit_is_nearly_unchanged(x_test):
    """MNIST digits are centred by mass already: only the sub-pixel phase (a bilinear
    resampling up to half a pixel off) and the whole-pixel re-centring remain."""
    images = augment(x_test[:256], config=NONE)
    difference = np.abs(images - x_test[:256] / 255).mean()
    print(f"mean |change| without distortions: {difference:.4f}")
    assert difference < 0.04


@pytest.mark.parametrize(("amount", "more_ink"), [(1.0, True), (-0.6, False)])
def test_stroke_thickness(x_test, amount, more_ink):
    config = AugmentConfig(**{**NONE.__dict__, "thickness_pixels": (amount, amount)})
    plain, changed = augment(x_test[:128], config=NONE), augment(x_test[:128], config=config)
    ink = (changed > 0.5).sum(axis=(1, 2)) / (plain > 0.5).sum(axis=(1, 2))
    print(f"thickness {amount:+}: ink area x{np.median(ink):.2f} (median)")
    assert (np.median(ink) > 1.3) if more_ink else (np.median(ink) < 0.8)


def test_rotation_turns_the_digit(mnist):
    """A '1' has a clear axis: it turns by the angle drawn (uniform in +-12 degrees)."""
    ones = mnist.x_test[mnist.y_test == 1][:128]
    config = AugmentConfig(**{**NONE.__dict__, "rotation_degrees": 12.0})
    plain, turned = augment(ones, config=NONE), augment(ones, config=config)
    angles = np.abs(axis_angle(turned) - axis_angle(plain))
    angles = np.minimum(angles, 180 - angles)
    print(f"rotated by {np.median(angles):.1f} degrees (median), at most {angles.max():.1f}")
    assert 3.0 < np.median(angles) < 9.0 and angles.max() < 14.0


def axis_angle(images: np.ndarray) -> np.ndarray:
    """Angle, in degrees, of each image's principal axis of ink (second moments)."""
    rows, cols = np.mgrid[: images.shape[1], : images.shape[2]]
    angles = []
    for image, (row, col) in zip(images, centres(images), strict=True):
        dr, dc = rows - row, cols - col
        mrr, mcc, mrc = (image * dr * dr).sum(), (image * dc * dc).sum(), (image * dr * dc).sum()
        angles.append(np.degrees(0.5 * np.arctan2(2 * mrc, mcc - mrr)) % 180)
    return np.array(angles)


def test_dataset_keeps_every_label_and_differs_each_epoch(mnist):
    images, labels = mnist.x_train[:512], mnist.y_train[:512]
    batches = list(augmented_dataset(images, labels, batch_size=128, epochs=2, seed=5))
    assert len(batches) == 8 and batches[0][0].shape == (128, 28, 28)
    first_epoch = np.concatenate([digits.numpy() for _, digits in batches[:4]])
    assert np.array_equal(np.sort(first_epoch), np.sort(labels))
    again = list(augmented_dataset(images, labels, batch_size=128, epochs=2, seed=5))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again, strict=True))
    assert not np.array_equal(batches[0][1], batches[4][1])  # reshuffled for epoch 2
