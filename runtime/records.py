"""What the inference path hands on: decoded inputs, predictions, and the record contract.

`record()` is the one place where a prediction becomes the JSON object that `predict
--format jsonl`, CSV, the service and the cluster engine all give.
"""

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

DECIMALS = 6  # probabilities are float32; six decimals is all they honestly carry here


# Items and Predictions are made once for every input and handed on, never changed. They are
# not frozen dataclasses: a frozen one's __init__ costs ~0.3 µs more (it sets each field through
# object.__setattr__), paid twice for every file of a folder.


@dataclass(slots=True)
class Item:
    """One input, decoded to MNIST format (image) or not (error)."""

    source: str  # printable name: a file, or file#index for an image inside an array file
    image: np.ndarray | None  # uint8 (28, 28)
    error: str | None = None  # one line
    label: int | None = None  # the true digit, when the input comes with one


@dataclass(slots=True)
class Prediction:
    source: str
    probabilities: np.ndarray | None  # float32 (10,)
    error: str | None = None
    label: int | None = None  # the true digit, when known
    image: np.ndarray | None = None  # uint8 (28, 28): what the model saw
    rounded: list[float] | None = None  # the probabilities as records give them, and the
    best: int | None = None  # most likely digit, when made for a whole batch (`batch_rows`)

    @property
    def digit(self) -> int:
        """The most likely digit (the first of equals)."""
        if self.best is not None:
            return self.best
        return int(self.scores.argmax())

    @property
    def probability(self) -> float:
        """The probability of `digit`."""
        return float(self.scores[self.digit])

    @property
    def scores(self) -> np.ndarray:
        """The probabilities of a prediction that has them (ValueError for an error's)."""
        if self.probabilities is None:
            raise ValueError(f"{self.source} has no probabilities: {self.error}")
        return self.probabilities


def has_error(prediction: Prediction) -> bool:
    return prediction.error is not None


def batch_rows(probabilities: np.ndarray) -> tuple[list[list[float]], list[int]]:
    """For the (N, 10) rows of a batch: each rounded as records give it, and its most likely
    digit (the first of equals). A few NumPy calls for the whole batch, where the same calls
    on each row cost ~2 µs a file."""
    rounded = probabilities.astype(np.float64).round(DECIMALS).tolist()
    return rounded, probabilities.argmax(axis=1).tolist()


def record(prediction: Prediction, top_k: int = 0) -> dict[str, Any]:
    """The JSON-able record of one prediction: the jsonl and csv contract."""
    if prediction.probabilities is None:
        return {"source": prediction.source, "error": prediction.error}
    values = prediction.rounded
    if values is None:  # made alone, not with its batch
        values = batch_rows(prediction.probabilities[None])[0][0]
    digit = prediction.digit
    result: dict[str, Any] = {
        "source": prediction.source,
        "label": digit,
        "probability": values[digit],
        "probabilities": values,
    }
    if top_k:
        best = np.argsort(-np.array(values), kind="stable")[:top_k].tolist()
        result["top_k"] = [{"label": d, "probability": values[d]} for d in best]
    return result


def dumps(payload: object, indent: int | None = None) -> str:
    """Strict JSON: NaN and infinity are refused, never written as invalid JSON."""
    if indent is None:
        return _STRICT.encode(payload)  # one encoder for every record, not one a call
    return json.dumps(payload, indent=indent, allow_nan=False)


_STRICT = json.JSONEncoder(allow_nan=False)
