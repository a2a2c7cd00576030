"""tests/, benchmarks/ and device/ share code only through harness/ (and the installed
`mnist_edge`): none imports another's modules, harness/ imports none of them, and no module
edits sys.path to reach a folder. Read from the source, every import statement (inside
functions too), so that a script run on its own is held to it as much as a module."""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# folder -> the project folders its modules may import (besides mnist_edge and libraries)
MAY_IMPORT = {
    "tests": {"tests", "harness", "device"},  # device/ is code under test, as mnist_edge is
    "benchmarks": {"benchmarks", "harness"},
    "device": {"device", "harness"},
    "harness": {"harness"},
}


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_folders(source: str) -> set[str]:
    """Which of MAY_IMPORT's folders the import statements of `source` reach."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(MAY_IMPORT)


def touches_sys_path(source: str) -> bool:
    """Whether `source` refers to sys.path at all (to insert, append or assign to it)."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
        for node in ast.walk(ast.parse(source))
    )


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_each_folder_imports_only_what_it_may(folder: str):
    paths = modules(folder)
    assert len(paths) >= 5, f"{folder}/: too few modules found to mean anything"
    wrong = {
        str(path.relative_to(ROOT)): sorted(reached - MAY_IMPORT[folder])
        for path in paths
        if (reached := imported_folders(path.read_text())) - MAY_IMPORT[folder]
    }
    assert wrong == {}


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_no_module_edits_sys_path(folder: str):
    edited = [str(p.relative_to(ROOT)) for p in modules(folder) if touches_sys_path(p.read_text())]
    assert edited == []


def test_the_scan_sees_every_kind_of_import():
    """The checks above can fail: each way of reaching another folder is caught."""
    source = (
        "import benchmarks.report\n"
        "from tests import conftest\n"
        "def late():\n"
        "    from device.parity import CPUS\n"
        "import numpy, mnist_edge.runtime\n"
        "from . import sibling\n"
    )
    assert imported_folders(source) == {"benchmarks", "tests", "device"}
    assert touches_sys_path("import sys\nsys.path.insert(0, 'benchmarks')\n")
    assert touches_sys_path("import sys\nsys.path = ['x']\n")
    assert not touches_sys_path("import os\nos.path.join('a', 'b')\n")
