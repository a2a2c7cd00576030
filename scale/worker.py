"""The work one Ray actor does: a batch of inputs in, a batch of predictions out.

An input row names one input (`source`, else `path`; text or bytes) and holds what there
is of it: the image file's `bytes`, an MNIST image already checked on the driver (`pixels`,
784 bytes), or the `error` that stopped it there. A row with none of these is an image
file at `path`, which the actor opens itself. The output rows are `Prediction`s, the local
engine's record type, as Arrow columns.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.runtime.records import Item, Prediction

if TYPE_CHECKING:
    import pyarrow

    from mnist_edge.runtime.predictor import Predictor

SOURCE, PATH, BYTES, PIXELS, ERROR = "source", "path", "bytes", "pixels", "error"  # input
LABEL, PROBABILITY, PROBABILITIES = "label", "probability", "probabilities"  # output, + source


def output_schema() -> "pyarrow.Schema":
    """The record's columns: probabilities are the model's float32, label their argmax."""
    import pyarrow

    return pyarrow.schema(
        [
            (SOURCE, pyarrow.string()),
            (LABEL, pyarrow.int64()),
            (PROBABILITY, pyarrow.float32()),
            (PROBABILITIES, pyarrow.list_(pyarrow.float32(), NUM_CLASSES)),
            (ERROR, pyarrow.string()),
        ]
    )


class DigitReader:
    """The callable class of `map_batches`: one Predictor per actor, built once, from the
    model's bytes (an object-store reference, so that workers need no copy of the file)."""

    def __init__(self, model: object, name: str = "model.onnx", threads: int = 1) -> None:
        import warnings

        from mnist_edge.runtime.predictor import Predictor

        warnings.simplefilter("ignore")  # as in the CLI: problems are in the records
        if not isinstance(model, bytes):  # a reference to the bytes in Ray's object store
            import ray

            model = ray.get(model)
        self.predictor = Predictor(model, threads=threads, name=name)

    def __call__(self, batch: "pyarrow.Table") -> "pyarrow.Table":
        return predictions_table(self.predictor, list(batch_items(batch)))


def batch_items(batch: "pyarrow.Table") -> Iterator[Item]:
    """The batch's rows as decoded items, in order (each decoded as the local engine does)."""
    from mnist_edge.runtime.decode import decode_bytes, decode_image
    from mnist_edge.runtime.sources import ImageFile

    rows = len(batch)
    files = _column(batch, PATH, rows)
    names = _column(batch, SOURCE, rows) if SOURCE in batch.column_names else files
    columns = (_column(batch, name, rows) for name in (BYTES, PIXELS, ERROR))
    for name, file, data, pixels, error in zip(names, files, *columns, strict=True):
        if name is None:
            raise ValueError(f"a row without {SOURCE!r} or {PATH!r}: name every input")
        name = os.fsdecode(name)
        if error is not None:
            yield Item(name, None, error)
        elif pixels is not None:
            yield Item(name, np.frombuffer(pixels, np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE))
        elif data is not None:
            yield decode_bytes(name, data)
        else:  # the file itself, as `predict` opens it
            yield decode_image(ImageFile(Path(os.fsdecode(file))), name)


def predictions_table(predictor: "Predictor", items: list[Item]) -> "pyarrow.Table":
    """One model call for the items (the local engine's `predict_window`), as a table."""
    from mnist_edge.runtime.pipeline import predict_window

    return table_of([_row(p) for p in predict_window(predictor, items)], output_schema())


def table_of(rows: list[tuple], schema: "pyarrow.Schema") -> "pyarrow.Table":
    """Rows (tuples in the schema's order) as an Arrow table."""
    import pyarrow

    columns = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in schema]
    return pyarrow.table(dict(zip(schema.names, columns, strict=True)), schema=schema)


def _row(prediction: Prediction) -> tuple:
    if prediction.error is not None:
        return prediction.source, None, None, None, prediction.error
    return (
        prediction.source,
        prediction.digit,
        prediction.probability,
        prediction.probabilities,
        None,
    )


def _column(batch: "pyarrow.Table", name: str, rows: int) -> list:
    return batch.column(name).to_pylist() if name in batch.column_names else [None] * rows


def predictions_of(table: "pyarrow.Table") -> Iterator[Prediction]:
    """A table of predictions back as `Prediction`s (for the writers of the local engine)."""
    sources = table.column(SOURCE).to_pylist()
    errors = table.column(ERROR).to_pylist()
    probabilities = table.column(PROBABILITIES).to_pylist()
    for source, error, row in zip(sources, errors, probabilities, strict=True):
        yield Prediction(source, None if row is None else np.asarray(row, np.float32), error)
