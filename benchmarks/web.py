"""The page in headless Chromium: what it transfers, how soon it answers, how fast it reads.

    python -m benchmarks.web [--output docs/browser.md] [--loads 5] [--rounds 3]   (make bench-web)

Serves web/dist from 127.0.0.1 (Python's http.server) and drives Debian's Chromium with
Playwright, as the browser tests do. Writes the "web" section of docs/browser.md.
"""

import argparse
import gzip
import json
import os
import platform
import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from harness.browser import DIST, STROKES, chromium, draw, open_page, served, wait_until_ready
from harness.sections import write_section

FIRST_PREDICTION_TARGET = 1500  # ms from navigation, from a local server
LIVE_TARGET = 16  # ms for one prediction after a stroke: one frame at 60 Hz
GZIP_LEVEL = 6  # what web servers use by default
SINGLE_RUNS = 500  # batch-1 runs of each model alone
MANIFEST = DIST / "models" / "models.json"
DEFAULT_MODEL = "mnist-mlp.onnx"
WHEN_CHOSEN = "(when chosen)"
PARTS = {  # what a first visit fetches, by part; every other model only when chosen
    "page (HTML, CSS, JS modules)": lambda path: path.parent == DIST,
    "onnxruntime-web JS": lambda path: path.suffix == ".mjs",
    "onnxruntime-web WASM": lambda path: path.suffix == ".wasm",
    "default model + manifest": lambda path: path.name in (DEFAULT_MODEL, "models.json"),
}

MARKS = """() => Object.fromEntries(['model-ready', 'first-prediction'].map(
  (name) => [name, performance.getEntriesByName(name)[0].startTime]))"""
LIVE = """() => performance.getEntriesByName('prediction').map(
  (entry) => [entry.duration, entry.detail.preprocess, entry.detail.inference])"""
MODEL_ALONE = """async ({ file, runs }) => {
  const { loadModel, predict } = await import('./model.js');
  const model = await loadModel(file);
  const image = new Uint8Array(784).map((_, i) => (i % 28 > 9 && i % 28 < 18 ? 255 : 0));
  const started = performance.now(); // 0.1 ms resolution: time all the runs together
  for (let run = 0; run < runs; run++) await predict(model, image, 1);
  return (performance.now() - started) / runs;
}"""


@dataclass
class Figures:
    sizes: list[tuple[str, int, int]]  # (part of web/dist, bytes, gzip bytes)
    loads: list[dict[str, float]]  # ms after navigation of 'model-ready', 'first-prediction'
    live: list[tuple[float, float, float]]  # ms of (prediction, preprocessing, inference)
    alone: dict[str, float]  # model file -> mean ms of one batch-1 run
    context: dict[str, str]  # browser, onnxruntime-web version, CPU
    load: tuple[float, float]  # 1-minute load average at the start and at the end


def sizes() -> list[tuple[str, int, int]]:
    files = [path for path in DIST.rglob("*") if path.is_file() and path.name != ".built"]
    parts = []
    others = sorted(path.name for path in files if path.suffix == ".onnx")
    chosen_later = {
        f"`{name}` {WHEN_CHOSEN}": lambda path, name=name: path.name == name
        for name in others
        if name != DEFAULT_MODEL
    }
    for name, belongs in {**PARTS, **chosen_later}.items():
        chosen = [path.read_bytes() for path in files if belongs(path)]
        compressed = sum(len(gzip.compress(data, GZIP_LEVEL)) for data in chosen)
        parts.append((name, sum(len(data) for data in chosen), compressed))
    return parts


def cold_loads(browser, url: str, loads: int) -> list[dict[str, float]]:
    """Fresh contexts (empty cache); a 7 is drawn as soon as the pad shows."""
    marks = []
    for _ in range(loads):
        page = open_page(browser, url, wait_until="commit")
        page.locator("#pad").wait_for()
        draw(page, "7")
        page.wait_for_function("performance.getEntriesByName('first-prediction').length > 0")
        marks.append(page.evaluate(MARKS))
        page.context.close()
    return marks


def live_predictions(browser, url: str, rounds: int) -> list[tuple[float, float, float]]:
    """Every prediction made while each digit of STROKES is drawn `rounds` times."""
    page = open_page(browser, url)
    wait_until_ready(page)
    for _ in range(rounds):
        for digit in STROKES:
            page.get_by_role("button", name="Clear").click()
            draw(page, digit)
    page.wait_for_function("document.querySelector('[role=status]').ariaBusy === 'false'")
    timings = [tuple(timing) for timing in page.evaluate(LIVE)[1:]]  # the first compiles the JS
    page.context.close()
    return timings


