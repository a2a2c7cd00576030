"""Evaluation pictures: the confusion matrix and the most confident mistakes."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mnist_edge.pictures.drawing import BACKGROUND, INK, MUTED, WRONG, centred_text, enlarged
from mnist_edge.runtime.pipeline import Prediction

if TYPE_CHECKING:
    from PIL.Image import Image

CELL = 56  # confusion matrix cell, pixels
MISTAKE_SCALE = 4  # 28x28 digits at 112x112
MISTAKE_COLUMNS = 6


def confusion_picture(confusion: np.ndarray, title: str = "Confusion matrix") -> "Image":
    """10x10 counts, rows the true digit, columns the predicted one; shade by row share."""
    from PIL import Image, ImageDraw

    left, top = 90, 96
    size = (left + 10 * CELL + 30, top + 10 * CELL + 60)
    canvas = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    row_totals = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    share = confusion / row_totals
    for true in range(10):
        for predicted in range(10):
            box = _cell_box(left, top, true, predicted)
            draw.rectangle(
                box, fill=_shade(share[true, predicted], true == predicted), outline=BACKGROUND
            )
            count = int(confusion[true, predicted])
            if count:
                colour = BACKGROUND if share[true, predicted] > 0.5 else INK
                centred_text(
                    draw, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), f"{count:,}", 14, colour
                )
        centred_text(draw, (left - 18, top + true * CELL + CELL / 2), str(true), 18)
        centred_text(draw, (left + true * CELL + CELL / 2, top - 16), str(true), 18)
    centred_text(draw, (left + 5 * CELL, top - 44), "predicted digit", 16, MUTED)
    label = Image.new("RGB", (200, 24), BACKGROUND)
    centred_text(ImageDraw.Draw(label), (100, 12), "true digit", 16, MUTED)
    canvas.paste(label.rotate(90, expand=True), (20, top + 5 * CELL - 100))
    accuracy = np.trace(confusion) / max(confusion.sum(), 1)
    centred_text(
        draw, (size[0] / 2, 20), f"{title}: accuracy {accuracy:.2%} on {confusion.sum():,}", 18
    )
    centred_text(draw, (size[0] / 2, size[1] - 24), "off-diagonal cells are mistakes", 13, MUTED)
    return canvas


def mistakes_picture(mistakes: Sequence[Prediction]) -> "Image":
    """A grid of wrong predictions, most confident first, captioned true -> predicted."""
    from PIL import Image, ImageDraw

    side = 28 * MISTAKE_SCALE
    cell_w, cell_h = side + 24, side + 44
    rows = max(1, -(-len(mistakes) // MISTAKE_COLUMNS))
    canvas = Image.new("RGB", (MISTAKE_COLUMNS * cell_w + 24, rows * cell_h + 60), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    title = f"The {len(mistakes)} most confident mistakes (true -> predicted, confidence)"
    centred_text(draw, (canvas.width / 2, 24), title if mistakes else "No mistakes", 17)
    for n, prediction in enumerate(mistakes):
        x = 12 + (n % MISTAKE_COLUMNS) * cell_w + 12
        y = 52 + (n // MISTAKE_COLUMNS) * cell_h
        canvas.paste(enlarged(prediction.image, MISTAKE_SCALE).convert("RGB"), (x, y))
        digit = prediction.digit
        confidence = float(prediction.probabilities[digit])
        caption = f"{prediction.label} -> {digit}, {confidence:.0%}"
        centred_text(draw, (x + side / 2, y + side + 12), caption, 14, WRONG)
        centred_text(draw, (x + side / 2, y + side + 28), _short(prediction.source), 10, MUTED)
    return canvas


def _cell_box(left: int, top: int, row: int, col: int) -> tuple[int, int, int, int]:
    return (left + col * CELL, top + row * CELL, left + (col + 1) * CELL, top + (row + 1) * CELL)


def _shade(share: float, diagonal: bool) -> tuple[int, int, int]:
    """White to blue on the diagonal, white to red off it, by the share of the row."""
    strength = share if diagonal else min(1.0, share * 10)  # mistakes are rare: make them visible
    target = (31, 119, 180) if diagonal else (214, 39, 40)
    return tuple(round(255 + (c - 255) * strength) for c in target)


def _short(source: str, width: int = 22) -> str:
    name = source.rsplit("/", 1)[-1]
    return name if len(name) <= width else "..." + name[-(width - 3) :]
