"""docs/mcu.md's generated figures are there and filled: a merge or an interrupted
`make docs-mcu` must not leave a section empty or holding its placeholder."""

import re

from tests.conftest import ROOT

SECTION = re.compile(r"<!-- section:([\w-]+) -->(.*?)<!-- /section:\1 -->", re.DOTALL)
EXPECTED = {"mcu-figures", "mcu-proof"}
PLACEHOLDER = "make docs-mcu` to fill in"


def test_the_microcontroller_page_has_its_figures():
    text = (ROOT / "docs" / "mcu.md").read_text()
    sections = {found.group(1): found.group(2).strip() for found in SECTION.finditer(text)}
    assert set(sections) == EXPECTED
    assert [name for name, body in sections.items() if not body or PLACEHOLDER in body] == []
    for model in ("mlp", "mlp.int8", "cnn", "cnn.int8"):
        assert f"| `{model}` |" in sections["mcu-figures"]
        assert f"| `{model}` |" in sections["mcu-proof"]
