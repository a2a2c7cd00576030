"""BENCHMARKS.md is written by several make targets; each owns one marked section of it.

A section sits between `<!-- section:NAME -->` and `<!-- /section:NAME -->`. Writing one
replaces only its own text (or appends it), so `make bench`, `make bench-serve` and the
others can run in any order without erasing each other's figures.
"""

import re
from pathlib import Path


def write_section(path: Path, name: str, markdown: str) -> None:
    """Put `markdown` into section `name` of the file at `path` (created when missing)."""
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text.rstrip("\n") + "\n")
