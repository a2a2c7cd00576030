"""web/pillow.js against Pillow itself: resizing (BOX, BILINEAR) and reducing RGBA, bit for bit.

The page's preprocessing leans on these; here they are checked alone, on random pictures of
awkward shapes (odd sizes, partial blocks, a picture over 100 times taller than wide, which
Pillow resizes in the other order), so a difference shows where it comes from.
"""

import numpy as np
import pytest
from PIL import Image

from harness.browser import base64_array, base64_of
from mnist_edge.runtime.preprocess import BAND_BLOCKS, WORKING_SIDE, reduced

pytestmark = pytest.mark.slow

# (height, width) -> (height, width): shrinking uses BOX, enlarging BILINEAR, as fit_box does
RESIZES = [
    ((37, 23), (20, 12)),
    ((400, 250), (20, 12)),
    ((13, 7), (20, 11)),
    ((5, 600), (1, 20)),
    ((700, 3), (20, 1)),  # over 100x taller than wide
    ((19, 20), (19, 20)),  # the same size: a copy
    ((3, 2), (20, 13)),
]
REDUCES = [((101, 77), factor) for factor in (2, 3, 4, 5, 6, 7)]
# Wider than WORKING_SIDE and taller than one band: the runtime reduces it band by band
BANDED = (2 * BAND_BLOCKS * 3 + 5, 2 * WORKING_SIDE + 52)  # factor 3, three bands

RESIZE_JS = """async (cases) => {
  const pillow = await import('./pillow.js');
  return cases.map(({ data, height, width, to }) => {
    const image = { width, height, data: new Float32Array(fromBase64(data).buffer) };
    const filter = to[0] * to[1] < height * width ? pillow.BOX : pillow.BILINEAR;
    return toBase64(pillow.resize(image, to[1], to[0], filter).data);
  });
}"""
REDUCE_JS = """async (cases) => {
  const pillow = await import('./pillow.js');
  return cases.map(({ rgba, height, width, factor }) => {
    const image = { width, height, data: fromBase64(rgba) };
    return toBase64(pillow.reduce(image, factor).data);
  });
}"""


def test_resize_matches_pillow(page) -> None:
    """float32 ("F") resizing, BOX when shrinking and BILINEAR when enlarging: equal bits."""
    rng = np.random.default_rng(7)
    pictures = [rng.uniform(0, 255, shape).astype(np.float32) for shape, _ in RESIZES]
    cases = [
        {"data": base64_of(picture), "height": shape[0], "width": shape[1], "to": list(to)}
        for picture, (shape, to) in zip(pictures, RESIZES, strict=True)
    ]
    for picture, (_, to), result in zip(
        pictures, RESIZES, page.evaluate(RESIZE_JS, cases), strict=True
    ):
        method = Image.Resampling.BOX if to[0] * to[1] < picture.size else Image.Resampling.BILINEAR
        expected = np.asarray(Image.fromarray(picture).resize(to[::-1], method))
        assert np.array_equal(base64_array(result, np.float32).reshape(to), expected), to


def reduced_by_page(page, pictures: list[np.ndarray], factors: list[int]) -> list[np.ndarray]:
    """pillow.js's reduce of (H, W, 4) RGBA pictures, as (h, w, 4) arrays."""
    cases = [
        {"rgba": base64_of(rgba), "height": rgba.shape[0], "width": rgba.shape[1], "factor": factor}
        for rgba, factor in zip(pictures, factors, strict=True)
    ]
    return [
        base64_array(result, np.uint8).reshape(-(-rgba.shape[0] // f), -(-rgba.shape[1] // f), 4)
        for rgba, f, result in zip(pictures, factors, page.evaluate(REDUCE_JS, cases), strict=True)
    ]


def random_rgba(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Random colours and alpha, with whole runs of alpha 0 and 255 (both shortcuts of
    un-premultiplying) as well as every level between."""
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    tiles = rng.integers(0, 3, (1 + shape[0] // 8, 1 + shape[1] // 8))  # tiles of 8x8 pixels
    tiled = tiles.repeat(8, axis=0).repeat(8, axis=1)[: shape[0], : shape[1]]
    rgba[..., 3] = np.choose(tiled, [rgba[..., 3], 0, 255]).astype(np.uint8)
    return rgba


def test_reduce_matches_pillow(page) -> None:
    """RGBA reduce by whole factors as Pillow does it (premultiplied "RGBa", reduced, back to
    RGBA); opaque, the same as Pillow's RGB reduce; and, on a picture large enough to be
    reduced in bands by the runtime, the same as its `reduced`."""
    rng = np.random.default_rng(7)
    pictures = [random_rgba(rng, shape) for shape, _ in REDUCES]
    opaque = random_rgba(rng, REDUCES[0][0])
    opaque[..., 3] = 255
    banded = random_rgba(rng, BANDED)
    factors = [factor for _, factor in REDUCES] + [REDUCES[0][1], 3]
    results = reduced_by_page(page, [*pictures, opaque, banded], factors)
    for rgba, factor, result in zip(pictures, factors, results, strict=False):
        assert np.array_equal(result, np.asarray(Image.fromarray(rgba).reduce(factor))), factor
    rgb = np.asarray(Image.fromarray(opaque[..., :3]).reduce(factors[-2]))
    assert np.array_equal(results[-2][..., :3], rgb) and (results[-2][..., 3] == 255).all()
    assert np.array_equal(results[-1], np.asarray(reduced(Image.fromarray(banded))))
