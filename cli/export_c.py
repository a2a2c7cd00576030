"""`mnist-edge export-c`: C99 for a microcontroller from an ONNX model (needs onnx, which the
`mcu` extra installs; TensorFlow is not needed)."""

from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail, require
from mnist_edge.runtime import catalog  # names only: no NumPy, no onnxruntime


def export_c(
    model: Annotated[
        str,
        typer.Argument(
            help=f"ONNX model file, or a shipped model's name: {', '.join(catalog.names())}.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            readable=False,  # a folder to write: whatever stands there is judged when writing
            help="Folder for mnist_model.h and mnist_model.c.",
        ),
    ] = Path("artifacts/mcu"),
) -> None:
    """Generate dependency-free C99 (mnist_model.h, mnist_model.c) from an ONNX model, for a
    microcontroller: no malloc, no libm, one static arena, weights in flash; int8 models run
    on integers only and give onnxruntime's answers bit for bit."""
    require("mcu", "'export-c'")
    from mnist_edge.core.errors import ModelError
    from mnist_edge.export.c.generate import generate

    try:
        path = catalog.resolve(model)
    except catalog.UnknownModel as error:
        fail(str(error), EXIT_USAGE)
    try:
        result = generate(path, output)
    except ModelError as error:
        fail(str(error))
    except OSError as error:
        fail(f"{output}: cannot write ({error.strerror or error})")
    kind = "int8, integer-only" if result.int8 else "float32"
    print(
        f"{path.name} ({kind}): {result.layers} layers, weights {result.weight_bytes:,} B "
        f"(flash), arena {result.arena_bytes:,} B (RAM)"
    )
    for written in (result.header, result.source):
        print(f"wrote {written}")
