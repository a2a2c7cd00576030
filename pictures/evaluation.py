"""Evaluation pictures: the confusion matrix and the most confident mistakes."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.pictures.drawing import (
    BACKGROUND,
    GAP,
    HEADING,
    INK,
    LABEL,
    MARGIN,
    MUTED,
    PREDICTED,
    TEXT,
    TINY,
    WRONG,
    centred_text,
    enlarged,
    mixed,
)
from mnist_edge.runtime.records import Prediction

if TYPE_CHECKING:
    from PIL.Image import Image

CELL = 56  # confusion matrix cell, pixels
AXIS = 90  # room for the true-digit axis left of the matrix
HEADER = 96  # room for the title and the predicted-digit axis above it
MISTAKE_SCALE = 4  # 28x28 digits at 112x112
MISTAKE_COLUMNS = 6
CAPTION = 44  # under each mistake: true -> predicted, and the file name
MISTAKE_BOOST = 10  # mistakes are rare: a 10% share of a row is shaded fully red


def confusion_picture(confusion: np.ndarray, title: str = "Confusion matrix") -> "Image":
    """10x10 counts, rows the true digit, columns the predicted one; shade by row share."""
    from PIL import Image, ImageDraw

    left, top, side = AXIS, HEADER, NUM_CLASSES * CELL
    size = (left + side + MARGIN, top + side + 2 * MARGIN + GAP)
    canvas = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    for true in range(NUM_CLASSES):
        for predicted in range(NUM_CLASSES):
            box = _cell_box(left, top, true, predicted)
            diagonal = true == predicted
            strength = share[true, predicted] * (1 if diagonal else MISTAKE_BOOST)
            fill = mixed(PREDICTED if diagonal else WRONG, min(1.0, strength))
            draw.rectangle(box, fill=fill, outline=BACKGROUND)
            if confusion[true, predicted]:
                colour = BACKGROUND if share[true, predicted] > 0.5 else INK
                centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
                centred_text(draw, centre, f"{int(confusion[true, predicted]):,}", TEXT, colour)
        centred_text(draw, (left - HEADING, top + true * CELL + CELL / 2), str(true), HEADING)
        centred_text(draw, (left + true * CELL + CELL / 2, top - LABEL), str(true), HEADING)
    centred_text(draw, (left + side / 2, top - 44), "predicted digit", LABEL, MUTED)
    label = Image.new("RGB", (200, MARGIN), BACKGROUND)
    centred_text(ImageDraw.Draw(label), (100, MARGIN / 2), "true digit", LABEL, MUTED)
    canvas.paste(label.rotate(90, expand=True), (20, top + side // 2 - 100))
    accuracy = np.trace(confusion) / max(confusion.sum(), 1)
    heading = f"{title}: accuracy {accuracy:.2%} on {confusion.sum():,}"
    centred_text(draw, (size[0] / 2, 20), heading, HEADING)
    footer = "off-diagonal cells are mistakes"
    centred_text(draw, (size[0] / 2, size[1] - MARGIN), footer, TEXT - 1, MUTED)
    return canvas


def mistakes_picture(mistakes: Sequence[Prediction]) -> "Image":
    """A grid of wrong predictions, most confident first, captioned true -> predicted."""
    from PIL import Image, ImageDraw

    side = IMAGE_SIZE * MISTAKE_SCALE
    cell_w, cell_h = side + MARGIN, side + CAPTION
    rows = max(1, -(-len(mistakes) // MISTAKE_COLUMNS))
    size = (MISTAKE_COLUMNS * cell_w + MARGIN, rows * cell_h + 60)
    canvas = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    title = f"The {len(mistakes)} most confident mistakes (true -> predicted, confidence)"
    centred_text(draw, (canvas.width / 2, MARGIN), title if mistakes else "No mistakes", 17)
    for n, prediction in enumerate(mistakes):
        x = MARGIN + (n % MISTAKE_COLUMNS) * cell_w
        y = 52 + (n // MISTAKE_COLUMNS) * cell_h
        canvas.paste(enlarged(prediction.image, MISTAKE_SCALE).convert("RGB"), (x, y))
        digit = prediction.digit
        caption = f"{prediction.label} -> {digit}, {float(prediction.probabilities[digit]):.0%}"
        centred_text(draw, (x + side / 2, y + side + GAP), caption, TEXT, WRONG)
        name = _short(prediction.source)
        centred_text(draw, (x + side / 2, y + side + GAP + LABEL), name, TINY, MUTED)
    return canvas


def _cell_box(left: int, top: int, row: int, col: int) -> tuple[int, int, int, int]:
    return (left + col * CELL, top + row * CELL, left + (col + 1) * CELL, top + (row + 1) * CELL)


def _short(source: str, width: int = 22) -> str:
    name = source.rsplit("/", 1)[-1]
    return name if len(name) <= width else "..." + name[-(width - 3) :]
