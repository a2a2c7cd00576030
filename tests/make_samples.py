"""Regenerate samples/ from the MNIST test split (fixed indices and seed): `make samples`.

Each file is named after the digit it shows. mnist-*.png are test images as they are
(28x28, light on dark); drawn-* are test digits re-drawn the way people draw them: dark
ink, larger, off-centre, on a white canvas, saved as PNG, as a transparent canvas export
and as JPEG.
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_edge.core.mnist import load_mnist
from mnist_edge.measure import TEST_SLICE

MNIST_INDICES = (0, 1, 2, 99)  # 99 is the tutorial's check: a 9
DRAWN_INDICES = (3, 4, 8, 11, 18, 61)
SEED = 2024
CANVAS = 280


def drawn(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage in [0, 1] on a CANVAS x CANVAS sheet: the digit enlarged, off-centre."""
    side = int(rng.integers(120, 220))
    ink = Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC)
    sheet = np.zeros((CANVAS, CANVAS), dtype=np.float32)
    top, left = rng.integers(0, CANVAS - side + 1, size=2)
    sheet[top : top + side, left : left + side] = np.asarray(ink, dtype=np.float32) / 255
    return sheet


def write_samples(folder: Path) -> list[tuple[str, int]]:
    """Write the sample images; return (file name, true digit) for each."""
    mnist = load_mnist()
    rng = np.random.default_rng(SEED)
    rows = []
    for index in MNIST_INDICES:
        name = f"mnist-{mnist.y_test[index]}.png"
        Image.fromarray(mnist.x_test[index]).save(folder / name)
        rows.append((name, int(mnist.y_test[index])))
    for n, index in enumerate(DRAWN_INDICES):
        ink = drawn(mnist.x_test[index], rng)
        paper = (255 - 235 * ink).astype(np.uint8)  # dark ink on white paper
        kind = ("png", "transparent.png", "jpg")[n % 3]
        name = f"drawn-{mnist.y_test[index]}{'-' if '.' in kind else '.'}{kind}"
        if kind == "transparent.png":  # a canvas export: black strokes, transparent elsewhere
            alpha = (255 * ink).astype(np.uint8)
            rgba = np.dstack([np.zeros((CANVAS, CANVAS, 3), np.uint8), alpha])
            Image.fromarray(rgba).save(folder / name)
        elif kind == "jpg":
            Image.fromarray(paper).convert("RGB").save(folder / name, quality=85)
        else:
            Image.fromarray(paper).save(folder / name)
        rows.append((name, int(mnist.y_test[index])))
    return rows


def write_test_slice(path: Path, count: int = 1000) -> Path:
    """The first `count` MNIST test images and labels, for `mnist-edge bench` on a device."""
    mnist = load_mnist()
    np.savez_compressed(path, x_test=mnist.x_test[:count], y_test=mnist.y_test[:count])
    return path


if __name__ == "__main__":
    for name, label in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "samples")):
        print(f"{name}: {label}")
    print(write_test_slice(TEST_SLICE))
