"""ONNX file in, mnist_model.h and mnist_model.c out: lower, plan, emit, write."""

from dataclasses import dataclass
from pathlib import Path

from mnist_edge.core import contract
from mnist_edge.core.files import sha256_file
from mnist_edge.export.c import emit
from mnist_edge.export.c.lower import lower
from mnist_edge.export.c.plan import plan

HEADER = "mnist_model.h"
SOURCE = "mnist_model.c"


@dataclass(frozen=True)
class Generated:
    header: Path
    source: Path
    int8: bool
    arena_bytes: int
    weight_bytes: int
    layers: int
    steps: int


def generate(model_path: Path, output: Path) -> Generated:
    """Write the C for the ONNX model at `model_path` into the folder `output`.

    Raises UnsupportedModel or ModelError (one line) when the model cannot be generated, and
    OSError when the folder cannot be written.
    """
    model = lower(model_path)
    schedule = plan(model)
    identity = describe(model.metadata, model_path)
    header, source = emit.header(model, schedule, identity), emit.source(model, schedule)
    output.mkdir(parents=True, exist_ok=True)
    (output / HEADER).write_text(header)
    (output / SOURCE).write_text(source)
    return Generated(
        output / HEADER, output / SOURCE, model.int8, schedule.arena_bytes,
        model.weight_bytes, len(model.layers), len(schedule.steps),
    )  # fmt: skip


def describe(metadata: dict[str, object], model_path: Path) -> emit.Identity:
    """The header's account of the model, from its ONNX metadata."""
    network = metadata.get(contract.META_ARCHITECTURE) or {}
    training = metadata.get(contract.META_TRAINING) or {}
    quantization = metadata.get(contract.META_QUANTIZATION) or {}
    accuracy = quantization.get("test_accuracy", training.get("test_accuracy"))
    return emit.Identity(
        onnx_name=model_path.name.removesuffix(".onnx"),
        onnx_sha256=sha256_file(model_path),
        source_sha256=str(metadata.get(contract.META_SOURCE_SHA256, "unknown")),
        architecture=str(network.get("name", "unknown")),
        layers=str(network.get("layers", "unknown")),
        test_accuracy=None if accuracy is None else float(accuracy),
    )
