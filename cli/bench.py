"""`mnist-edge bench`: the runtime's own speed on this machine."""

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from mnist_edge.cli.console import fail, note, warn
from mnist_edge.cli.options import (
    ModelOption,
    ReportFormat,
    ReportFormatOption,
    ThreadsOption,
    open_predictor,
)
from mnist_edge.runtime import catalog  # names only

IMAGES_HELP = (
    "Images to time: an MNIST npz (its test split), a folder of the MNIST IDX files, or any "
    ".npy/.npz/IDX array of 28x28 images. Default: MNIST where `train` finds it, else the "
    "1,000 test images shipped inside."
)
TIMED_IMAGES = 10_000  # what the throughput figures run through (the slice is repeated)


def bench(
    model: ModelOption = None,
    int8_model: Annotated[
        str | None,
        typer.Option(
            help="A file or shipped name. Default: the int8 twin of a shipped --model, else "
            f"{catalog.DEFAULT}{catalog.INT8}.",
            show_default=False,
        ),
    ] = None,
    threads: ThreadsOption = None,
    data: Annotated[Path | None, typer.Option(readable=False, help=IMAGES_HELP)] = None,
    files: Annotated[
        int, typer.Option(min=0, help="PNG files for the end-to-end figure (0: skip it).")
    ] = 10_000,
    output_format: ReportFormatOption = ReportFormat.table,
) -> None:
    """Batch-1 latency, throughput by batch size, and end-to-end files/s of `predict`."""
    from mnist_edge.cli.render import bench_table, print_report
    from mnist_edge.measure.bench import run_bench
    from mnist_edge.runtime.catalog import int8_twin

    images = bench_images(data)
    note(f"timing {len(images):,} images, then predict on {files:,} PNG files (about 15 s)")
    models = {
        "float32": open_predictor(model, threads),
        "int8": open_predictor(int8_model or int8_twin(model), threads),
    }
    result = run_bench(models, images, files)
    result["threads"] = threads
    print_report(result, output_format, lambda: bench_table(result, threads))


def bench_images(data: Path | None) -> np.ndarray:
    """uint8 (N, 28, 28) images from --data, or one line and exit 1 saying what to pass."""
    from mnist_edge.core.errors import DataError, InputError
    from mnist_edge.core.files import is_folder
    from mnist_edge.core.mnist import load_mnist
    from mnist_edge.measure import TEST_SLICE

    try:
        if data is None or is_folder(data):
            try:
                return load_mnist(data).x_test
            except DataError:
                if data is not None:
                    raise
                warn("MNIST not found here: timing the 1,000 test images shipped inside")
                return np.resize(array_images(TEST_SLICE), (TIMED_IMAGES, 28, 28))
        return array_images(data)
    except (DataError, InputError) as error:
        fail(f"{data}: {error}" if data is not None else str(error))


def array_images(path: Path) -> np.ndarray:
    """Every image of an array file, uint8 (N, 28, 28)."""
    from mnist_edge.runtime.array_inputs import read_array_file
    from mnist_edge.runtime.arrays import to_uint8
    from mnist_edge.runtime.sources import ArrayFile

    array = read_array_file(ArrayFile(path))
    return to_uint8(np.concatenate(list(array.blocks(array.count))))
