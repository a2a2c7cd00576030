"""Digits not in MNIST format are read nearly as well as MNIST itself."""

import pytest

from harness.wild_digits import wild_score

pytestmark = pytest.mark.slow  # 2,400 pictures made and read

TARGET = 0.95  # of the wild digits read right
CLOSE_TO_MNIST = 0.02  # at most this far below the same digits in MNIST form
EVERY_KIND = 0.93  # no kind of picture far behind the others
NAIVE_AT_MOST = 0.5  # a plain resize reads far fewer: the preprocessing makes the difference


def test_wild_digits_are_read_nearly_as_well_as_mnist(mnist, predictor):
    score = wild_score(predictor, mnist.x_test, mnist.y_test)
    print(
        f"\nwild digits: {score.accuracy:.2%} (same digits in MNIST form: "
        f"{score.mnist_form:.2%}; plain resize: {score.plain_resize:.2%})"
    )
    for kind, accuracy in score.by_kind.items():
        print(f"  {kind}: {accuracy:.2%}")
    assert score.accuracy >= TARGET
    assert score.accuracy >= score.mnist_form - CLOSE_TO_MNIST
    assert min(score.by_kind.values()) >= EVERY_KIND
    assert score.plain_resize < NAIVE_AT_MOST
