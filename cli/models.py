"""`mnist-edge models`: the models shipped inside, with their size and accuracy."""

from mnist_edge.cli.console import fail
from mnist_edge.cli.options import ReportFormat, ReportFormatOption


def models(output_format: ReportFormatOption = ReportFormat.table) -> None:
    """List the shipped models (names for --model): size, parameters, MNIST test accuracy."""
    from mnist_edge.cli.render import models_table, print_report
    from mnist_edge.core.errors import ModelError
    from mnist_edge.runtime.info import shipped_models

    try:
        rows = shipped_models()
    except ModelError as error:
        fail(str(error))
    print_report(rows, output_format, lambda: models_table(rows))
