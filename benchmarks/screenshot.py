"""docs/web.png: the page in headless Chromium, a digit drawn on its pad (make web-screenshot).

python -m benchmarks.screenshot docs/web.png [--width 1100] [--digit 4]
"""

import argparse
from pathlib import Path

from harness.browser import STROKES, chromium, draw, open_page, served, wait_until_ready

SETTLED = "document.querySelector('[role=status]').getAttribute('aria-busy') === 'false'"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the PNG file to write")
    parser.add_argument("--width", type=int, default=1100, help="viewport width (default 1100)")
    parser.add_argument("--height", type=int, default=720, help="viewport height (default 720)")
    parser.add_argument("--digit", choices=sorted(STROKES), default="4", help="default 4")
    options = parser.parse_args()
    with served() as url, chromium() as browser:
        page = open_page(browser, url, options.width, options.height)
        wait_until_ready(page)
        draw(page, options.digit)
        page.wait_for_function(SETTLED)
        page.screenshot(path=options.output, full_page=True)
    print(options.output)


if __name__ == "__main__":
    main()
