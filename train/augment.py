"""On-the-fly augmentation for training: MNIST digits made to vary the way real digits do.

Real digits (thick marker strokes, thin pen strokes, slanted, drawn on a phone) differ from
MNIST in stroke width, slant, proportions and wobble; the runtime's preprocessing removes
the rest (polarity, paper, size, position). So each training image, in the tf.data input
pipeline and never in the exported model, gets:

- a stroke thickness change: grey erosion (thinner) or dilation (thicker), by a fraction
  of a pixel up to one and a half;
- an elastic distortion (Simard et al., 2003): a smooth random displacement field;
- a small rotation, shear, scale (and change of aspect) about its centre of mass, which
  lands within half a pixel of (14, 14), so that digits sit at every sub-pixel position;
- re-centring as the runtime's preprocessing does: moved by whole pixels to put the centre
  of mass at (14, 14) to the nearest pixel; then a shift of up to a whole pixel each way
  (stray ink or a loose crop moves a digit's centre that much at run time); peak back to
  full ink.

Affine map and elastic field are applied in one bilinear resampling, so a digit is blurred
once (the re-centring moves whole pixels). Every random draw is a stateless op seeded by
(seed, batch number): the same seed gives the same images in every run, whatever the
pipeline's parallelism.
"""

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from mnist_edge.core.contract import IMAGE_SIZE

CENTRE = IMAGE_SIZE / 2  # 14.0: where the runtime puts the centre of mass (pixel indices)


@dataclass(frozen=True)
class AugmentConfig:
    rotation_degrees: float = 12.0  # uniform in +-: how far real digits lean
    shear: float = 0.25  # horizontal shear factor in +-: slanted handwriting (about 14 degrees)
    scale: tuple[float, float] = (0.85, 1.1)  # size against MNIST's 20-pixel box
    aspect: float = 0.15  # log of width/height change in +-: narrow and wide writing
    shift_pixels: int = 1  # whole pixels, each way, after re-centring
    thickness_pixels: tuple[float, float] = (-0.7, 1.5)  # stroke change: < 0 thinner, > 0 thicker
    elastic_pixels: float = 1.2  # largest typical (rms) displacement of the elastic field
    elastic_smoothness: float = 4.0  # sigma, in pixels, of the field's Gaussian smoothing


def augment_batch(
    images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig = AugmentConfig()
) -> tf.Tensor:
    """float32 (B, 28, 28) in [0, 1] -> the same digits, distorted; `seed`: int (2,)."""
    seeds = tf.random.experimental.stateless_split(seed, num=4)
    batch = tf.shape(images)[0]
    images = stroke_thickness(images, seeds[0], config)
    rows, cols = affine_grid(images, seeds[1], config)
    d_rows, d_cols = elastic_field(batch, seeds[2], config)
    shifts = tf.random.stateless_uniform(
        [2, batch], seeds[3], -config.shift_pixels, config.shift_pixels + 1, dtype=tf.int32
    )
    images = recentred(bilinear_sample(images, rows + d_rows, cols + d_cols), shifts)
    peak = tf.reduce_max(images, axis=(1, 2), keepdims=True)
    images = images / tf.maximum(peak, 1e-6)  # brightest pixel full ink, as the runtime does
    return tf.round(images * 255) / 255  # the model receives uint8 levels


