"""`mnist-edge export`. Importing this module is cheap: TensorFlow loads inside the command."""

from pathlib import Path
from typing import Annotated

import typer

from mnist_edge.cli.console import fail
from mnist_edge.cli.options import MnistOption
from mnist_edge.cli.train import require_train_extra
from mnist_edge.core.contract import OPSET
from mnist_edge.core.errors import DataError, ModelError


def export(
    model: Annotated[Path, typer.Option(help="Keras model (.keras or .h5).")] = Path(
        "artifacts/model.keras"
    ),
    output: Annotated[Path, typer.Option("--output", "-o", help="ONNX file to write.")] = Path(
        "artifacts/model.onnx"
    ),
    int8: Annotated[
        bool, typer.Option("--int8", help="Also write an int8 model (<name>.int8.onnx).")
    ] = False,
    opset: Annotated[int, typer.Option(min=17, help="ONNX opset to target.")] = OPSET,
    data: MnistOption = None,
) -> None:
    """Export a Keras model to ONNX and prove parity with Keras on the 10,000 test images."""
    require_train_extra("export")
    from mnist_edge.export.parity import ParityError
    from mnist_edge.export.run import QuantizationError, export_model

    try:
        result = export_model(model, output, data=data, int8=int8, opset=opset)
    except (DataError, ModelError, ParityError, QuantizationError) as error:
        fail(str(error))
    print(parity_table(result.summary))
    for path in (result.model, result.int8_model, result.parity):
        if path is not None:
            print(f"wrote {path}")


def parity_table(summary: dict) -> str:
    """The parity figures as a short table."""
    lines = [
        f"parity with Keras on {summary['images']:,} test images (tolerance "
        f"{summary['tolerance']:g}, Keras accuracy {summary['keras_test_accuracy']:.2%})",
        f"  {'backend':<16}{'max |diff|':>12}{'mean |diff|':>13}{'same digit':>12}  result",
    ]
    for row in summary["backends"]:
        lines.append(
            f"  {row['backend']:<16}{row['max_abs_diff']:>12.2e}{row['mean_abs_diff']:>13.2e}"
            f"{row['argmax_agreement']:>12.2%}  {'pass' if row['passed'] else 'FAIL'}"
        )
    for optimisation in summary.get("optimisations", []):
        lines.append(f"optimised after parity: {optimisation}")
    if summary.get("optimisations"):
        readable = ", ".join(
            f"{row['backend']} {row['max_abs_diff']:.2e}"
            for row in summary["readable_graph_backends"]
        )
        lines.append(f"  the readable graph (the reference), max |diff|: {readable}")
    if "int8" in summary:
        q = summary["int8"]
        lines.append(
            f"int8 model: {q['bytes'] / 1024:.0f} KiB ({q['size_ratio']:.0%} of "
            f"{q['float_bytes'] / 1024:.0f} KiB), test accuracy {q['test_accuracy']:.2%} "
            f"(float {q['float_test_accuracy']:.2%}, drop {q['accuracy_drop_points']:.2f} points)"
        )
        lines += [f"  optimised: {optimisation}" for optimisation in q.get("optimisations", [])]
    return "\n".join(lines)
