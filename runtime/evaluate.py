"""Accuracy of a model on a labelled set: confusion matrix, per-digit precision and recall."""

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from mnist_edge.core.contract import NUM_CLASSES
from mnist_edge.runtime.records import Prediction

MISTAKES_KEPT = 36  # the most confident wrong predictions kept for the mistakes picture


@dataclass
class Evaluation:
    confusion: np.ndarray = field(  # (10, 10): rows the true digit, columns the predicted one
        default_factory=lambda: np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    )
    failed: int = 0  # inputs that could not be predicted
    unlabelled: int = 0  # inputs predicted but without a true label
    mistakes: list[Prediction] = field(default_factory=list)  # most confident first

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.n) if self.n else 0.0

    def precision(self) -> np.ndarray:
        """Per digit: of the images predicted as it, the fraction that are it (NaN, undefined,
        when none was)."""
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    def recall(self) -> np.ndarray:
        """Per digit: of the images that are it, the fraction predicted as it (NaN, undefined,
        when the set has none)."""
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=1))

    def as_dict(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "failed": self.failed,
            "unlabelled": self.unlabelled,
            "confusion": self.confusion.tolist(),
            "precision": _rounded(self.precision()),
            "recall": _rounded(self.recall()),
        }


def evaluate(
    predictions: Iterable[Prediction],
    on_error: Callable[[Prediction], None] | None = None,
    keep: int = MISTAKES_KEPT,
) -> Evaluation:
    """Tally predictions against their labels, keeping the `keep` most confident mistakes."""
    result = Evaluation()
    heap: list[tuple[float, int, Prediction]] = []
    for order, prediction in enumerate(predictions):
        if prediction.error is not None:
            result.failed += 1
            if on_error is not None:
                on_error(prediction)
            continue
        if prediction.label is None:
            result.unlabelled += 1
            continue
        digit = prediction.digit
        result.confusion[prediction.label, digit] += 1
        if digit != prediction.label:
            entry = (prediction.probability, -order, prediction)
            if len(heap) < keep:
                heapq.heappush(heap, entry)
            elif keep:
                heapq.heappushpop(heap, entry)
    result.mistakes = [entry[2] for entry in sorted(heap, reverse=True)]
    return result


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def _rounded(values: np.ndarray) -> list[float | None]:
    """JSON-able: six decimals, None where undefined."""
    return [None if np.isnan(value) else round(float(value), 6) for value in values]
