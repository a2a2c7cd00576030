"""The documentation's measured figures are written by make targets, each into its page.

A figure's one home is a marked section of a page (docs/development.md lists them): between
`<!-- section:NAME -->` and `<!-- /section:NAME -->`. Writing one replaces only its own text
(or appends it), so that `make bench`, `make bench-serve` and the others can run in any
order without erasing each other's figures or the page's own text around them.
"""

import re
from pathlib import Path


def write_section(path: Path, name: str, markdown: str) -> None:
    """Put `markdown` into section `name` of the page at `path` (which must exist: a page is
    written by hand, and says what its figures mean)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such page for the section {name!r}")
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text()
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text.rstrip("\n") + "\n")
