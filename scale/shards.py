"""Predictions written where the workers are: one shard per write task, in `--format`.

JSONL and CSV shards hold exactly the lines `mnist-edge predict` prints (the local engine's
writers make them); Parquet shards hold the columns of `predict_dataset`. Each write task
returns how many records it wrote and how many were errors, for the run's summary.
"""

import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_edge.scale.worker import ERROR, predictions_of

if TYPE_CHECKING:
    from ray.data.block import Block, BlockAccessor
    from ray.data.datasource import WriteResult


def shard_sink(folder: Path, output_format: str, top_k: int = 0) -> object:
    """A Ray Datasink writing shards of `output_format` into `folder` (made if missing);
    after `dataset.write_datasink(sink)`, `sink.counts` is (records, errors)."""
    from ray.data.block import BlockAccessor
    from ray.data.datasource import BlockBasedFileDatasink

    class ShardSink(BlockBasedFileDatasink):
        counts = (0, 0)

        def write(self, blocks: Iterable["Block"], ctx: object) -> tuple[int, int]:
            tables = [BlockAccessor.for_block(block).to_arrow() for block in blocks]
            super().write(tables, ctx)
            return sum(map(len, tables)), sum(len(t) - t.column(ERROR).null_count for t in tables)

        def write_block_to_file(self, block: "BlockAccessor", file: object) -> None:
            table = block.to_arrow()
            if output_format == "parquet":
                import pyarrow.parquet

                pyarrow.parquet.write_table(table, file)
            else:
                file.write(render(table, output_format, top_k).encode())

        def on_write_complete(self, write_result: "WriteResult") -> None:
            super().on_write_complete(write_result)
            returns = [counts for counts in write_result.write_returns if counts]
            self.counts = tuple(map(sum, zip(*returns, strict=True))) or (0, 0)

    return ShardSink(str(folder), file_format=output_format)


def render(table: object, output_format: str, top_k: int = 0) -> str:
    """A table of predictions as the text `mnist-edge predict` prints."""
    from mnist_edge.runtime.report import make_writer

    text = io.StringIO()
    writer = make_writer(output_format, text, top_k)
    for prediction in predictions_of(table):
        writer.write(prediction)
    return text.getvalue()
