"""Is a model's output made of probabilities? Every row of every call is asked.

`row_problems` names what is wrong with each row of an (N, 10) output: every front end applies
it to the rows it turns into records, and `Predictor.predict` to what it returns. At batch 1
it costs about a tenth of the model's own call, so `predict` asks `probabilities_in` first,
on memoryviews made once over a bound output buffer (runtime/bound.py), at half that cost:
True means row_problems would find nothing.
"""

import math

import numpy as np

from mnist_edge.core.contract import NUM_CLASSES

PYTHON_ROWS = 8  # outputs of up to this many rows are checked as Python floats: cheaper
# than NumPy calls on 10 values
# Rows must sum to 1 within this: an int8 model's output is quantized in steps of 1/255, so its
# rows miss 1 by up to ten half-steps (0.02; 0.012 seen on the shipped ones); anything further
# off is not a probability distribution.
SUM_TOLERANCE = 0.05
ONE_BITS = 0x3F800000  # 1.0 as float32 bits
NOT_FINITE = "the model gave non-finite probabilities (NaN or infinity)"
OUT_OF_RANGE = "the model gave values outside [0, 1]: not probabilities (logits?)"


def probabilities_in(values: "memoryview[float]", bits: "memoryview[int]") -> bool:
    """True when every row of a float32 (N, 10) output, N >= 1, seen as its values (format
    "f") and as their bits ("I"), is a probability distribution. False can also mean "ask
    row_problems" (a -0.0 is refused here, and accepted there)."""
    # Non-negative float32 values order as their bit patterns do, and a negative number, an
    # infinity or a NaN all have bits above 1.0's: one max over the bits checks the range.
    if max(bits) > ONE_BITS:
        return False
    if len(values) == NUM_CLASSES:  # one row: the batch-1 path, without a loop
        return abs(sum(values) - 1) <= SUM_TOLERANCE
    rows = range(0, len(values), NUM_CLASSES)
    return all(abs(sum(values[row : row + NUM_CLASSES]) - 1) <= SUM_TOLERANCE for row in rows)


def row_problems(probabilities: np.ndarray) -> list[str | None]:
    """For each row of a model's (N, 10) output: None if it is a probability distribution
    (finite, each value in [0, 1], summing to 1 within SUM_TOLERANCE), else what it is not."""
    if len(probabilities) <= PYTHON_ROWS:
        return [_row_problem(row) for row in probabilities.tolist()]
    with np.errstate(invalid="ignore"):
        in_range = ((probabilities >= 0) & (probabilities <= 1)).all(axis=1)  # False for NaN
        sums = probabilities.sum(axis=1, dtype=np.float64)
    bad = np.flatnonzero(~in_range | (np.abs(sums - 1) > SUM_TOLERANCE))
    problems: list[str | None] = [None] * len(probabilities)
    for index in bad.tolist():
        problems[index] = _row_problem(probabilities[index].tolist())
    return problems


def _row_problem(row: list[float]) -> str | None:
    total = sum(row)
    if all(0.0 <= value <= 1.0 for value in row) and abs(total - 1) <= SUM_TOLERANCE:
        return None
    if not all(math.isfinite(value) for value in row):
        return NOT_FINITE
    if not all(0.0 <= value <= 1.0 for value in row):
        return OUT_OF_RANGE
    return f"the model's probabilities sum to {total:.3g}, not 1"
