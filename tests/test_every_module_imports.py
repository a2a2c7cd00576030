"""Every module of the project imports: the code no test runs (a benchmark, a report) still
refers to names that exist. Run in a fresh interpreter, so nothing imported by other tests
hides a missing import."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # TensorFlow, Ray

PACKAGES = {  # folder -> the name it imports as
    "core": "mnist_edge.core",
    "train": "mnist_edge.train",
    "export": "mnist_edge.export",
    "runtime": "mnist_edge.runtime",
    "pictures": "mnist_edge.pictures",
    "measure": "mnist_edge.measure",
    "cli": "mnist_edge.cli",
    "serve": "mnist_edge.serve",
    "scale": "mnist_edge.scale",
    "benchmarks": "benchmarks",
}


def module_names() -> list[str]:
    return sorted(
        f"{package}.{path.stem}" if path.stem != "__init__" else package
        for folder, package in PACKAGES.items()
        for path in (ROOT / folder).glob("*.py")
    )


def test_every_module_imports():
    names = module_names()
    assert len(names) > 80
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"
    result = subprocess.run(
        [sys.executable, "-c", script, *names], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
