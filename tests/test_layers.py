"""The packages stack in layers, and no import runs the wrong way or in a circle.

core, then runtime and train, then export, pictures, measure, serve and scale, then the
command line. Every import counts, also one inside a function (a lazy import is still a
dependency); only imports for type checkers (`if TYPE_CHECKING:`) are left out.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

ALLOWED = {  # package -> the packages it may import besides itself
    "core": set(),
    "runtime": {"core"},
    "train": {"core"},
    "export": {"core", "runtime", "train"},
    "pictures": {"core", "runtime"},
    "measure": {"core", "runtime"},
    "serve": {"core", "runtime"},
    "scale": {"core", "runtime"},
    "cli": {"core", "runtime", "train", "export", "pictures", "measure", "serve", "scale"},
}
PREFIX = "mnist_edge."


def imports(path: Path) -> Iterator[str | None]:
    """The mnist_edge modules a file imports, wherever it imports them (not for type checkers)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for guard in ast.walk(tree)
        if isinstance(guard, ast.If) and "TYPE_CHECKING" in ast.unparse(guard.test)
        for statement in guard.body
        for node in ast.walk(statement)
    }
    known = modules()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
            for alias in node.names:  # a module of the package, else a name of the module
                yield _module(f"{node.module}.{alias.name}", known) or _module(node.module, known)
        elif isinstance(node, ast.Import):
            yield from (_module(alias.name, known) for alias in node.names)


def _module(name: str, known: dict[str, Path]) -> str | None:
    """The module `name` names: itself, or its package's __init__."""
    return name if name in known else name + ".__init__" if name + ".__init__" in known else None


def modules() -> dict[str, Path]:
    return {
        f"{PREFIX}{folder}.{path.stem}": path
        for folder in ALLOWED
        for path in (ROOT / folder).glob("*.py")
    }


def graph() -> dict[str, set[str]]:
    """module -> the project's modules it imports."""
    return {
        name: {target for target in imports(path) if target is not None} - {name}
        for name, path in modules().items()
    }


def test_no_package_imports_a_layer_above_its_own():
    wrong = []
    for module, targets in graph().items():
        own = module.split(".")[1]
        for target in targets:
            other = target.split(".")[1]
            if other != own and other not in ALLOWED[own]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    edges = graph()
    assert len(edges) > 80
    cycles = []
    state: dict[str, str] = {}  # "open" while on the path, "done" once finished

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)
