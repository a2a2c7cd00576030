"""The fast suite (`make check`) leaves out only what is slow: the modules it does not even
import (conftest.TENSORFLOW_TESTS) are marked slow as a whole."""

import ast

import pytest

from tests.conftest import ROOT, TENSORFLOW_TESTS


def slow_as_a_whole(source: str) -> bool:
    """Whether the module sets `pytestmark = pytest.mark.slow`."""
    return any(
        isinstance(node, ast.Assign)
        and [ast.unparse(target) for target in node.targets] == ["pytestmark"]
        and ast.unparse(node.value) == "pytest.mark.slow"
        for node in ast.parse(source).body
    )


@pytest.mark.parametrize("name", sorted(TENSORFLOW_TESTS))
def test_modules_left_out_of_the_fast_suite_are_slow(name: str):
    assert slow_as_a_whole((ROOT / "tests" / name).read_text())


def test_the_check_sees_a_module_with_fast_tests():
    assert not slow_as_a_whole("import pytest\n\ndef test_fast():\n    pass\n")
    assert not slow_as_a_whole("import pytest\npytestmark = pytest.mark.serve\n")
