"""The page in a real browser: web/dist served on 127.0.0.1, Debian's Chromium driven by Playwright.

Used by the browser tests, `make web-screenshot` and `make bench-web`. Playwright cannot
download its own browsers here, so it launches the system Chromium (`apt-get install chromium`).
"""

import base64
import functools
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; MNIST_EDGE_CHROMIUM names another
# As root with no network but the package registries: no sandbox, no GPU, and none of the
# background connections Chromium would otherwise try (and fail) to make.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install it with `apt-get install chromium` (or `bash .ci/system-packages`), "
    "or point MNIST_EDGE_CHROMIUM at a Chromium executable"
)
LOCAL_HOSTS = ("127.0.0.1", "localhost")
MOUSE_STEP = 15  # CSS pixels between the mouse events of a drawn stroke

# Digits drawn on the pad: strokes of (x, y) points as fractions of the pad's side.
TURN = [2 * math.pi * step / 24 for step in range(25)]
ELLIPSE = [(0.5 + 0.2 * math.sin(angle), 0.5 - 0.3 * math.cos(angle)) for angle in TURN]
STROKES = {
    "1": [[(0.52, 0.18), (0.48, 0.82)]],
    "0": [ELLIPSE],
    "7": [[(0.3, 0.2), (0.7, 0.2), (0.42, 0.82)]],
    "4": [[(0.4, 0.18), (0.3, 0.58), (0.72, 0.58)], [(0.62, 0.32), (0.62, 0.84)]],
}


# Installed in every page this harness opens: arrays cross to Python as base64 of their bytes,
# the exact bits (JSON numbers would lose float32 precision and cost far more).
BASE64_HELPERS = """
window.fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
window.toBase64 = (array) => {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return btoa(text);
};
"""


class BrowserMissing(RuntimeError):
    """Chromium or Playwright is not installed; the message says how to install it."""


@contextmanager
def served(folder: Path = DIST, index: Path | None = None) -> Iterator[str]:
    """The folder on a local static server (Python's http.server); yields its base URL."""
    index = index or folder / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"{index} missing: build the page with `make web`")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def chromium() -> Iterator["Browser"]:
    """Headless system Chromium under Playwright, or BrowserMissing saying how to install it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing("Playwright is not installed: pip install -e '.[dev]'") from None
    executable = Path(os.environ.get("MNIST_EDGE_CHROMIUM", CHROMIUM))
    if not executable.is_file():
        raise BrowserMissing(f"no Chromium at {executable}: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(
    browser: "Browser", url: str, width: int = 1100, height: int = 900, wait_until: str = "load"
) -> "Page":
    """A page in a fresh context (empty cache), every request's URL kept in page.requests."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(BASE64_HELPERS)
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requests.append(request.url))  # type: ignore[attr-defined]
    page.goto(url, wait_until=wait_until)
    return page


def wait_until_ready(page: "Page") -> None:
    """Until the default model is loaded (the page marks 'model-ready')."""
    page.wait_for_function("performance.getEntriesByName('model-ready').length > 0")


def draw(page: "Page", digit: str, lift: bool = True) -> None:
    """Draw one of STROKES with the mouse on the pad, as a person would (`lift=False` keeps the
    button down at the end of the last stroke)."""
    box = page.locator("#pad").bounding_box()
    for number, stroke in enumerate(STROKES[digit], start=1):
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for start, end in zip(points, points[1:], strict=False):
            steps = max(1, round(math.dist(start, end) / MOUSE_STEP))
            page.mouse.move(*end, steps=steps)
        if lift or number < len(STROKES[digit]):
            page.mouse.up()


def status(page: "Page") -> str:
    return page.get_by_role("status").inner_text().strip()


def foreign_requests(page: "Page") -> list[str]:
    """Requests that went anywhere but this machine (data: and blob: URLs stay in the page)."""
    from urllib.parse import urlsplit

    parts = [urlsplit(url) for url in page.requests]  # type: ignore[attr-defined]
    return [
        part.geturl()
        for part in parts
        if part.scheme not in ("data", "blob") and part.hostname not in LOCAL_HOSTS
    ]


def base64_of(array: np.ndarray) -> str:
    """An array's bytes as base64, for the page's fromBase64 (the exact bits)."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def base64_array(text: str, dtype: type) -> np.ndarray:
    """An array the page sent as base64 of its bytes (the exact bits, unlike JSON numbers)."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)