def models_alone(browser, url: str) -> dict[str, float]:
    page = open_page(browser, url)
    wait_until_ready(page)
    files = [model["file"] for model in json.loads(MANIFEST.read_text())["models"]]
    means = {
        file: page.evaluate(MODEL_ALONE, {"file": file, "runs": SINGLE_RUNS}) for file in files
    }
    page.context.close()
    return means


def machine(browser) -> dict[str, str]:
    package = json.loads((DIST.parent / "package.json").read_text())
    names = [
        line for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line
    ]
    cpu = names[0].split(":", 1)[1].strip() if names else platform.processor()
    return {
        "browser": f"Chromium {browser.version}",
        "ort": package["dependencies"]["onnxruntime-web"],
        "cpu": f"{cpu}, {os.cpu_count()} cores",
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def met(value: float, target: float) -> str:
    return "yes" if value <= target else "**no**"


def how(figures: Figures) -> str:
    context, (start, end) = figures.context, figures.load
    busy = " (above the core count: other work was waiting for the cores too)"
    return (
        f"Made by `make bench-web` (`python -m benchmarks.web`) on {date.today()}: web/dist "
        f"served by Python's http.server on 127.0.0.1, headless {context['browser']} (Debian) "
        f"driven by Playwright, onnxruntime-web {context['ort']} (WebAssembly, one thread), "
        f"{context['cpu']}, load average {start:.2f} at the start, {end:.2f} at the end"
        f"{busy if max(start, end) > (os.cpu_count() or 1) else ''}. Times are the page's own "
        "`performance` marks (0.1 ms resolution: the page is not cross-origin isolated)."
    )


def targets(figures: Figures) -> list[str]:
    first = [mark["first-prediction"] for mark in figures.loads]
    live = [total for total, _, _ in figures.live]
    first_median, live_median = statistics.median(first), statistics.median(live)
    return [
        "| target | measured | met |",
        "|---|---|---|",
        f"| first prediction within {FIRST_PREDICTION_TARGET / 1000} s of navigation | "
        f"{first_median:.0f} ms (median of {len(first)} cold loads, {min(first):.0f}-"
        f"{max(first):.0f}) | {met(first_median, FIRST_PREDICTION_TARGET)} |",
        f"| one live prediction after a stroke under {LIVE_TARGET} ms | {live_median:.1f} ms "
        f"(median of {len(live)}; p95 {percentile(live, 0.95):.1f} ms) | "
        f"{met(live_median, LIVE_TARGET)} |",
    ]


def notes(figures: Figures) -> list[str]:
    ready = statistics.median(mark["model-ready"] for mark in figures.loads)
    totals, preprocess, inference = (list(column) for column in zip(*figures.live, strict=True))
    return [
        "- Cold load (empty cache, a 7 drawn as soon as the pad shows): the model is loaded and "
        f"warmed up {ready:.0f} ms after navigation (median); the 7 is read right then.",
        f"- A live prediction on the 560x560 pad: preprocessing {statistics.median(preprocess):.1f}"
        f" ms, the model {statistics.median(inference):.1f} ms (medians); the slowest of "
        f"{len(totals)} took {max(totals):.1f} ms.",
        *(
            f"- `{file}` alone, batch 1: {mean * 1000:.0f} µs per run (mean of {SINGLE_RUNS})."
            for file, mean in figures.alone.items()
        ),
    ]


def size_table(parts: list[tuple[str, int, int]]) -> list[str]:
    first = [part for part in parts if WHEN_CHOSEN not in part[0]]
    total, packed = sum(part[1] for part in first), sum(part[2] for part in first)
    return [
        f"| part of web/dist | size | gzip -{GZIP_LEVEL} (as transferred) |",
        "|---|---|---|",
        *(
            f"| {name} | {size / 1024:,.0f} KiB | {gz / 1024:,.0f} KiB |"
            for name, size, gz in parts
        ),
        f"| **first visit** | **{total / 2**20:.1f} MiB** | **{packed / 2**20:.1f} MiB** |",
    ]


def render(figures: Figures) -> str:
    blocks = [[how(figures)], targets(figures), notes(figures)]
    return "\n\n".join("\n".join(block) for block in [*blocks, size_table(figures.sizes)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("docs/browser.md"), help="(default)")
    parser.add_argument("--loads", type=int, default=5, help="cold page loads (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="times each digit is drawn (3)")
    options = parser.parse_args()
    load_start = os.getloadavg()[0]
    with served() as url, chromium() as browser:
        context = machine(browser)
        loads = cold_loads(browser, url, options.loads)
        live = live_predictions(browser, url, options.rounds)
        alone = models_alone(browser, url)
    figures = Figures(sizes(), loads, live, alone, context, (load_start, os.getloadavg()[0]))
    markdown = render(figures)
    write_section(options.output, "web", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
