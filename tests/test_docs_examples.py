"""Every example in README.md and docs/ runs, and where it shows output, that output is what
the run printed. The rules are those docs/development.md states ("The examples are tested"):

- a fenced `console` block is commands (`$ ...`) and what each prints (stdout, then stderr);
  each must print exactly that and exit 0, or the code an `<!-- exit code: N -->` note names;
- a fenced `sh` block is a script that must exit 0;
- a fenced `python` block includes files of docs/examples/ (`--8<-- "examples/NAME.py"`, so
  that ruff lints and formats them); each must exit 0 and print docs/examples/NAME.txt,
  which the page shows beside it;
- a block that cannot run here is preceded by `<!-- not run: REASON -->`, or by `<!-- run
  by TEST_FILE -->` when that test runs it as written.

Each runs in a scratch folder holding `samples/` and `data/`, as a reader's checkout would.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
NOTE = r"(?:not run: |run by |exit code: )[^\n]*?"  # a generated section's marker is no note
FENCE = re.compile(
    rf"(?:^<!-- (?P<note>{NOTE}) -->\n)?^```(?P<language>[\w-]*)\n(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)
EXAMPLE_LANGUAGES = {"console", "sh", "python"}
NOT_RUN, RUN_BY, EXIT_CODE = "not run: ", "run by ", "exit code: "
PROMPT = "$ "
SECONDS = 120  # for any one command (the MNIST test split through a model takes a few)
SHARED = ("samples", "data")  # what the examples read, as in a checkout


@dataclass(frozen=True)
class Example:
    page: str  # relative to the checkout
    line: int  # of the opening fence
    language: str
    body: str
    note: str  # the HTML comment just before the block, if any

    @property
    def runs_here(self) -> bool:
        return not self.note.startswith((NOT_RUN, RUN_BY))

    @property
    def exit_code(self) -> int:
        return int(self.note.removeprefix(EXIT_CODE)) if self.note.startswith(EXIT_CODE) else 0

    @property
    def files(self) -> list[Path]:
        """The files a python block includes."""
        return [DOCS / found["path"] for found in SNIPPET.finditer(self.body)]


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def examples() -> list[Example]:
    found = []
    for page in pages():
        text = page.read_text()
        for block in FENCE.finditer(text):
            if block["language"] in EXAMPLE_LANGUAGES:
                line = text.count("\n", 0, block.start("language")) + 1
                name = str(page.relative_to(ROOT))
                note = block["note"] or ""
                found.append(Example(name, line, block["language"], block["body"], note))
    return found


def commands(body: str) -> list[tuple[str, str]]:
    """A console block's (command, what it prints) pairs; `\\` continues a command."""
    pairs: list[tuple[str, list[str]]] = []
    continued = False
    for line in body.splitlines():
        if continued:
            pairs[-1] = (pairs[-1][0] + "\n" + line, pairs[-1][1])
        elif line.startswith(PROMPT):
            pairs.append((line.removeprefix(PROMPT), []))
        else:
            pairs[-1][1].append(line)
        continued = line.endswith("\\") and not pairs[-1][1]
    return [(command, "\n".join(output)) for command, output in pairs]


def run(command: list[str], folder: Path) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "LC_ALL": "C.UTF-8",  # a glob's order, as the generator sorts it
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        command, cwd=folder, env=environment, capture_output=True, text=True, timeout=SECONDS
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in SHARED:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


def test_every_example_runs_or_says_why():
    unexplained = []
    for example in examples():
        note = example.note
        if note.startswith(NOT_RUN):
            ok = len(note.removeprefix(NOT_RUN).strip()) > 10  # a reason, not a shrug
        elif note.startswith(RUN_BY):
            test = ROOT / note.removeprefix(RUN_BY).strip()
            ok = test.is_file() and example.page in test.read_text()
        else:
            ok = note == "" or re.fullmatch(rf"{EXIT_CODE}\d+", note) is not None
        if not ok:
            unexplained.append(f"{example.page}:{example.line} <!-- {note} -->")
    assert unexplained == []
    assert sum(example.runs_here for example in examples()) >= 8  # the harness finds them


def test_python_examples_are_files_shown_with_their_output():
    shown = {}
    for example in examples():
        if example.language != "python":
            continue
        assert SNIPPET.sub("", example.body).strip() == "", f"{example.page}:{example.line}"
        page = (ROOT / example.page).read_text()
        for file in example.files:
            assert file.is_file() and file.parent == DOCS / "examples", file
            output = file.with_suffix(".txt")
            if output.exists():  # shown on the same page
                assert f'--8<-- "examples/{output.name}"' in page, (example.page, output.name)
            shown[file.name] = example.page
    assert sorted(shown) == sorted(path.name for path in (DOCS / "examples").glob("*.py"))


def test_a_console_block_reads_as_commands_and_their_output():
    body = "$ echo one \\\n  two\none two\n$ true\n"
    assert commands(body) == [("echo one \\\n  two", "one two"), ("true", "")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "example",
    [example for example in examples() if example.runs_here],
    ids=lambda example: f"{example.page}:{example.line}",
)
def test_the_example_runs_as_shown(example: Example, folder: Path):
    if example.language == "console":
        for command, shown in commands(example.body):
            result = run(["bash", "-c", command], folder)
            print(f"$ {command}\n{result.stdout}{result.stderr}")
            assert (result.stdout + result.stderr).rstrip("\n") == shown.rstrip("\n")
            assert result.returncode == example.exit_code
    elif example.language == "sh":
        result = run(["bash", "-euo", "pipefail", "-c", example.body], folder)
        assert result.returncode == 0, result.stderr
    else:
        for file in example.files:
            result = run([sys.executable, str(file)], folder)
            assert result.returncode == 0, result.stderr
            output = file.with_suffix(".txt")
            if output.exists():
                assert result.stdout == output.read_text()
