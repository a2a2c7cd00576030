"""The pictures show what they claim: checked pixel by pixel, not just "a file was written"."""

import json

import numpy as np
import pytest
from PIL import Image

from mnist_edge.pictures.drawing import BAR, PREDICTED, RIGHT, WRONG
from mnist_edge.pictures.evaluation import AXIS, CELL, HEADER
from mnist_edge.pictures.show import SCALE, Shown, render, show_source, shown
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.pipeline import predict_sources
from mnist_edge.runtime.preprocess import to_mnist
from tests.conftest import ROOT

SHOW_SIZE = (936, 400)


def load_input(predictor, path, index=None) -> Shown:
    """The input as `show` draws it: through the pipeline, then ready to draw."""
    source = show_source(path, index)
    (prediction,) = predict_sources(predictor, [source])
    return shown(prediction, source)


def panel_pixels(picture: Image.Image, box) -> np.ndarray:
    """The 28x28 pixels behind a panel drawn at SCALE, read at each cell's centre."""
    grey = np.asarray(picture.convert("L"))
    centres = np.arange(28) * SCALE + SCALE // 2
    return grey[box[1] + centres][:, box[0] + centres]


def bar_colour(picture: Image.Image, bar) -> tuple[int, int, int]:
    """The colour just above the baseline, in the middle of a bar's slot."""
    return picture.getpixel(((bar[0] + bar[2]) // 2, bar[3] - 2))


def test_tutorial_check_shows_a_nine_labelled_nine(cli, tmp_path, x_test, predictor):
    result = cli("show", ROOT / "data" / "mnist.npz", "--index", "99", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / result.stdout.strip()
    assert path.name == "mnist-99-show.png"
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.size == SHOW_SIZE
        picture.load()
    nine = load_input(predictor, ROOT / "data" / "mnist.npz", 99)
    assert nine.label == 9 and np.array_equal(nine.model_input, x_test[99])
    _, layout = render(nine, predictor.predict(x_test[99:100])[0])
    assert np.array_equal(panel_pixels(picture, layout.model_input), x_test[99])
    assert bar_colour(picture, layout.bars[9]) == RIGHT


def test_image_panel_is_the_preprocessing_output(tmp_path, predictor):
    sample = ROOT / "samples" / "drawn-5.jpg"
    expected = to_mnist(open_image(sample))
    five = load_input(predictor, sample)
    probabilities = predictor.predict(five.model_input[None])[0]
    picture, layout = render(five, probabilities)
    assert np.array_equal(panel_pixels(picture, layout.model_input), expected)
    digit = int(probabilities.argmax())
    assert bar_colour(picture, layout.bars[digit]) == PREDICTED  # no label known
    others = [bar_colour(picture, bar) for d, bar in enumerate(layout.bars) if d != digit]
    assert PREDICTED not in others


def test_wrong_prediction_is_drawn_red_and_bars_follow_the_probabilities(x_test):
    probabilities = np.array([0.02, 0.05, 0.03, 0.6, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03], np.float32)
    shown = Shown("made-up", Image.fromarray(x_test[0]), x_test[0], label=7)
    picture, layout = render(shown, probabilities)
    assert bar_colour(picture, layout.bars[3]) == WRONG
    assert bar_colour(picture, layout.bars[7]) == BAR
    heights = []
    for bar in layout.bars:
        column = np.asarray(picture)[bar[1] : bar[3], (bar[0] + bar[2]) // 2]
        is_bar = (column == WRONG).all(axis=1) | (column == BAR).all(axis=1)  # not the labels
        heights.append(int(is_bar.sum()))
    assert int(np.argmax(heights)) == 3
    full = layout.bars[3][3] - layout.bars[3][1]
    assert abs(heights[3] - 0.6 * full) <= 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["samples/mnist-9.png", "--index", "3"], "--index applies to array files"),
        (["data/mnist.npz", "--index", "10000"], "--index 10000 is out of range"),
        (["nowhere.png"], "no such file"),
    ],
)
def test_show_errors_are_one_line(cli, args, message, tmp_path):
    result = cli("show", *args, "--output", tmp_path / "x.png")
    assert result.returncode == 1 and message in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "x.png").exists()


def test_evaluate_plots(cli, tmp_path):
    result = cli("evaluate", "data/mnist.npz", "-f", "json", "--plot", tmp_path)
    assert result.returncode == 0, result.stderr
    confusion = np.array(json.loads(result.stdout)["confusion"])
    with Image.open(tmp_path / "confusion.png") as picture:
        assert picture.size == (AXIS + 10 * CELL + 24, HEADER + 10 * CELL + 60)
        grey = np.asarray(picture.convert("L"), dtype=np.float64)
    # each cell's shade, read away from its centred count: a larger share is a darker cell
    shade = np.array(
        [
            [grey[HEADER + row * CELL + 5, AXIS + col * CELL + 5] for col in range(10)]
            for row in range(10)
        ]
    )
    share = confusion / confusion.sum(axis=1, keepdims=True)
    diagonal = np.diag(share).argsort()
    assert np.all(np.diff(np.diag(shade)[diagonal]) <= 0)  # more right: darker blue
    assert shade[share == 0].min() == 255  # no image there: a white cell
    worst = np.unravel_index(np.argmax(share - np.diag(np.diag(share))), share.shape)
    assert shade[worst] < 255  # the commonest mistake is shaded
    with Image.open(tmp_path / "mistakes.png") as picture:
        mistakes = int(confusion.sum() - np.trace(confusion))
        rows = -(-min(36, mistakes) // 6)
        assert picture.size == (6 * (112 + 24) + 24, rows * (112 + 44) + 60)


@pytest.mark.parametrize(
    ("output", "code", "written"),
    [
        ("missing-folder/x.png", 0, "missing-folder/x.png"),
        ("x.unknownext", 2, None),
        (".", 0, "mnist-99-show.png"),
        ("new-folder/", 0, "new-folder/mnist-99-show.png"),  # a folder to make
    ],
)
def test_show_output_paths(cli, tmp_path, output, code, written):
    result = cli("show", ROOT / "data" / "mnist.npz", "--index", "99", "-o", output, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    if written is None:
        assert "name a .png file" in result.stderr and list(tmp_path.iterdir()) == []
    else:
        with Image.open(tmp_path / written) as picture:
            assert picture.format == "PNG"


def test_show_cannot_write(cli, tmp_path):
    (tmp_path / "a-file").touch()
    result = cli("show", "samples/mnist-9.png", "-o", tmp_path / "a-file" / "x.png")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot write" in result.stderr
