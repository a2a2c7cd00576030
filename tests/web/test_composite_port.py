"""web/preprocess.js's transparency composite against runtime/preprocess.py's, bit for bit.

`composite` picks its backdrop by comparing the strokes' alpha-weighted mean luminance
(`np.average` over float32, which NumPy sums pairwise in float32) with thresholds, so the
page must reproduce that mean to the last bit; here it is checked alone on pictures of every
size class of NumPy's pairwise sum, then the whole composite on each of its branches.
"""

import numpy as np
import pytest

from harness.browser import base64_array, base64_of
from mnist_edge.runtime.preprocess import composite

pytestmark = pytest.mark.slow

# Fewer than 8 values, one block of at most 128, and halves split recursively (odd sizes)
SHAPES = [(1, 1), (1, 7), (3, 5), (11, 11), (37, 23), (333, 513), (1000, 1024)]

AVERAGE_JS = """async (cases) => {
  const { average } = await import('./preprocess.js');
  return cases.map(({ luminance, alpha }) => {
    const [values, weights] = [luminance, alpha].map((t) => new Float32Array(fromBase64(t).buffer));
    return average(values, weights);
  });
}"""
COMPOSITE_JS = """async (cases) => {
  const { composite } = await import('./preprocess.js');
  return cases.map(({ luminance, alpha }) => {
    const [values, weights] = [luminance, alpha].map((t) => new Float32Array(fromBase64(t).buffer));
    return toBase64(composite(values, weights));
  });
}"""


def la_picture(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(luminance, alpha) as greyscale() hands them to composite: float32 grey levels, and
    float32 alpha / 255."""
    luminance = rng.integers(0, 256, shape).astype(np.float32)
    alpha = rng.integers(0, 256, shape).astype(np.float32) / 255
    return luminance, alpha


def as_cases(pictures: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, str]]:
    return [{"luminance": base64_of(lum), "alpha": base64_of(alpha)} for lum, alpha in pictures]


def test_average_matches_numpy(page) -> None:
    """The alpha-weighted mean luminance: the same float32 value as np.average."""
    rng = np.random.default_rng(12)
    pictures = [la_picture(rng, shape) for shape in SHAPES]
    results = page.evaluate(AVERAGE_JS, as_cases(pictures))
    expected = [float(np.average(lum, weights=alpha)) for lum, alpha in pictures]
    largest = np.abs(np.subtract(results, expected)).max()
    print(f"\nweighted mean luminance of {len(SHAPES)} pictures: largest difference {largest}")
    assert results == expected


def branches(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A picture for each way composite picks its backdrop."""
    shape = (90, 70)
    lum, alpha = la_picture(rng, shape)
    opaque = alpha > 0.5
    light_on_grey = np.where(opaque, 250, 30).astype(np.float32)  # backdrop: the grey below
    return {
        "strokes like the clear pixels: the opposite": (lum, alpha),
        "dark strokes on transparent black: white": (np.zeros(shape, np.float32), alpha),
        "light strokes, dark clear pixels: those": (light_on_grey, alpha),
        "no opaque pixel: luminance * alpha": (lum, np.minimum(alpha, np.float32(0.5))),
        "no clear pixel: the opposite": (lum, np.maximum(alpha, np.float32(0.6))),
    }


def test_composite_matches_the_runtime(page) -> None:
    """Each branch of the backdrop choice, and the float32 blend: equal bits."""
    cases = branches(np.random.default_rng(12))
    results = page.evaluate(COMPOSITE_JS, as_cases(list(cases.values())))
    for (name, (lum, alpha)), result in zip(cases.items(), results, strict=True):
        expected = composite(lum, alpha)
        assert np.array_equal(base64_array(result, np.float32).reshape(lum.shape), expected), name
