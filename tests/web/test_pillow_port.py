"""web/pillow.js against Pillow itself: resizing (BOX, BILINEAR) and reducing, bit for bit.

The page's preprocessing leans on these; here they are checked alone, on random pictures of
awkward shapes (odd sizes, partial blocks, a picture over 100 times taller than wide, which
Pillow resizes in the other order), so a difference shows where it comes from.
"""

import base64

import numpy as np
import pytest
from PIL import Image

from tests.web.browser import base64_array

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
  return cases.map(({ grey, alpha, height, width, factor }) => {
    const [luminance, opacity] = [grey, alpha].map((text) => fromBase64(text));
    const weighted = luminance.map((value, i) => pillow.premultiplied(value, opacity[i]));
    const small = pillow.reduce({ width, height, data: weighted }, factor);
    const smallAlpha = pillow.reduce({ width, height, data: opacity }, factor);
    const back = small.data.map((value, i) => pillow.unpremultiplied(value, smallAlpha.data[i]));
    const plain = pillow.reduce({ width, height, data: luminance }, factor);
    return [plain.data, back, smallAlpha.data].map(toBase64);
  });
}"""


def encoded(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def test_resize_matches_pillow(page) -> None:
    """float32 ("F") resizing, BOX when shrinking and BILINEAR when enlarging: equal bits."""
    rng = np.random.default_rng(7)
    pictures = [rng.uniform(0, 255, shape).astype(np.float32) for shape, _ in RESIZES]
    cases = [
        {"data": encoded(picture), "height": shape[0], "width": shape[1], "to": list(to)}
        for picture, (shape, to) in zip(pictures, RESIZES, strict=True)
    ]
    for picture, (_, to), result in zip(
        pictures, RESIZES, page.evaluate(RESIZE_JS, cases), strict=True
    ):
        method = Image.Resampling.BOX if to[0] * to[1] < picture.size else Image.Resampling.BILINEAR
        expected = np.asarray(Image.fromarray(picture).resize(to[::-1], method))
        assert np.array_equal(base64_array(result, np.float32).reshape(to), expected), to


def test_reduce_matches_pillow(page) -> None:
    """uint8 reduce by whole factors, alone and with alpha (premultiplied, as Pillow does LA)."""
    rng = np.random.default_rng(7)
    pictures = [rng.integers(0, 256, (*shape, 2), dtype=np.uint8) for shape, _ in REDUCES]
    cases = [
        {
            "grey": encoded(la[..., 0]),
            "alpha": encoded(la[..., 1]),
            "height": shape[0],
            "width": shape[1],
            "factor": factor,
        }
        for la, (shape, factor) in zip(pictures, REDUCES, strict=True)
    ]
    for la, (shape, factor), result in zip(
        pictures, REDUCES, page.evaluate(REDUCE_JS, cases), strict=True
    ):
        small = (-(-shape[0] // factor), -(-shape[1] // factor))
        grey, premultiplied, alpha = (base64_array(r, np.uint8).reshape(small) for r in result)
        assert np.array_equal(grey, np.asarray(Image.fromarray(la[..., 0]).reduce(factor)))
        both = np.asarray(Image.fromarray(la).reduce(factor))  # mode LA
        assert np.array_equal(premultiplied, both[..., 0]) and np.array_equal(alpha, both[..., 1])
