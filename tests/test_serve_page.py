"""`serve` finds the browser page that `make web` built in the checkout it was installed
from, editable or not, and says at start-up whether it serves one."""

import pytest

from mnist_edge.core import extras
from mnist_edge.serve import settings


def built_page(root):
    page = root / "web" / "dist"
    page.mkdir(parents=True)
    (page / "index.html").write_text("<h1>digits</h1>")
    return page


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """As after `pip install '.[serve]'` from tmp_path/checkout: the package's files live in
    site-packages, and direct_url.json names the checkout."""
    site = tmp_path / "site-packages" / "mnist_edge" / "serve"
    site.mkdir(parents=True)
    monkeypatch.setattr(settings, "__file__", str(site / "settings.py"))
    checkout = tmp_path / "checkout"
    url = {"url": f"file://{checkout}", "dir_info": {}}
    monkeypatch.setattr(extras, "_origin", lambda: url)
    return checkout


def test_a_non_editable_install_serves_the_page_built_in_its_checkout(installed):
    assert settings.checkout_page() is None  # not built yet
    page = built_page(installed)  # `make web`, before or after the install
    assert settings.checkout_page() == page


def test_a_wheel_install_has_no_checkout(monkeypatch, tmp_path):
    wheel = tmp_path / "mnist_edge-0.1.0-py3-none-any.whl"
    wheel.touch()
    monkeypatch.setattr(extras, "_origin", lambda: {"url": f"file://{wheel}", "archive_info": {}})
    assert extras.source_checkout() is None
    assert extras.install_command("serve") == f"pip install '{wheel}[serve]'"


def test_the_start_up_line_says_where_the_page_comes_from(tmp_path):
    from mnist_edge.cli.serve import describe
    from mnist_edge.runtime import Predictor

    predictor = Predictor("mlp")
    served = describe(predictor, settings.Settings(static=tmp_path))
    assert served.endswith(f", the page from {tmp_path}")
    assert "no page (`make web` in the checkout builds it" in describe(
        predictor, settings.Settings()
    )
