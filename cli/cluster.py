"""`mnist-edge predict --engine ray`: the command's options wired to the cluster engine
(scale/). Records, failures, summary and exit codes are the local engine's; what Ray itself
cannot do (start, reach the cluster, run a task) is one line and exit 1."""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail, note
from mnist_edge.cli.options import open_predictor
from mnist_edge.cli.results import Output, summarise, write_predictions
from mnist_edge.core.text import one_line

if TYPE_CHECKING:
    from mnist_edge.runtime.pipeline import PipelineOptions


def predict_on_ray(
    model: str | None,
    inputs: list[Path],
    options: "PipelineOptions",
    output: Output,
    address: str | None,
) -> None:
    """`inputs` predicted on Ray: a local instance, or the cluster at `address`. Each actor
    holds `options.workers` (default: one per CPU) and `options.threads` onnxruntime
    threads (default 1)."""
    from mnist_edge.core.extras import MissingExtra
    from mnist_edge.scale import cluster, reach
    from mnist_edge.scale.engine import stream_predictions, write_shards

    try:
        cluster.require_ray()
        if address is not None:
            reach.probe(address)
    except ValueError as error:
        fail(f"--ray-address: {error}", EXIT_USAGE)
    except (MissingExtra, ConnectionError) as error:
        fail(str(error))
    options = replace(options, threads=options.threads or 1)
    predictor = open_predictor(model, options.threads)
    local_cpus = max(os.cpu_count() or 1, _cpus(options))  # a local instance fits the actors
    note(
        f"connecting to the Ray cluster at {address}" if address else "starting Ray (a few seconds)"
    )
    with ray_failures(), cluster.ray_session(address, local_cpus):
        check_cpus(options, cluster.cluster_cpus())
        if output.folder is not None:
            format_, top_k = output.format.value, output.top_k
            summarise(*write_shards(predictor, inputs, output.folder, format_, top_k, options))
            return
        predictions = stream_predictions(predictor, inputs, options)
        try:
            write_predictions(predictions, output, inputs, options.recursive)
        finally:
            predictions.close()  # Ray Data's iterator ends while Ray is up (also on exit)


def check_cpus(options: "PipelineOptions", cpus: int) -> None:
    """Exit 2 when the cluster has fewer CPUs than the actors would hold (they would wait)."""
    if _cpus(options) > cpus:
        needs = f"{options.workers} workers of {options.threads} threads need {_cpus(options)} CPUs"
        fail(f"{needs}; the cluster has {cpus}", EXIT_USAGE)


def _cpus(options: "PipelineOptions") -> int:
    """CPUs the actors hold together."""
    return (options.workers or 1) * (options.threads or 1)


@contextlib.contextmanager
def ray_failures() -> Iterator[None]:
    """Whatever Ray raises (a cluster out of reach, a task that failed) as one line, exit 1."""
    try:
        yield
    except typer.Exit:
        raise
    except Exception as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        fail(f"the Ray engine failed: {one_line(lines[-1])}")
