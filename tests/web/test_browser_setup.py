"""Without a browser the browser tests fail with a message saying how to install one."""

import pytest

from harness.browser import BrowserMissing, chromium


def test_missing_chromium_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setenv("MNIST_EDGE_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(BrowserMissing, match="apt-get install chromium"):
        with chromium():
            pass
