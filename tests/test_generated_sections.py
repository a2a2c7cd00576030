"""The README's and BENCHMARKS.md's generated sections are all there and filled: a merge or an
interrupted make target must not leave one empty."""

import re

import pytest

from tests.conftest import ROOT

SECTION = re.compile(r"<!-- section:([\w-]+) -->(.*?)<!-- /section:\1 -->", re.DOTALL)
EXPECTED = {
    "README.md": {
        "samples", "wild-digits", "parity", "web", "bench", "bench-targets", "batch-1",
        "model-card", "scale", "device",
    },
    "BENCHMARKS.md": {"engines", "serve", "web", "batch-1", "instructions", "scale"},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_generated_section_is_filled(name: str):
    text = (ROOT / name).read_text()
    sections = {found.group(1): found.group(2).strip() for found in SECTION.finditer(text)}
    assert set(sections) == EXPECTED[name]
    assert [section for section, body in sections.items() if not body] == []
    assert text.count("<!-- section:") == len(sections)  # no section opened and left unclosed
