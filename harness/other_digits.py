"""Digits that never were MNIST: printed in typefaces, in handwriting fonts, and drawn with
pen strokes, at several thicknesses, slants and proportions, with a fixed seed.

No image comes from MNIST and none is used in training: it measures how a model trained on
MNIST reads digits written by other hands and tools. Each digit is drawn large, dark on
light paper with a little noise, then made into a 28x28 digit by the runtime's own
preprocessing (`to_mnist`), as a user's picture would be. Three kinds, a third each:

- typeface: printed fonts (sans, serif, mono; regular, bold, italic) from Debian's
  fonts-dejavu-core, fonts-liberation2, fonts-freefont-ttf and fonts-urw-base35;
- handwriting font: fonts made from people's handwriting or imitating it (fonts-bwht,
  fonts-breip, fonts-humor-sans, fonts-comic-neue, fonts-dancingscript, URW's Z003);
- pen strokes: each digit's strokes (several ways of writing 1, 4, 7 and 9) with wobbly
  control points, pen widths from a fine pen to a marker, leaning either way.

The fonts come from Debian packages (`.ci/system-packages` installs them for CI).
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_edge.runtime import Predictor
from mnist_edge.runtime.preprocess import to_mnist

COUNT = 1800  # 600 of each kind, 60 of each digit in each
SEED = 0
KINDS = ("typeface", "handwriting font", "pen strokes")
FONT_ROOT = Path("/usr/share/fonts")
TYPEFACES = {  # Debian package: (folder under FONT_ROOT, font files)
    "fonts-dejavu-core": (
        "truetype/dejavu",
        "DejaVuSans DejaVuSans-Bold DejaVuSansMono DejaVuSansMono-Bold DejaVuSerif "
        "DejaVuSerif-Bold",
    ),
    "fonts-liberation2": (
        "truetype/liberation2",
        " ".join(
            f"Liberation{face}-{style}"
            for face in ("Sans", "Serif", "Mono")
            for style in ("Regular", "Bold", "Italic", "BoldItalic")
        ),
    ),
    "fonts-freefont-ttf": (
        "truetype/freefont",
        "FreeSans FreeSansBold FreeSansOblique FreeSansBoldOblique FreeSerif FreeSerifBold "
        "FreeSerifItalic FreeSerifBoldItalic FreeMono FreeMonoBold FreeMonoOblique "
        "FreeMonoBoldOblique",
    ),
    "fonts-urw-base35": (
        "opentype/urw-base35",
        "C059-Roman C059-Bold C059-Italic C059-BdIta NimbusMonoPS-Regular NimbusMonoPS-Bold "
        "NimbusMonoPS-Italic NimbusMonoPS-BoldItalic NimbusRoman-Regular NimbusRoman-Bold "
        "NimbusRoman-Italic NimbusRoman-BoldItalic NimbusSans-Regular NimbusSans-Bold "
        "NimbusSans-Italic NimbusSans-BoldItalic NimbusSansNarrow-Regular NimbusSansNarrow-Bold "
        "NimbusSansNarrow-Oblique NimbusSansNarrow-BoldOblique P052-Roman P052-Bold P052-Italic "
        "P052-BoldItalic URWBookman-Light URWBookman-Demi URWBookman-LightItalic "
        "URWBookman-DemiItalic URWGothic-Book URWGothic-Demi URWGothic-BookOblique "
        "URWGothic-DemiOblique",
    ),
}
HANDWRITING = {
    "fonts-bwht": (
        "opentype/bwht",
        " ".join(
            f"BecauseWe{name}-Regular"
            for name in ("Build", "Connect", "Create", "Learn", "Mentor", "Organize")
        ),
    ),
    "fonts-breip": ("truetype/breip", "Breip"),
    "fonts-humor-sans": ("truetype/humor-sans", "Humor-Sans"),
    "fonts-comic-neue": (
        "opentype/comic-neue",
        "ComicNeue-Regular ComicNeue-Bold ComicNeue-Light ComicNeue-Italic ComicNeue-LightItalic",
    ),
    "fonts-dancingscript": ("opentype/dancingscript", "DancingScript-Regular"),
    "fonts-urw-base35": ("opentype/urw-base35", "Z003-MediumItalic"),
}
FONT_PACKAGES = sorted(set(TYPEFACES) | set(HANDWRITING))
GLYPH_SIZE = 64  # font size in pixels; the digit is drawn about this tall, then shrunk
PEN_HEIGHT = 100  # height of a stroke-drawn digit, in pixels


def font_files(fonts: dict[str, tuple[str, str]]) -> list[Path]:
    """The font files, in a fixed order; one line naming the package when one is missing."""
    found = []
    for package, (folder, names) in fonts.items():
        for name in names.split():
            matches = sorted((FONT_ROOT / folder).glob(f"{name}.[ot]tf"))
            if not matches:
                raise FileNotFoundError(
                    f"font {name} not found in {FONT_ROOT / folder}: apt-get install {package}"
                )
            found.append(matches[0])
    return found


# Each digit as pen strokes, in a box 0.6 wide and 1 tall (x right, y down). Arcs are
# (centre x, centre y, radius x, radius y, from degrees, to degrees), 0 degrees pointing
# right and angles growing clockwise on screen (y points down).
def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> list:
    steps = max(2, int(abs(end - start) / 10))
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def figure_eight() -> list:
    """An 8 in one stroke: down the right of the top loop, across, round the bottom loop."""
    turns = np.linspace(0, 2 * math.pi, 60)
    return [(0.3 + 0.27 * math.sin(2 * t), 0.5 - 0.49 * math.cos(t)) for t in turns]


STROKES: dict[int, list[list[list[tuple[float, float]]]]] = {  # digit: ways of writing it
    0: [[arc(0.3, 0.5, 0.28, 0.48, -90, 270)], [arc(0.3, 0.5, 0.25, 0.48, -80, 290)]],
    1: [
        [[(0.32, 0.0), (0.3, 1.0)]],
        [[(0.1, 0.22), (0.34, 0.0), (0.34, 1.0)]],
        [[(0.1, 0.2), (0.32, 0.0), (0.32, 1.0)], [(0.1, 1.0), (0.54, 1.0)]],
    ],
    2: [
        [arc(0.3, 0.27, 0.27, 0.26, 200, 390) + [(0.02, 1.0), (0.6, 1.0)]],
        [arc(0.3, 0.3, 0.28, 0.28, 190, 360) + arc(0.0, 0.3, 0.58, 0.7, 0, 80) + [(0.6, 0.98)]],
    ],
    3: [
        [arc(0.3, 0.25, 0.25, 0.24, 200, 450) + arc(0.3, 0.74, 0.29, 0.26, 270, 520)],
        [[(0.04, 0.0), (0.56, 0.0), (0.22, 0.4)] + arc(0.3, 0.7, 0.29, 0.3, 250, 510)],
    ],
    4: [
        [[(0.44, 1.0), (0.44, 0.0), (0.0, 0.68), (0.6, 0.68)]],
        [[(0.08, 0.0), (0.02, 0.6), (0.6, 0.6)], [(0.46, 0.22), (0.46, 1.0)]],
    ],
    5: [
        [[(0.56, 0.0), (0.1, 0.0), (0.06, 0.45)] + arc(0.3, 0.68, 0.28, 0.31, 235, 510)],
        [
            [(0.08, 0.02), (0.04, 0.46)] + arc(0.3, 0.68, 0.28, 0.31, 235, 510),
            [(0.08, 0.02), (0.56, 0.0)],
        ],
    ],
    6: [
        [arc(0.62, 0.62, 0.58, 0.62, 245, 180) + arc(0.31, 0.72, 0.27, 0.27, 180, 540)],
        [[(0.5, 0.0), (0.1, 0.55)] + arc(0.31, 0.72, 0.26, 0.27, 200, 560)],
    ],
    7: [
        [[(0.02, 0.0), (0.58, 0.0), (0.2, 1.0)]],
        [[(0.02, 0.0), (0.58, 0.0), (0.2, 1.0)], [(0.14, 0.52), (0.5, 0.52)]],
        [[(0.0, 0.12), (0.06, 0.0), (0.58, 0.0), (0.3, 1.0)]],
    ],
    8: [
        [arc(0.3, 0.25, 0.22, 0.24, 90, 450), arc(0.3, 0.74, 0.28, 0.26, -90, 270)],
        [figure_eight()],
    ],
    9: [
        [arc(0.3, 0.28, 0.27, 0.27, 0, 360), [(0.57, 0.28), (0.52, 1.0)]],
        [arc(0.3, 0.28, 0.27, 0.27, 0, 360) + arc(0.0, 0.28, 0.57, 0.7, 0, 100)],
        [arc(0.3, 0.28, 0.27, 0.27, 0, 360), [(0.57, 0.28), (0.3, 1.0)]],
    ],
}


@dataclass(frozen=True)
class OtherDigits:
    images: np.ndarray  # uint8 (N, 28, 28), MNIST format (the runtime's preprocessing)
    labels: np.ndarray  # int (N,)
    kinds: np.ndarray  # str (N,), one of KINDS


def font_digit(font: Path, digit: int, rng: np.random.Generator) -> Image.Image:
    """`digit` in `font`, dark on light, thickened or not, slanted and turned a little."""
    face = ImageFont.truetype(str(font), GLYPH_SIZE)
    thicker = int(rng.choice([0, 0, 1, 2]))  # Pillow's stroke_width, pixels
    left, top, right, bottom = face.getbbox(str(digit), stroke_width=thicker)
    margin = GLYPH_SIZE // 8
    canvas = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), 255)
    ImageDraw.Draw(canvas).text(
        (margin - left, margin - top),
        str(digit),
        fill=0,
        font=face,
        stroke_width=thicker,
        stroke_fill=0,
    )
    return slanted(canvas, rng.uniform(-0.25, 0.3), rng.uniform(-8, 8))


def pen_digit(digit: int, rng: np.random.Generator) -> Image.Image:
    """`digit` drawn with pen strokes: one way of writing it, wobbly, a random pen width."""
    strokes = STROKES[digit][rng.integers(len(STROKES[digit]))]
    width_scale = rng.uniform(0.75, 1.3)
    pen = max(2, round(PEN_HEIGHT * rng.uniform(0.035, 0.17)))  # a fine pen to a marker
    margin = PEN_HEIGHT // 8
    size = (round(PEN_HEIGHT * 0.6 * width_scale) + 2 * margin, PEN_HEIGHT + 2 * margin)
    canvas = Image.new("L", size, 255)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        wobble = rng.normal(0, 0.02, size=(len(stroke), 2)).cumsum(axis=0) / 2
        points = [
            (margin + PEN_HEIGHT * (x + dx) * width_scale, margin + PEN_HEIGHT * (y + dy))
            for (x, y), (dx, dy) in zip(stroke, wobble, strict=True)
        ]
        draw.line(points, fill=0, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):  # round pen ends
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=0)
    return slanted(canvas, rng.uniform(-0.2, 0.45), rng.uniform(-10, 10))


def slanted(picture: Image.Image, shear: float, degrees: float) -> Image.Image:
    """Leaning right by `shear` (x moves with height), then turned by `degrees`, in one
    resampling onto a canvas that holds the whole result."""
    angle = math.radians(degrees)
    forward = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    forward = forward @ np.array([[1.0, -shear], [0.0, 1.0]])  # (x, y), y down: top leans right
    width, height = picture.size
    corners = forward @ np.array([[0, width, 0, width], [0, 0, height, height]])
    low, high = corners.min(axis=1), corners.max(axis=1)
    inverse = np.linalg.inv(forward)
    offset = inverse @ low  # output (0, 0) reads input at inverse @ low
    coefficients = (*inverse[0], offset[0], *inverse[1], offset[1])
    size = tuple(int(math.ceil(v)) for v in high - low)
    return picture.transform(
        size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR, fillcolor=255
    )


def on_paper(picture: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Ink of a random darkness on paper of a random lightness, with a little noise."""
    ink = 1 - np.asarray(picture, dtype=np.float32) / 255
    paper, pen = rng.uniform(180, 255), rng.uniform(0, 80)
    grey = paper + (pen - paper) * ink + rng.normal(0, rng.uniform(0, 5), ink.shape)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def other_digits(count: int = COUNT, seed: int = SEED) -> OtherDigits:
    """`count` digits, the kinds and the ten digits in turn, made with a fixed seed."""
    rng = np.random.default_rng(seed)
    fonts = {"typeface": font_files(TYPEFACES), "handwriting font": font_files(HANDWRITING)}
    images, labels, kinds = [], [], []
    for n in range(count):
        kind, digit = KINDS[n % len(KINDS)], (n // len(KINDS)) % 10
        if kind == "pen strokes":
            picture = pen_digit(digit, rng)
        else:
            picture = font_digit(fonts[kind][rng.integers(len(fonts[kind]))], digit, rng)
        images.append(to_mnist(on_paper(picture, rng)))
        labels.append(digit)
        kinds.append(kind)
    return OtherDigits(np.stack(images), np.array(labels), np.array(kinds))


def other_score(predictor: Predictor, digits: OtherDigits) -> dict[str, float]:
    """Accuracy on the whole set ('all') and on each kind."""
    correct = predictor.predict(digits.images).argmax(axis=1) == digits.labels
    scores = {"all": float(correct.mean())}
    scores.update({kind: float(correct[digits.kinds == kind].mean()) for kind in KINDS})
    return scores
