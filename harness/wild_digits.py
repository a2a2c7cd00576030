"""Digits that are not in MNIST format, made from the MNIST test split with a fixed seed.

Each is a test digit drawn larger, off-centre, on a bigger canvas, in either polarity, on
grey paper with noise, and saved as PNG (grey or colour), as dark strokes on a transparent
background (a canvas export), as a light digit cut out of a dark background (RGBA or a
palette with a transparent index), or as JPEG: what people actually feed a digit model.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mnist_edge.runtime import Predictor
from mnist_edge.runtime.preprocess import to_mnist

COUNT = 2400  # digits from the test split, 400 of each kind

KINDS = (
    "png-grey",
    "png-colour",
    "png-transparent",
    "png-light-transparent",
    "png-palette-transparent",
    "jpeg",
)


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
    if kind == "png-transparent":  # a canvas export: dark strokes, anti-aliased by alpha
        alpha = (canvas * 255).astype(np.uint8)
        strokes = np.zeros((*canvas.shape, 3), dtype=np.uint8)
        return Image.fromarray(np.dstack([strokes, alpha]))
    if kind in ("png-light-transparent", "png-palette-transparent"):
        return light_cut_out(canvas, rng.uniform(190, 255), palette=kind.startswith("png-pal"))
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


def light_cut_out(canvas: np.ndarray, pen: float, palette: bool) -> Image.Image:
    """A light digit cut out of a black background: every pixel that is not pure black stays
    opaque, so the anti-aliased edges are dark, fully opaque strokes around the light ones.
    As RGBA, or as a palette image whose black index is transparent."""
    grey = np.rint(pen * canvas).astype(np.uint8)
    if palette:
        picture = Image.fromarray(grey).convert("P")  # a grey palette, index = grey level
        picture.putpalette([level for level in range(256) for _ in range(3)])
        picture.info["transparency"] = 0
        return picture
    alpha = np.where(grey > 0, 255, 0).astype(np.uint8)
    return Image.fromarray(np.dstack([grey, grey, grey, alpha]))


def wild_set(images: np.ndarray, count: int, seed: int = 0) -> list[tuple[int, str, Image.Image]]:
    """(index into images, kind, picture) for `count` digits picked with a fixed seed."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=count, replace=False)
    return [
        (int(i), KINDS[n % len(KINDS)], wild_digit(images[i], rng, KINDS[n % len(KINDS)]))
        for n, i in enumerate(picks)
    ]


@dataclass(frozen=True)
class WildScore:
    """How well the shipped preprocessing reads the wild set, and the baselines."""

    accuracy: float  # wild digits through the runtime's preprocessing
    mnist_form: float  # the same digits as MNIST gave them
    plain_resize: float  # the wild digits resized to 28x28, nothing else
    by_kind: dict[str, float]


def saved_and_reopened(picture: Image.Image) -> Image.Image:
    """Through a real file encoding, as users' files arrive."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG" if picture.format == "JPEG" else "PNG")
    return Image.open(io.BytesIO(buffer.getvalue()))


def wild_inputs(
    wild: list[tuple[int, str, Image.Image]], labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A wild set (`wild_set`) as the model receives it: uint8 (N, 28, 28) through the
    runtime's preprocessing, the true digits (N,) and the kinds (N,)."""
    made = np.stack([to_mnist(saved_and_reopened(picture)) for _, _, picture in wild])
    truth = labels[[index for index, _, _ in wild]]
    return made, truth, np.array([kind for _, kind, _ in wild])


def wild_score(
    predictor: Predictor, images: np.ndarray, labels: np.ndarray, count: int = COUNT
) -> WildScore:
    wild = wild_set(images, count, seed=0)
    made, truth, kinds = wild_inputs(wild, labels)
    correct = predictor.predict(made).argmax(axis=1) == truth
    clean = predictor.predict(images[[index for index, _, _ in wild]]).argmax(axis=1)
    naive = np.stack([np.asarray(picture.convert("L").resize((28, 28))) for _, _, picture in wild])
    naive_correct = predictor.predict(naive).argmax(axis=1) == truth
    return WildScore(
        accuracy=float(correct.mean()),
        mnist_form=float((clean == truth).mean()),
        plain_resize=float(naive_correct.mean()),
        by_kind={kind: float(correct[kinds == kind].mean()) for kind in KINDS},
    )
