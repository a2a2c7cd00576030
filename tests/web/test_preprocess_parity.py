"""The page's preprocessing (web/preprocess.js) against the runtime's (runtime/preprocess.py).

Each image file goes through the browser's decoder and the JS port in Chromium, and through
Pillow and the Python reference, and the two 28x28 digits are compared pixel by pixel. The
thresholds are the ones the page promises; on these images the two agree exactly, because the
page reads decoded pixels through a VideoFrame (a canvas would lose the colour of transparent
pixels, which the transparency composite looks at, and round it under half-transparent ones).
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.browser import base64_array
from harness.wild_digits import KINDS, wild_digit, wild_set
from mnist_edge.core.errors import InputError
from mnist_edge.runtime import Predictor
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.preprocess import to_mnist
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

MIN_IDENTICAL = 0.95  # share of images whose 28x28 digits are equal pixel for pixel
MAX_PIXEL_DIFFERENCE = 2  # grey levels, on any pixel of any image
MIN_SAME_DIGIT = 0.995  # share of images the model reads as the same digit
MNIST_IMAGES = 80
WILD_IMAGES = 162  # split evenly over the wild-digit kinds
# Past WORKING_SIDE, so reduced first (by 2, 3 and 4) in their own mode and converted after:
# opaque grey and colour, dark strokes with alpha, light digits cut out of black (RGBA, palette)
LARGE = {
    1500: "png-transparent",
    2100: "png-grey",
    3500: "png-colour",
    2600: "png-light-transparent",
    1300: "png-palette-transparent",
}
LIGHT_WITH_DARK_EDGES = 4
STROKE_COLOURS = [(255, 255, 255), (230, 230, 230), (200, 60, 30), (20, 90, 200)]

PREPROCESS_FILES = """async (names) => {
  const { decodeImage } = await import('./decode.js');
  const { toMnist } = await import('./preprocess.js');
  const results = {};
  for (const name of names) {
    const blob = await (await fetch('parity/' + name)).blob();
    try {
      const { bitmap, rgba } = await decodeImage(blob);
      bitmap.close();
      const digit = toMnist(rgba);
      results[name] = toBase64(digit);
    } catch (error) {
      results[name] = 'error: ' + error.message;
    }
  }
  return results;
}"""


def parity_images(folder: Path, x_test: np.ndarray) -> list[Path]:
    """The samples, MNIST test digits as PNG, wild digits of every kind, large and blank ones."""
    paths = sorted((ROOT / "samples").iterdir())

    def save(name: str, picture: Image.Image, **options: int) -> None:
        paths.append(folder / name)
        picture.save(paths[-1], **options)

    for index in np.linspace(0, len(x_test) - 1, MNIST_IMAGES).astype(int):
        save(f"mnist-{index}.png", Image.fromarray(x_test[index]))
    for n, (index, kind, picture) in enumerate(wild_set(x_test, WILD_IMAGES, seed=12)):
        jpeg = kind == "jpeg"
        save(
            f"wild-{n}-{kind}-{index}.{'jpg' if jpeg else 'png'}",
            picture,
            **({"quality": 90} if jpeg else {}),
        )
    rng = np.random.default_rng(12)
    for side, kind in LARGE.items():
        picture = wild_digit(x_test[side], rng, kind)
        save(f"large-{side}-{kind}.png", picture.resize((side, side), Image.Resampling.BILINEAR))
    for n, colour in enumerate(STROKE_COLOURS):  # both backdrops of the transparency composite
        alpha = np.asarray(Image.fromarray(x_test[n]).resize((140, 140)))
        strokes = np.broadcast_to(np.array(colour, np.uint8), (140, 140, 3))
        save(f"transparent-strokes-{n}.png", Image.fromarray(np.dstack([strokes, alpha])))
    for n in range(LIGHT_WITH_DARK_EDGES):  # the composite rule's hard case: light strokes
        alpha = np.asarray(Image.fromarray(x_test[n]).resize((84, 84), Image.Resampling.BILINEAR))
        grey = np.where(alpha >= 230, 255, 30).astype(np.uint8)  # with dark anti-aliased edges
        save(f"transparent-dark-edges-{n}.png", Image.fromarray(np.dstack([grey] * 3 + [alpha])))
    save("blank-white.png", Image.new("L", (64, 64), 255))
    save("blank-transparent.png", Image.new("RGBA", (64, 64), (0, 0, 0, 0)))
    return paths


def file_name(route) -> str:
    return route.request.url.rsplit("/", 1)[-1]


def python_digit(path: Path) -> np.ndarray | str:
    try:
        return to_mnist(open_image(path))
    except InputError as error:
        return f"error: {error}"


def paired_digits(paths: list[Path], page_results: dict[str, str]) -> tuple[np.ndarray, ...]:
    """(runtime digits, page digits) of the images both read; both must refuse the same others."""
    python_digits, page_digits = [], []
    for path in paths:
        expected, result = python_digit(path), page_results[path.name]
        if isinstance(expected, str) or result.startswith("error: "):
            assert result == expected, (
                f"{path.name}: the page says {result!r}, runtime {expected!r}"
            )
            continue
        python_digits.append(expected)
        page_digits.append(base64_array(result, np.uint8).reshape(28, 28))
    return np.stack(python_digits), np.stack(page_digits)


def test_kinds_are_all_covered() -> None:
    assert WILD_IMAGES % len(KINDS) == 0


def test_preprocessing_matches_the_runtime(page, x_test, tmp_path: Path) -> None:
    """Identical on >= 95% of >= 200 images, never off by more than 2 grey levels, same digit."""
    paths = parity_images(tmp_path, x_test)
    by_name = {path.name: path for path in paths}
    page.route("**/parity/*", lambda route: route.fulfill(path=by_name[file_name(route)]))
    python_digits, page_digits = paired_digits(
        paths, page.evaluate(PREPROCESS_FILES, list(by_name))
    )

    differences = np.abs(python_digits.astype(int) - page_digits.astype(int)).max(axis=(1, 2))
    identical = float(np.mean(differences == 0))
    predictor = Predictor()
    python_read, page_read = (predictor.predict(d).argmax(1) for d in (python_digits, page_digits))
    same_digit = float(np.mean(python_read == page_read))
    print(
        f"\npreprocessing parity on {len(paths)} images ({len(python_digits)} digits): "
        f"identical {identical:.1%}, largest pixel difference {differences.max()} grey levels, "
        f"same predicted digit {same_digit:.1%}"
    )
    assert len(paths) >= 200
    assert identical >= MIN_IDENTICAL
    assert differences.max() <= MAX_PIXEL_DIFFERENCE
    assert same_digit >= MIN_SAME_DIGIT
