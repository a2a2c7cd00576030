"""Every measured figure has one home: a generated section of one page, filled, and where
docs/development.md's table of generated figures says it is. A merge or an interrupted make
target must not leave a section empty, twice, or on a second page."""

import re

import pytest

from tests.conftest import ROOT

SECTION = re.compile(r"<!-- section:([\w-]+) -->(.*?)<!-- /section:\1 -->", re.DOTALL)
EXPECTED = {
    "README.md": {"samples"},
    "docs/preprocessing.md": {"wild-digits"},
    "docs/training.md": {"parity"},
    "docs/performance.md": {"engines", "batch-1", "folder", "instructions"},
    "docs/serve.md": {"serve"},
    "docs/browser.md": {"web"},
    "docs/cluster.md": {"scale"},
    "docs/model-card.md": {"model-card"},
    "docs/devices.md": {"device"},
    "docs/mcu.md": {"mcu-figures", "mcu-proof"},
}
TABLE_ROW = re.compile(r"^\| (`[\w-]+`(?:, `[\w-]+`)*) \| (.+?) \|", re.MULTILINE)


def pages() -> list[str]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [str(page.relative_to(ROOT)) for page in found]


def sections(page: str) -> dict[str, str]:
    text = (ROOT / page).read_text()
    return {found.group(1): found.group(2).strip() for found in SECTION.finditer(text)}


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_every_generated_section_is_filled(page: str):
    text = (ROOT / page).read_text()
    found = sections(page)
    assert set(found) == EXPECTED[page]
    assert [name for name, body in found.items() if not body] == []
    assert text.count("<!-- section:") == len(found)  # no section opened and left unclosed


def test_no_other_page_holds_a_figure():
    others = {page: set(sections(page)) for page in pages() if page not in EXPECTED}
    assert {page: names for page, names in others.items() if names} == {}


def test_the_development_page_says_where_each_figure_lives():
    text = (ROOT / "docs" / "development.md").read_text()
    listed = {}
    for names, page in TABLE_ROW.findall(text):
        home = re.match(r"\[[^]]*\]\((\S+?\.md)", page)  # a link to its page, or its name
        path = f"docs/{home.group(1)}" if home else page.split()[0]
        for name in re.findall(r"`([\w-]+)`", names):
            listed[name] = path
    expected = {name: page for page, names in EXPECTED.items() for name in names}
    assert listed == expected
