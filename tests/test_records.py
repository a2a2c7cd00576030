"""A batch's records are made with a few NumPy calls for the whole batch (runtime/records.py,
`batch_rows`): each must be what the record contract gives for its row alone, ties included."""

import numpy as np
import pytest

from mnist_edge.runtime.pipeline import paired
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.runtime.records import DECIMALS, Item, Prediction, record


def expected_record(source: str, row: np.ndarray, top_k: int) -> dict:
    """The contract, row by row: float64 rounded to DECIMALS; the first most likely digit of
    the unrounded float32 row; the top k of the rounded values, the first of equals first."""
    rounded = np.round(row.astype(np.float64), DECIMALS)
    digit = int(np.argmax(row))
    result = {
        "source": source,
        "label": digit,
        "probability": float(rounded[digit]),
        "probabilities": [float(value) for value in rounded],
    }
    if top_k:
        order = sorted(range(10), key=lambda d: (-rounded[d], d))[:top_k]
        result["top_k"] = [{"label": d, "probability": float(rounded[d])} for d in order]
    return result


def rows_with_ties() -> np.ndarray:
    """Rows whose largest values are equal, or equal only once rounded."""
    rows = np.zeros((4, 10), np.float32)
    rows[0, [3, 8]] = 0.5
    rows[1, [2, 6]] = [0.4999996, 0.5000004]  # the same to six decimals; 6 is larger
    rows[2, [6, 2]] = [0.4999996, 0.5000004]  # and the other way round
    rows[3] = 0.1
    return rows


@pytest.mark.parametrize("top_k", [0, 3, 10])
def test_a_batchs_records_are_each_rows_own(x_test, top_k):
    probabilities = np.concatenate([Predictor("mlp").predict(x_test[:2000]), rows_with_ties()])
    window = [Item(f"{index}.png", x_test[0]) for index in range(len(probabilities))]
    window.insert(5, Item("broken.png", None, "not an image"))  # rows skip what failed
    predictions = paired(window, probabilities)
    made = [record(prediction, top_k) for prediction in predictions]
    assert made.pop(5) == {"source": "broken.png", "error": "not an image"}
    for index, (row, mine) in enumerate(zip(probabilities, made, strict=True)):
        assert mine == expected_record(f"{index}.png", row, top_k), index


def test_a_prediction_made_alone_gives_the_same_record(x_test):
    """Made without its batch (the Ray engine's rows): the record is made from the row."""
    probabilities = np.concatenate([Predictor("mlp").predict(x_test[:50]), rows_with_ties()])
    for row in probabilities:
        alone = Prediction("a.png", row)
        assert record(alone, 3) == expected_record("a.png", row, 3)
