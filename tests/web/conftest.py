"""The page served from web/dist and a headless system Chromium, shared by the browser tests.

These tests fail, never skip, when the browser cannot be started: CI installs Chromium with
`.ci/system-packages`, and `make test` builds web/dist first.
"""

from collections.abc import Iterator

import pytest

from harness.browser import BrowserMissing, chromium, open_page, served, wait_until_ready


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    try:
        with served() as url:
            yield url
    except FileNotFoundError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def browser() -> Iterator:
    try:
        with chromium() as launched:
            yield launched
    except BrowserMissing as error:
        pytest.fail(f"the browser tests need Chromium: {error}")


@pytest.fixture
def page(browser, site: str) -> Iterator:
    """The page, loaded, its default model ready."""
    opened = open_page(browser, site)
    wait_until_ready(opened)
    yield opened
    opened.context.close()
