"""`mnist-edge show`: one input as given, what the model sees, and the ten probabilities."""

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.core.errors import InputError
from mnist_edge.pictures.drawing import (
    BACKGROUND,
    BAR,
    GAP,
    INK,
    LABEL,
    MARGIN,
    MUTED,
    PREDICTED,
    RIGHT,
    SMALL,
    TEXT,
    TITLE,
    WRONG,
    centred_text,
    enlarged,
    fitted,
)
from mnist_edge.runtime.array_inputs import read_array_file
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.records import Prediction
from mnist_edge.runtime.sources import ArrayFile, ImageFile, Source, expand

if TYPE_CHECKING:
    from PIL import ImageDraw
    from PIL.Image import Image

Box = tuple[int, int, int, int]  # left, top, right, bottom
SCALE = 10  # the 28x28 model input drawn at 10x: each panel is 280x280
PANEL = IMAGE_SIZE * SCALE
HEADER = 56  # the verdict and the input's name
CAPTION = 40  # under each panel
BAR_SLOT = PANEL // NUM_CLASSES
BAR_PADDING = 4  # each side of a bar inside its slot
BAR_HEADROOM = 18  # above a full bar: room for its percentage
DIGIT_ROW = 24  # under the bars: the digits 0-9


@dataclass(frozen=True)
class Shown:
    """One input ready to be drawn."""

    source: str  # printable: a file, or file#index for an image inside an array file
    original: "Image"  # the input as given
    model_input: np.ndarray  # uint8 (28, 28): what the model receives
    label: int | None  # the true digit, when the input comes with one


@dataclass(frozen=True)
class ShowLayout:
    """Where things are in the picture (for readers and tests)."""

    original: Box
    model_input: Box
    bars: tuple[Box, ...]  # one per digit 0-9, the full height a probability of 1 would take


def show_source(path: Path, index: int | None = None) -> Source:
    """The one input `show` draws, as the pipeline's source: an image file (with its label
    from a labels.csv beside it), or image `index` (default 0) of an array file.
    InputError for a folder, or --index on an image file."""
    if os.path.isdir(path):
        raise InputError("is a folder; show draws one input: name an image or array file")
    source = next(expand([path], labelled=True))
    if isinstance(source, ArrayFile):
        position = index or 0
        return replace(source, start=position, stop=position + 1)
    if index is not None and isinstance(source, ImageFile):
        raise InputError("--index applies to array files (.npy, .npz, IDX) only")
    return source


def shown(prediction: Prediction, source: Source) -> Shown:
    """A predicted input ready to be drawn; an image file is opened again to be shown as
    given (it decoded once already, within the same limits)."""
    from PIL import Image

    if isinstance(source, ImageFile):
        original = open_image(Path(source.path))
    else:
        original = Image.fromarray(prediction.image)
    return Shown(prediction.source, original, prediction.image, prediction.label)


def out_of_range(source: ArrayFile) -> str:
    """Why an array file that could be read gave no image at --index."""
    try:
        count = read_array_file(source).count
    except InputError as error:
        return str(error)
    return f"--index {source.start} is out of range: the file holds {count:,}"


def render(shown: Shown, probabilities: np.ndarray) -> tuple["Image", ShowLayout]:
    """Three panels: the input as given, the model's 28x28 input, the probabilities."""
    from PIL import Image, ImageDraw

    width = 3 * PANEL + 4 * MARGIN
    height = HEADER + PANEL + CAPTION + MARGIN
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    boxes = [_panel(i) for i in range(3)]
    original = fitted(shown.original, PANEL)
    offset = ((PANEL - original.width) // 2, (PANEL - original.height) // 2)
    canvas.paste(original, (boxes[0][0] + offset[0], boxes[0][1] + offset[1]))
    canvas.paste(enlarged(shown.model_input, SCALE).convert("RGB"), boxes[1][:2])
    for box in boxes[:2]:
        draw.rectangle((box[0] - 1, box[1] - 1, box[2], box[3]), outline=MUTED)
    digit = int(np.argmax(probabilities))
    bars = _bars(draw, boxes[2], probabilities, digit, shown.label)
    captions = ("input as given", "what the model sees (28x28)", "probabilities")
    for box, caption in zip(boxes, captions, strict=True):
        centre = ((box[0] + box[2]) / 2, box[3] + CAPTION * 0.6)
        centred_text(draw, centre, caption, LABEL, MUTED)
    verdict = f"predicted {digit} ({float(probabilities[digit]):.1%})"
    if shown.label is not None:
        verdict += f", true {shown.label}" + (" - right" if shown.label == digit else " - WRONG")
    centred_text(draw, (width / 2, HEADER / 2 - 8), verdict, TITLE)
    centred_text(draw, (width / 2, HEADER - GAP), shown.source, TEXT - 1, MUTED)
    return canvas, ShowLayout(boxes[0], boxes[1], bars)


def _panel(column: int) -> Box:
    left = MARGIN + column * (PANEL + MARGIN)
    return (left, HEADER, left + PANEL, HEADER + PANEL)


def _bars(
    draw: "ImageDraw.ImageDraw",
    box: Box,
    probabilities: np.ndarray,
    digit: int,
    label: int | None,
) -> tuple[Box, ...]:
    """Vertical bars for the digits 0-9; the predicted one coloured, the true one marked."""
    left, top, right, bottom = box
    baseline = bottom - DIGIT_ROW
    slots = []
    for d, probability in enumerate(probabilities):
        x0 = left + d * BAR_SLOT + BAR_PADDING
        x1 = x0 + BAR_SLOT - 2 * BAR_PADDING
        full = (x0, top + BAR_HEADROOM, x1, baseline)
        slots.append(full)
        bar_top = baseline - round(float(probability) * (baseline - full[1]))
        colour = BAR
        if d == digit:
            colour = PREDICTED if label is None else RIGHT if label == digit else WRONG
        if bar_top < baseline:
            draw.rectangle((x0, bar_top, x1, baseline), fill=colour)
        if probability >= 0.01:
            centred_text(draw, ((x0 + x1) / 2, bar_top - 8), f"{probability:.0%}", SMALL, MUTED)
        is_true = label == d
        size, fill = (LABEL, RIGHT) if is_true else (TEXT, INK)
        centred_text(draw, ((x0 + x1) / 2, baseline + GAP), str(d), size, fill)
        if is_true:
            underline = baseline + DIGIT_ROW - 2
            draw.line((x0, underline, x1, underline), fill=RIGHT, width=2)
    draw.line((left, baseline, right, baseline), fill=MUTED)
    return tuple(slots)


def default_output(path: Path, index: int | None) -> Path:
    """Where the picture goes without --output: the current folder, named after the input."""
    suffix = "" if index is None else f"-{index}"
    return Path(f"{path.name.split('.')[0]}{suffix}-show.png")
