"""The page as a person uses it: drawing with the mouse, opening and dropping files, the keyboard,
a phone-sized screen, the int8 model, and no request leaving this machine.

What the page shows is checked against the Python runtime on the same pixels, not against
numbers written into the test.
"""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from harness.browser import (
    DIST,
    draw,
    foreign_requests,
    open_page,
    served,
    status,
    wait_until_ready,
)
from mnist_edge.core.errors import InputError
from mnist_edge.runtime import Predictor, catalog
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.predictor import default_model_path
from mnist_edge.runtime.preprocess import to_mnist
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PERCENT = 0.05 + 1e-3  # the page shows probabilities rounded to 0.1 percentage points
SAMPLE = ROOT / "samples" / "drawn-3-transparent.png"
STATUS = re.compile(r"^(\d) \((\d+\.\d)% sure\)$")

SETTLED = """() => {
  const line = document.querySelector('[role=status]');
  return line.getAttribute('aria-busy') !== 'true' && /^\\d \\(/.test(line.textContent.trim());
}"""
PAD_PNG = "() => document.getElementById('pad').toDataURL('image/png').split(',')[1]"
SEEN_PIXELS = """() => Array.from(
  document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data
).filter((_, i) => i % 4 === 0)"""
DROP = """async ({ data, name }) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], name, { type: 'image/png' }));
  const drop = new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true });
  document.querySelector('.input').dispatchEvent(drop);
}"""


def shown(page) -> tuple[str, float]:
    """(digit, percent) from the role="status" line, once it shows the latest prediction."""
    page.wait_for_function(SETTLED)
    match = STATUS.match(status(page))
    assert match, f"status line {status(page)!r}"
    return match[1], float(match[2])


def expected_reading(image: Image.Image, model: str | None = None) -> tuple[np.ndarray, ...]:
    """(28x28 digit, probabilities) of the Python runtime for the same picture."""
    digit = to_mnist(image)
    path = default_model_path() if model is None else default_model_path().parent / model
    return digit, Predictor(path).predict(digit[None])[0]


def assert_shows(page, image: Image.Image, model: str | None = None) -> str:
    """The page shows what the runtime computes for `image`: same 28x28, digit and percent."""
    digit, probabilities = expected_reading(image, model)
    label, percent = shown(page)
    assert np.array_equal(np.array(page.evaluate(SEEN_PIXELS)).reshape(28, 28), digit)
    assert label == str(probabilities.argmax())
    assert abs(percent - 100 * probabilities.max()) <= PERCENT
    return label


def pad_picture(page) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(page.evaluate(PAD_PNG))))


@pytest.mark.parametrize("digit", ["1", "0", "7"])
def test_drawn_digit_is_read_live(page, digit: str) -> None:
    """Strokes drawn with the mouse are read while drawing, as the runtime reads the pad."""
    draw(page, digit, lift=False)
    shown(page)  # a reading while the button is still down
    page.mouse.up()
    assert assert_shows(page, pad_picture(page)) == digit


def test_blank_and_cleared_pad(page) -> None:
    assert status(page) == "Draw a digit"
    draw(page, "7")
    shown(page)
    page.get_by_role("button", name="Clear").click()
    assert status(page) == "Draw a digit"
    assert not any(page.evaluate(SEEN_PIXELS))


def test_clear_with_the_keyboard(page) -> None:
    draw(page, "1")
    shown(page)
    for _ in range(10):  # Tab through the page to the Clear button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Clear":
            break
    page.keyboard.press("Enter")
    assert status(page) == "Draw a digit"


def test_opened_file_is_read(page) -> None:
    page.set_input_files("input[type=file]", SAMPLE)
    assert_shows(page, open_image(SAMPLE))
    assert SAMPLE.name in page.locator("#source").inner_text()


def test_dropped_file_is_read(page) -> None:
    data = base64.b64encode(SAMPLE.read_bytes()).decode()
    page.evaluate(DROP, {"data": data, "name": SAMPLE.name})
    assert_shows(page, open_image(SAMPLE))


def test_a_blank_image(page, tmp_path) -> None:
    """No guess for a picture without ink: the runtime's own message, as the runtime words it."""
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    with pytest.raises(InputError) as refused:
        to_mnist(open_image(blank))
    page.set_input_files("input[type=file]", blank)
    page.wait_for_function("document.querySelector('[role=status]').textContent.includes('blank')")
    assert status(page) == str(refused.value)[0].upper() + str(refused.value)[1:]


def test_a_file_that_is_not_an_image(page, tmp_path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("shopping list: milk, eggs\n")
    page.set_input_files("input[type=file]", notes)
    page.wait_for_function("document.querySelector('[role=status]').textContent.includes('notes')")
    assert status(page) == "notes.png: not an image this browser can decode"


def test_int8_model_is_selectable(page) -> None:
    int8 = default_model_path(int8=True).name
    page.select_option("#model", int8)
    name = f"{catalog.DEFAULT}{catalog.INT8}"  # as the command line names it: cnn.int8
    page.wait_for_function(
        f"document.getElementById('model-info').textContent.startsWith('{name} ')"
    )
    assert "int8" in page.locator("#model-info").inner_text()
    draw(page, "7")
    assert assert_shows(page, pad_picture(page), int8) == "7"


def test_model_described_from_its_own_metadata(page) -> None:
    predictor = Predictor()  # the default, the page's first model too
    accuracy = 100 * predictor.metadata["training_metrics"]["test_accuracy"]
    info = page.locator("#model-info").inner_text()
    assert info.startswith(f"{catalog.DEFAULT} ")  # named as on the command line
    options = page.locator("#model option").all_inner_texts()
    assert [option.split()[0] for option in options][0] == catalog.DEFAULT
    assert sorted(option.split()[0] for option in options) == sorted(catalog.names())
    assert f"test accuracy {accuracy:.2f}%" in info
    assert f"{round(predictor.model_path.stat().st_size / 1024)} KiB" in info


def test_phone_width(browser, site) -> None:
    """At 360 px wide nothing overflows sideways and the pad still draws."""
    page = open_page(browser, site, width=360, height=740)
    try:
        wait_until_ready(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.locator("#pad").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        draw(page, "1")
        assert shown(page)[0] == "1"
    finally:
        page.context.close()


def test_no_request_leaves_this_machine(page, tmp_path) -> None:
    """Loading, drawing, opening a file and switching models: every request stays on 127.0.0.1."""
    draw(page, "0")
    shown(page)
    page.set_input_files("input[type=file]", SAMPLE)
    page.select_option("#model", default_model_path(int8=True).name)
    page.wait_for_function("document.getElementById('model-info').textContent.includes('int8')")
    assert len(page.requests) > 5  # the page, its modules, onnxruntime-web and the models
    assert foreign_requests(page) == []
    wasm = [url for url in page.requests if url.endswith(".wasm")]
    assert len(wasm) == 1, "onnxruntime's WebAssembly should be fetched once (the preload used)"


def test_works_under_any_path(browser) -> None:
    """Everything is relative: served from web/, the page at /dist/ loads and reads a digit."""
    with served(DIST.parent, index=DIST / "index.html") as url:
        page = open_page(browser, f"{url}dist/")
        try:
            wait_until_ready(page)
            draw(page, "1")
            assert shown(page)[0] == "1"
        finally:
            page.context.close()
