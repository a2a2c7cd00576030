"""Prediction on Ray Data: the plumbing in one function, and the two ways the command line
uses it (records streamed back in input order, or shards written by the workers)."""

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_edge.runtime.pipeline import DEFAULT_BATCH, PipelineOptions
from mnist_edge.runtime.records import Prediction

if TYPE_CHECKING:
    from ray.data import Dataset

    from mnist_edge.runtime.predictor import Predictor


def predict_dataset(
    dataset: "Dataset",
    model: "Predictor | Path | str | None" = None,
    batch_size: int = DEFAULT_BATCH,
    workers: int | tuple[int, int] | None = None,
    threads: int = 1,
) -> "Dataset":
    """Digit predictions for a dataset of images: a record for every row.

    Each row of `dataset` has `path` (the input's name) and `bytes` (the image file's
    content), as `ray.data.read_binary_files(..., include_paths=True)` gives them; without
    `bytes`, the workers open the file at `path`. The result has the columns `source`,
    `label`, `probability`, `probabilities` (the model's float32) and `error` (None, or why
    this input could not be predicted), the records of `mnist-edge predict`. `model`: a
    Predictor, an ONNX file, or None for the shipped model. `workers`: Ray actors, each with
    one Predictor of `threads` onnxruntime threads and as many CPUs: a number holds that
    many for the whole run (leave CPUs to a reader upstream that needs them, as Ray's file
    readers do), (min, max) lets Ray Data scale between them; default (1, one per CPU).
    """
    import ray

    from mnist_edge.runtime.predictor import Predictor
    from mnist_edge.scale.cluster import cluster_cpus
    from mnist_edge.scale.worker import DigitReader

    predictor = model if isinstance(model, Predictor) else Predictor(model)
    model_bytes = ray.put(predictor.model_bytes)  # once: every actor reads it from there
    pool = workers or (1, max(1, cluster_cpus() // threads))
    smallest, largest = (pool, pool) if isinstance(pool, int) else pool
    return dataset.map_batches(
        DigitReader,
        fn_constructor_args=(model_bytes, predictor.model_path.name, threads),
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(min_size=smallest, max_size=largest),
        num_cpus=threads,
    )


def stream_predictions(
    predictor: "Predictor", paths: list[Path], options: PipelineOptions | None = None
) -> Generator[Prediction, None, None]:
    """Everything `paths` names, predicted on Ray, back in input order (Ray Data's
    `preserve_order` is set for this process). `options.workers`: actors (default: one per
    CPU of the cluster), each with `options.threads` onnxruntime threads (default 1)."""
    import ray.data

    from mnist_edge.scale.inputs import segments
    from mnist_edge.scale.worker import predictions_of

    ray.data.DataContext.get_current().execution_options.preserve_order = True
    options = options or PipelineOptions()
    threads = options.threads or 1
    workers = all_cpus(options.workers, threads)
    for segment in segments(paths, options.recursive, options.batch_size):
        predicted = predict_dataset(segment, predictor, options.batch_size, workers, threads)
        for table in predicted.iter_batches(batch_format="pyarrow", batch_size=None):
            yield from predictions_of(table)


def write_shards(
    predictor: "Predictor",
    paths: list[Path],
    folder: Path,
    output_format: str = "jsonl",
    top_k: int = 0,
    options: PipelineOptions | None = None,
) -> tuple[int, int]:
    """Everything `paths` names, predicted on Ray and written by the workers as shards in
    `folder` (in no particular order); returns (records, errors). `options` as for
    `stream_predictions`."""
    from mnist_edge.scale.inputs import segments
    from mnist_edge.scale.shards import shard_sink

    records = errors = 0
    options = options or PipelineOptions()
    threads = options.threads or 1
    workers = all_cpus(options.workers, threads)
    for segment in segments(paths, options.recursive, options.batch_size):
        sink = shard_sink(folder, output_format, top_k)
        dataset = predict_dataset(segment, predictor, options.batch_size, workers, threads)
        dataset.write_datasink(sink)
        records, errors = records + sink.counts[0], errors + sink.counts[1]
    return records, errors


def all_cpus(workers: int | None, threads: int) -> int:
    """A fixed pool of actors, by default on every CPU: the command line's input rows need
    no CPU to be read, so nothing upstream waits for one."""
    from mnist_edge.scale.cluster import cluster_cpus

    return workers or max(1, cluster_cpus() // threads)
