"""Writing predictions as they come: a readable table, JSON lines, or CSV."""

import csv
import sys
from typing import Any, TextIO

import numpy as np

from mnist_edge.core.contract import NUM_CLASSES
from mnist_edge.runtime.records import Prediction, dumps, record

BAR_WIDTH = 20
NEXT_WIDTH = 8  # one of the next best digits: "8  17.5%"
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): a file
# named "=HYPERLINK(...).png" must not become a link, nor "-2+3.png" a sum. OWASP's advice: a
# leading apostrophe, which spreadsheets show as text and do not display.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TableWriter:
    """Aligned columns for people; the source last, as it has no fixed width."""

    def __init__(self, stream: TextIO, top_k: int = 0) -> None:
        self.stream = stream
        self.top_k = top_k
        utf8 = (getattr(stream, "encoding", None) or "").lower().replace("-", "") == "utf8"
        self.full, self.empty = ("█", "·") if utf8 else ("#", ".")
        self.next_width = (top_k - 1) * (NEXT_WIDTH + 2) if top_k > 1 else 0
        others = f"{'next best':<{self.next_width}}" if top_k > 1 else ""
        self.stream.write(f"digit  confidence  {'':<{BAR_WIDTH}}  {others}source\n")

    def write(self, prediction: Prediction) -> None:
        p = prediction.probabilities
        if p is None:
            self.stream.write(f"{'-':>5}  {'error':>10}  {prediction.source}: {prediction.error}\n")
            return
        digit = prediction.digit
        filled = round(float(p[digit]) * BAR_WIDTH)
        bar = self.full * filled + self.empty * (BAR_WIDTH - filled)
        others = ""
        if self.top_k > 1:
            best = np.argsort(-p, kind="stable")[1 : self.top_k]
            others = "".join(f"{d} {float(p[d]):>6.1%}  " for d in best)
        line = f"{digit:>5}  {float(p[digit]):>10.1%}  {bar}  {others}{prediction.source}"
        self.stream.write(line + "\n")


class JsonlWriter:
    def __init__(self, stream: TextIO, top_k: int = 0) -> None:
        self.stream = stream
        self.top_k = top_k

    def write(self, prediction: Prediction) -> None:
        self.stream.write(dumps(record(prediction, self.top_k)) + "\n")


class CsvWriter:
    def __init__(self, stream: TextIO, top_k: int = 0) -> None:
        self.top_k = top_k
        columns = ["source", "label", "probability"] + [f"p{d}" for d in range(NUM_CLASSES)]
        for rank in range(1, top_k + 1):
            columns += [f"top{rank}_label", f"top{rank}_probability"]
        self.writer = csv.DictWriter(stream, fieldnames=[*columns, "error"], lineterminator="\n")
        self.writer.writeheader()

    def write(self, prediction: Prediction) -> None:
        row: dict[str, Any] = record(prediction, self.top_k)
        for digit, probability in enumerate(row.pop("probabilities", [])):
            row[f"p{digit}"] = probability
        for rank, best in enumerate(row.pop("top_k", []), start=1):
            row[f"top{rank}_label"] = best["label"]
            row[f"top{rank}_probability"] = best["probability"]
        self.writer.writerow({column: _cell(value) for column, value in row.items()})


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows and never runs: text that starts like a formula gets
    a leading apostrophe; numbers are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


Writer = TableWriter | JsonlWriter | CsvWriter
WRITERS: dict[str, type[Writer]] = {"table": TableWriter, "jsonl": JsonlWriter, "csv": CsvWriter}


def make_writer(output_format: str, stream: TextIO = sys.stdout, top_k: int = 0) -> Writer:
    """A writer with a `write(prediction)` method: "table", "jsonl" or "csv"."""
    return WRITERS[output_format](stream, top_k)
