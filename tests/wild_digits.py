"""Digits that are not in MNIST format, made from the MNIST test split with a fixed seed.

Each is a test digit drawn larger, off-centre, on a bigger canvas, in either polarity, on
grey paper with noise, and saved as PNG (grey or colour), RGBA with a transparent
background, or JPEG: what people actually feed a digit model.
"""

import io

import numpy as np
from PIL import Image

KINDS = ("png-grey", "png-colour", "png-transparent", "jpeg")


def wild_digit(image: np.ndarray, rng: np.random.Generator, kind: str) -> Image.Image:
    """One MNIST digit (uint8 28x28, light on dark) re-drawn the way users draw digits."""
    scale = rng.uniform(1.5, 8.0)
    size = max(8, round(28 * scale))
    ink = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
    ink = ink.astype(np.float32) / 255  # 1 = full ink
    canvas_side = round(size * rng.uniform(1.1, 2.5))
    canvas = np.zeros((canvas_side, canvas_side), dtype=np.float32)
    top, left = rng.integers(0, canvas_side - size + 1, size=2)
    canvas[top : top + size, left : left + size] = ink
    if kind == "png-transparent":
        alpha = (canvas * 255).astype(np.uint8)
        strokes = np.zeros((*canvas.shape, 3), dtype=np.uint8)  # dark strokes
        return Image.fromarray(np.dstack([strokes, alpha]))
    dark_on_light = rng.random() < 0.5
    paper = rng.uniform(170, 255) if dark_on_light else rng.uniform(0, 70)
    pen = rng.uniform(0, 60) if dark_on_light else rng.uniform(190, 255)
    grey = paper + (pen - paper) * canvas + rng.normal(0, rng.uniform(0, 6), canvas.shape)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    if kind == "png-grey":
        return Image.fromarray(grey)
    tint = rng.uniform(0.6, 1.0, size=3)  # a coloured pen on tinted paper
    colour = Image.fromarray(np.clip(grey[..., None] * tint, 0, 255).astype(np.uint8))
    if kind == "png-colour":
        return colour
    buffer = io.BytesIO()
    colour.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)))
    return Image.open(io.BytesIO(buffer.getvalue()))


def wild_set(images: np.ndarray, count: int, seed: int = 0) -> list[tuple[int, str, Image.Image]]:
    """(index into images, kind, picture) for `count` digits picked with a fixed seed."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=count, replace=False)
    return [
        (int(i), KINDS[n % len(KINDS)], wild_digit(images[i], rng, KINDS[n % len(KINDS)]))
        for n, i in enumerate(picks)
    ]
