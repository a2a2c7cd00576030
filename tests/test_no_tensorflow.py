"""The runtime never needs TensorFlow, Keras, tf2onnx or onnx, and its CLI starts light."""

import ast
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

TRAINING_ONLY = ("tensorflow", "keras", "tf2onnx", "onnx", "tf_keras")
RUNTIME_FOLDERS = ("core", "runtime", "pictures", "measure", "cli", "serve", "scale")
HEAVY_AT_START = (
    "onnxruntime",
    "PIL",
    "starlette",
    "uvicorn",
    "prometheus_client",
    "ray",
    "pyarrow",
    *TRAINING_ONLY,
)

# Run the CLI in an interpreter where importing any training-only package raises.
BLOCKED_CLI = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {TRAINING_ONLY!r}:
            raise ImportError(f"{{name}} is blocked: the runtime must not need it")
sys.meta_path.insert(0, Block())
from mnist_edge.cli.app import main
sys.argv = ["mnist-edge", *sys.argv[1:]]
main()
"""


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_runtime_file_imports_a_training_package():
    """Not even lazily: core/, runtime/, pictures/ and cli/ are what a device installs (and
    scale/, the cluster engine, runs the same runtime)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & set(TRAINING_ONLY))
        for folder in RUNTIME_FOLDERS
        for path in (ROOT / folder).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.slow
def test_predict_runs_with_training_packages_blocked():
    samples = sorted(str(p) for p in (ROOT / "samples").iterdir())
    command = [
        sys.executable,
        "-c",
        BLOCKED_CLI,
        "predict",
        "-f",
        "jsonl",
        *samples,
        "data/mnist.npz",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(samples) + 10000


@pytest.mark.slow
def test_info_and_evaluate_run_with_training_packages_blocked():
    for args in (["info", "-f", "json"], ["evaluate", "data/mnist.npz", "-f", "json"]):
        command = [sys.executable, "-c", BLOCKED_CLI, *args]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        json.loads(result.stdout)


@pytest.mark.slow
def test_train_and_export_without_the_extra_say_how_to_install():
    """As in a runtime-only install: the training packages cannot be found."""
    not_installed = BLOCKED_CLI.replace(
        "from mnist_edge.cli.app import main",
        "import importlib.util\n"
        "find = importlib.util.find_spec\n"
        f"hidden = {TRAINING_ONLY!r}\n"
        "importlib.util.find_spec = lambda name, *a: None if name in hidden else find(name, *a)\n"
        "from mnist_edge.cli.app import main",
    )
    for command in ("train", "export"):
        result = subprocess.run(
            [sys.executable, "-c", not_installed, command],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1  # the checkout installed editable is named:
        assert f"pip install -e '{ROOT}[train]'" in result.stderr


@pytest.mark.slow
def test_cli_help_imports_nothing_heavy():
    probe = (
        "import sys; from mnist_edge.cli.app import app; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_AT_START!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout
