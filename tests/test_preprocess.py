"""Preprocessing: MNIST digits pass unchanged; other images are made the way MNIST was made."""

import io

import numpy as np
import pytest
from PIL import Image

from harness.wild_digits import light_cut_out
from mnist_edge.core.errors import InputError
from mnist_edge.runtime import Predictor
from mnist_edge.runtime.preprocess import centre_of_mass, to_mnist

SIMILAR = 0.8  # pixel correlation with the original digit; a one-pixel shift costs ~0.1


def looks_like(result: np.ndarray, original: np.ndarray, predictor: Predictor) -> bool:
    """Close to the original pixels, and read as the same digit by the shipped model."""
    correlation = np.corrcoef(result.ravel(), original.ravel())[0, 1]
    same_digit = (predictor.predict(np.stack([result, original])).argmax(axis=1)).tolist()
    return correlation > SIMILAR and same_digit[0] == same_digit[1]


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def big_dark_digit(digit: np.ndarray, side: int = 200, canvas: int = 400, top=20, left=150):
    """An MNIST digit redrawn dark on white paper, large and off-centre."""
    ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR))
    paper = np.full((canvas, canvas), 255, dtype=np.uint8)
    paper[top : top + side, left : left + side] = 255 - ink
    return paper


@pytest.mark.slow
@pytest.mark.parametrize("split", ["x_train", "x_test"])
def test_all_70000_mnist_images_pass_through_unchanged(mnist, split):
    images = getattr(mnist, split)
    changed = [
        i
        for i, image in enumerate(images)
        if not np.array_equal(to_mnist(Image.fromarray(image)), image)
    ]
    assert changed == []


def test_inverted_mnist_digit_is_restored(x_test):
    assert np.array_equal(to_mnist(Image.fromarray(255 - x_test[99])), x_test[99])


def test_large_off_centre_dark_digit_is_normalised(x_test, predictor):
    result = to_mnist(Image.fromarray(big_dark_digit(x_test[99])))
    assert max(ink_box(result)) == 20
    row, col = centre_of_mass(result.astype(np.float64))
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
    assert result[0].max() == 0 and result.max() == 255
    assert looks_like(result, x_test[99], predictor)


def test_aspect_ratio_is_kept():
    """A tall thin stroke (a '1') stays thin: scaled to 20 high, not stretched to 20 wide."""
    sheet = np.zeros((300, 300), dtype=np.uint8)
    sheet[50:250, 140:160] = 255  # 200 x 20
    height, width = ink_box(to_mnist(Image.fromarray(sheet)))
    assert height == 20 and width == 2


def test_transparent_canvas_with_dark_strokes(x_test, predictor):
    """Black strokes on a transparent background (a canvas export) must not vanish."""
    alpha = np.asarray(Image.fromarray(x_test[7]).resize((140, 140)))
    rgba = np.dstack([np.zeros((140, 140, 3), np.uint8), alpha])
    result = to_mnist(Image.fromarray(rgba))
    assert looks_like(result, x_test[7], predictor)


def test_transparent_canvas_with_white_strokes(x_test, predictor):
    alpha = np.asarray(Image.fromarray(x_test[7]).resize((140, 140)))
    rgba = np.dstack([np.full((140, 140, 3), 255, np.uint8), alpha])
    result = to_mnist(Image.fromarray(rgba))
    assert looks_like(result, x_test[7], predictor)


@pytest.mark.parametrize("palette", [False, True])
def test_light_digit_cut_out_of_black_keeps_its_polarity(x_test, predictor, palette):
    """A light digit whose anti-aliased edges are dark but opaque, on transparent black (RGBA,
    or a palette with a transparent index): composited on black, not read as an outline."""
    ink = np.asarray(Image.fromarray(x_test[7]).resize((140, 140), Image.Resampling.BILINEAR))
    picture = light_cut_out(ink / 255, 230, palette)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    result = to_mnist(Image.open(io.BytesIO(buffer.getvalue())))
    assert looks_like(result, x_test[7], predictor)


def test_sixteen_bit_greyscale_is_scaled_not_clipped(x_test):
    wide = x_test[3].astype(np.uint16) * 257
    buffer = io.BytesIO()
    Image.fromarray(wide).save(buffer, format="PNG")
    image = Image.open(io.BytesIO(buffer.getvalue()))
    assert np.array_equal(to_mnist(image), x_test[3])


def test_palette_image_with_transparency(x_test, predictor):
    grey = Image.fromarray(255 - x_test[5]).convert("P")
    grey.info["transparency"] = 255  # white is transparent
    result = to_mnist(grey)
    assert looks_like(result, x_test[5], predictor)


def test_exif_orientation_is_applied(tmp_path, x_test, predictor):
    from mnist_edge.runtime.images import open_image

    rotated = Image.fromarray(np.rot90(x_test[99], k=1))  # stored sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with "rotate 90 clockwise to view"
    path = tmp_path / "photo.jpg"
    rotated.save(path, exif=exif, quality=100)
    assert looks_like(to_mnist(open_image(path)), x_test[99], predictor)
    assert not looks_like(to_mnist(rotated), x_test[99], predictor)


def test_grey_noisy_paper_background_becomes_zero(x_test, predictor):
    rng = np.random.default_rng(0)
    paper = big_dark_digit(x_test[99]).astype(np.float32) * 0.6 + 60  # grey paper, grey ink
    noisy = np.clip(paper + rng.normal(0, 6, paper.shape), 0, 255).astype(np.uint8)
    result = to_mnist(Image.fromarray(noisy))
    assert result[:3].max() == 0 and result[:, :3].max() == 0
    assert looks_like(result, x_test[99], predictor)


@pytest.mark.parametrize("level", [0, 128, 255])
def test_blank_image_is_reported_not_guessed(level):
    with pytest.raises(InputError, match="no digit found"):
        to_mnist(Image.new("L", (64, 64), level))


def test_fully_transparent_image_is_blank():
    with pytest.raises(InputError, match="no digit found"):
        to_mnist(Image.new("RGBA", (64, 64), (0, 0, 0, 0)))