def recentred(images: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
    """Each image moved by whole pixels to put its centre of mass at (14, 14), to the nearest
    pixel, as the runtime places a digit, then by `shifts` (2, B) more whole pixels (down,
    right). Whole pixels: no resampling."""
    rows, cols = centre_of_mass(images)
    grid = tf.range(IMAGE_SIZE, dtype=tf.float32)
    shifts = tf.cast(shifts, tf.float32)
    down = (tf.floor(CENTRE - rows + 0.5) + shifts[0])[:, None, None]
    right = (tf.floor(CENTRE - cols + 0.5) + shifts[1])[:, None, None]
    shape = tf.shape(images)
    read_rows = tf.broadcast_to(grid[None, :, None] - down, shape)
    read_cols = tf.broadcast_to(grid[None, None, :] - right, shape)
    return bilinear_sample(images, read_rows, read_cols)


def stroke_thickness(images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Grey dilation or erosion with a 3x3 cross, blended: `amount` pixels (fractional)."""
    low, high = config.thickness_pixels
    amount = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1], seed, low, high)
    thicker = grey_morphology(images, tf.maximum, steps=2)
    once = grey_morphology(images, tf.maximum, steps=1)
    thinner = grey_morphology(images, tf.minimum, steps=1)
    grown = tf.where(
        amount > 1, once + (amount - 1) * (thicker - once), images + amount * (once - images)
    )
    shrunk = images + (-amount) * (thinner - images)
    result = tf.where(amount >= 0, grown, shrunk)
    peak = tf.reduce_max(result, axis=(1, 2), keepdims=True)
    original_peak = tf.reduce_max(images, axis=(1, 2), keepdims=True)
    return tf.where(peak > 0.2 * original_peak, result, images)  # never erase a digit


def grey_morphology(images: tf.Tensor, combine, steps: int) -> tf.Tensor:
    """`steps` grey dilations (combine=tf.maximum) or erosions (tf.minimum) by a 3x3 cross."""
    for _ in range(steps):
        padded = tf.pad(images, [[0, 0], [1, 1], [1, 1]])
        size = IMAGE_SIZE
        neighbours = [
            padded[:, 1 + dr : 1 + dr + size, 1 + dc : 1 + dc + size]
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
        ]
        for neighbour in neighbours:
            images = combine(images, neighbour)
    return images


def affine_grid(images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig):
    """For each output pixel, where to read the input: rotation, shear and scale about the
    input's centre of mass, which lands within half a pixel of (14, 14). (B, 28, 28) twice."""
    draws = tf.random.stateless_uniform([6, tf.shape(images)[0]], seed, -1.0, 1.0)
    phase_rows, phase_cols = draws[4] / 2, draws[5] / 2  # sub-pixel: whole pixels come later
    inverse = tf.linalg.inv(random_affine(draws[:4], config))
    centre_rows, centre_cols = centre_of_mass(images)
    grid = tf.range(IMAGE_SIZE, dtype=tf.float32)
    out_rows = grid[None, :, None] - (CENTRE + phase_rows)[:, None, None]
    out_cols = grid[None, None, :] - (CENTRE + phase_cols)[:, None, None]
    rows = centre_rows[:, None, None] + inverse[:, 0, 0, None, None] * out_rows
    rows += inverse[:, 0, 1, None, None] * out_cols
    cols = centre_cols[:, None, None] + inverse[:, 1, 0, None, None] * out_rows
    cols += inverse[:, 1, 1, None, None] * out_cols
    return rows, cols


def random_affine(draws: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """(B, 2, 2) maps of an offset from the centre of mass, (row, col), in the input to one in
    the output: rotate . shear . scale, from four (B,) draws uniform in [-1, 1]."""
    angle = draws[0] * math.radians(config.rotation_degrees)
    shear = draws[1] * config.shear
    low, high = config.scale
    scale = low + (draws[2] + 1) / 2 * (high - low)
    aspect = tf.exp(draws[3] * config.aspect)
    ones, zeros = tf.ones_like(angle), tf.zeros_like(angle)
    cos, sin = tf.cos(angle), tf.sin(angle)
    rotate = matrices(cos, -sin, sin, cos)
    slant = matrices(ones, zeros, shear, ones)  # column moves with row: a leaning digit
    resize = matrices(scale / tf.sqrt(aspect), zeros, zeros, scale * tf.sqrt(aspect))
    return rotate @ slant @ resize


def matrices(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) -> tf.Tensor:
    """(B, 2, 2) matrices [[a, b], [c, d]] from four (B,) tensors."""
    return tf.reshape(tf.stack([a, b, c, d], axis=-1), [-1, 2, 2])


def centre_of_mass(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Intensity-weighted (row, column) of each image, in pixel indices. (B,) twice."""
    grid = tf.range(IMAGE_SIZE, dtype=tf.float32)
    total = tf.maximum(tf.reduce_sum(images, axis=(1, 2)), 1e-6)
    rows = tf.reduce_sum(tf.reduce_sum(images, axis=2) * grid, axis=1) / total
    cols = tf.reduce_sum(tf.reduce_sum(images, axis=1) * grid, axis=1) / total
    return rows, cols


def elastic_field(batch: tf.Tensor, seed: tf.Tensor, config: AugmentConfig):
    """A smooth random displacement (rows, cols), each (B, 28, 28), of rms strength drawn
    uniformly up to `elastic_pixels` per image."""
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    noise = tf.random.stateless_uniform([batch, IMAGE_SIZE, IMAGE_SIZE, 2], seeds[0], -1.0, 1.0)
    smooth = gaussian_blur(noise, config.elastic_smoothness)
    rms = tf.sqrt(tf.reduce_mean(tf.square(smooth), axis=(1, 2, 3), keepdims=True))
    strength = tf.random.stateless_uniform([batch, 1, 1, 1], seeds[1], 0.0, config.elastic_pixels)
    field = smooth / tf.maximum(rms, 1e-6) * strength
    return field[..., 0], field[..., 1]


def gaussian_blur(images: tf.Tensor, sigma: float) -> tf.Tensor:
    """Separable Gaussian smoothing of (B, H, W, C), each channel on its own."""
    radius = int(math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = tf.constant(taps / taps.sum(), tf.float32)
    channels = images.shape[-1]
    rows = tf.tile(taps[:, None, None, None], [1, 1, channels, 1])
    cols = tf.tile(taps[None, :, None, None], [1, 1, channels, 1])
    images = tf.nn.depthwise_conv2d(images, rows, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(images, cols, [1, 1, 1, 1], "SAME")


def bilinear_sample(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """images (B, H, W) read at fractional (rows, cols) (B, H, W); 0 outside the image."""
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1]])  # a ring of background to read from
    limit = float(IMAGE_SIZE)
    rows = tf.clip_by_value(rows + 1, 0.0, limit + 1)
    cols = tf.clip_by_value(cols + 1, 0.0, limit + 1)
    top, left = tf.floor(rows), tf.floor(cols)
    down, right = rows - top, cols - left
    top_i = tf.cast(tf.minimum(top, limit), tf.int32)
    left_i = tf.cast(tf.minimum(left, limit), tf.int32)

    def at(r, c):
        return tf.gather_nd(padded, tf.stack([r, c], axis=-1), batch_dims=1)

    upper = (1 - right) * at(top_i, left_i) + right * at(top_i, left_i + 1)
    lower = (1 - right) * at(top_i + 1, left_i) + right * at(top_i + 1, left_i + 1)
    return (1 - down) * upper + down * lower


def augmented_dataset(
    images: np.ndarray, labels: np.ndarray, batch_size: int, epochs: int, seed: int
) -> tf.data.Dataset:
    """uint8 training images, shuffled each epoch and distorted batch by batch, for `epochs`
    passes (pass steps_per_epoch to fit). Batch n of the run is distorted with seed
    (seed, n), so a run repeats exactly."""

    @tf.autograph.experimental.do_not_convert  # plain tensor code: nothing to convert
    def distort(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]):
        pixels, digits = batch
        seeds = tf.stack([tf.constant(seed, tf.int64), step])
        return augment_batch(tf.cast(pixels, tf.float32) / 255, seeds), digits

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).repeat(epochs).enumerate()
    return dataset.map(distort, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
