"""`mnist-edge show`: one input as given, what the model sees, and the ten probabilities."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_edge.core.errors import InputError
from mnist_edge.pictures.drawing import (
    BACKGROUND,
    BAR,
    INK,
    MUTED,
    PREDICTED,
    RIGHT,
    WRONG,
    centred_text,
    enlarged,
    fitted,
)
from mnist_edge.runtime.arrays import checked_pixels
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.preprocess import to_mnist
from mnist_edge.runtime.sources import (
    LABELS_FILE,
    ArrayFile,
    classify,
    read_array_file,
    read_labels,
)

if TYPE_CHECKING:
    from PIL.Image import Image

Box = tuple[int, int, int, int]  # left, top, right, bottom
PANEL = 280  # each panel is 280x280: the 28x28 model input at 10x
SCALE = PANEL // 28
MARGIN = 24
TITLE_HEIGHT = 56
CAPTION_HEIGHT = 40
BAR_SLOT = PANEL // 10


@dataclass(frozen=True)
class Shown:
    """One input ready to be drawn."""

    source: str  # file, or file#index for an image inside an array file
    original: "Image"  # the input as given
    model_input: np.ndarray  # uint8 (28, 28): what the model receives
    label: int | None  # the true digit, when the input comes with one


@dataclass(frozen=True)
class ShowLayout:
    """Where things are in the picture (for readers and tests)."""

    original: Box
    model_input: Box
    bars: tuple[Box, ...]  # one per digit 0-9, the full height a probability of 1 would take


def load_input(path: Path, index: int | None = None) -> Shown:
    """The input at `path` (image `index` of an array file), preprocessed as `predict` does."""
    from PIL import Image

    source = classify(path)
    if isinstance(source, ArrayFile):
        array = read_array_file(path)
        position = 0 if index is None else index
        if not 0 <= position < len(array.images):
            raise InputError(f"--index {position} is out of range: {len(array.images)} images")
        pixels, (problem,) = checked_pixels(np.asarray(array.images[position : position + 1]))
        if problem:
            raise InputError(problem)
        model_input = pixels[0]
        label = None if array.labels is None else int(array.labels[position])
        return Shown(f"{path}#{position}", Image.fromarray(model_input), model_input, label)
    if index is not None:
        raise InputError("--index applies to array files (.npy, .npz, IDX) only")
    picture = open_image(path)
    labels_file = path.parent / LABELS_FILE
    label = read_labels(labels_file).get(path.name) if labels_file.is_file() else None
    return Shown(str(path), picture, to_mnist(picture), label)


def render(shown: Shown, probabilities: np.ndarray) -> tuple["Image", ShowLayout]:
    """Three panels: the input as given, the model's 28x28 input, the probabilities."""
    from PIL import Image, ImageDraw

    width = 3 * PANEL + 4 * MARGIN
    height = TITLE_HEIGHT + PANEL + CAPTION_HEIGHT + MARGIN
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    top = TITLE_HEIGHT
    boxes = [
        (MARGIN + i * (PANEL + MARGIN), top, MARGIN + i * (PANEL + MARGIN) + PANEL, top + PANEL)
        for i in range(3)
    ]
    original = fitted(shown.original, PANEL)
    canvas.paste(
        original,
        (boxes[0][0] + (PANEL - original.width) // 2, boxes[0][1] + (PANEL - original.height) // 2),
    )
    canvas.paste(enlarged(shown.model_input, SCALE).convert("RGB"), boxes[1][:2])
    for box in boxes[:2]:
        draw.rectangle((box[0] - 1, box[1] - 1, box[2], box[3]), outline=MUTED)
    digit = int(np.argmax(probabilities))
    bars = _bars(draw, boxes[2], probabilities, digit, shown.label)
    captions = ("input as given", "what the model sees (28x28)", "probabilities")
    for box, caption in zip(boxes, captions, strict=True):
        centred_text(
            draw, ((box[0] + box[2]) / 2, box[3] + CAPTION_HEIGHT / 2 + 4), caption, 16, MUTED
        )
    verdict = f"predicted {digit} ({float(probabilities[digit]):.1%})"
    if shown.label is not None:
        verdict += f", true {shown.label}" + (" - right" if shown.label == digit else " - WRONG")
    centred_text(draw, (width / 2, 20), verdict, 22)
    centred_text(draw, (width / 2, 44), shown.source, 13, MUTED)
    return canvas, ShowLayout(boxes[0], boxes[1], bars)


def _bars(
    draw, box: Box, probabilities: np.ndarray, digit: int, label: int | None
) -> tuple[Box, ...]:
    """Vertical bars for the digits 0-9; the predicted one coloured, the true one marked."""
    left, top, _, bottom = box
    baseline = bottom - 24  # room for the digit labels
    slots = []
    for d, probability in enumerate(probabilities):
        x0 = left + d * BAR_SLOT + 4
        x1 = x0 + BAR_SLOT - 8
        full = (x0, top + 18, x1, baseline)  # probability 1 reaches top + 18
        slots.append(full)
        bar_top = baseline - round(float(probability) * (baseline - full[1]))
        colour = BAR
        if d == digit:
            colour = PREDICTED if label is None else RIGHT if label == digit else WRONG
        if bar_top < baseline:
            draw.rectangle((x0, bar_top, x1, baseline), fill=colour)
        if probability >= 0.01:
            centred_text(draw, ((x0 + x1) / 2, bar_top - 8), f"{probability:.0%}", 11, MUTED)
        is_true = label == d
        centred_text(
            draw,
            ((x0 + x1) / 2, baseline + 12),
            str(d),
            16 if is_true else 14,
            RIGHT if is_true else INK,
        )
        if is_true:
            draw.line((x0, baseline + 22, x1, baseline + 22), fill=RIGHT, width=2)
    draw.line((left, baseline, box[2], baseline), fill=MUTED)
    return tuple(slots)


def default_output(path: Path, index: int | None) -> Path:
    """Where the picture goes without --output: the current folder, named after the input."""
    suffix = "" if index is None else f"-{index}"
    return Path(f"{path.name.split('.')[0]}{suffix}-show.png")
