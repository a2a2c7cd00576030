"""`mnist-edge predict --engine ray`: the command's options wired to the cluster engine
(scale/). Records, failures, summary and exit codes are the local engine's; what Ray itself
cannot do (start, reach the cluster, run a task) is one line and exit 1."""

import contextlib
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail
from mnist_edge.cli.options import Format, open_predictor
from mnist_edge.cli.predict import summarise, write_predictions
from mnist_edge.core.text import one_line

if TYPE_CHECKING:
    from mnist_edge.runtime.predictor import Predictor
    from mnist_edge.runtime.records import Prediction


@dataclass(frozen=True)
class RayJob:
    inputs: list[Path]
    recursive: bool
    batch_size: int  # images per model call
    workers: int | None  # actors; None: one per CPU of the cluster
    threads: int  # onnxruntime threads (and CPUs) of each actor
    address: str | None  # a running cluster; None: a local instance

    @property
    def cpus(self) -> int:
        """CPUs the actors hold together."""
        return (self.workers or 1) * self.threads

    def stream(self, predictor: "Predictor") -> Generator["Prediction", None, None]:
        from mnist_edge.scale.engine import stream_predictions

        return stream_predictions(predictor, self.inputs, **self._settings())

    def write(self, predictor: "Predictor", folder: Path, output_format: str, top_k: int):
        from mnist_edge.scale.engine import write_shards

        return write_shards(
            predictor, self.inputs, folder, output_format, top_k, **self._settings()
        )

    def _settings(self) -> dict[str, object]:
        names = ("recursive", "batch_size", "workers", "threads")
        return {name: getattr(self, name) for name in names}


def predict_on_ray(
    model: Path | None,
    job: RayJob,
    output_format: Format,
    top_k: int,
    output_dir: Path | None,
    quiet: bool,
) -> None:
    from mnist_edge.scale import cluster, reach

    try:
        cluster.require_ray()
        if job.address is not None:
            reach.probe(job.address)
    except ValueError as error:
        fail(f"--ray-address: {error}", EXIT_USAGE)
    except (cluster.RayMissing, ConnectionError) as error:
        fail(str(error))
    predictor = open_predictor(model, job.threads)
    local_cpus = max(os.cpu_count() or 1, job.cpus)  # a local instance fits the actors asked for
    with ray_failures(), cluster.ray_session(job.address, local_cpus):
        check_cpus(job, cluster.cluster_cpus())
        if output_dir is None:
            predictions = job.stream(predictor)
            try:
                write_predictions(
                    predictions, job.inputs, job.recursive, output_format, top_k, quiet
                )
            finally:
                predictions.close()  # Ray Data's iterator ends while Ray is up (also on exit)
        else:
            summarise(*job.write(predictor, output_dir, output_format.value, top_k))


def check_cpus(job: RayJob, cpus: int) -> None:
    """Exit 2 when the cluster has fewer CPUs than the actors would hold (they would wait)."""
    if job.cpus > cpus:
        needs = f"{job.workers} workers of {job.threads} threads need {job.cpus} CPUs"
        fail(f"{needs}; the cluster has {cpus}", EXIT_USAGE)


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
