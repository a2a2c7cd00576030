"""`mnist-edge models`: the models shipped inside, with their size and accuracy."""

from mnist_edge.cli.console import fail, writing_results
from mnist_edge.cli.options import ReportFormat, ReportFormatOption


def models(output_format: ReportFormatOption = ReportFormat.table) -> None:
    """List the shipped models (names for --model): size, parameters, MNIST test accuracy."""
    from mnist_edge.core.errors import ModelError
    from mnist_edge.runtime.catalog import as_table, listing
    from mnist_edge.runtime.records import dumps

    try:
        rows = listing()
    except ModelError as error:
        fail(str(error))
    with writing_results():
        print(dumps(rows, indent=2) if output_format == ReportFormat.json else as_table(rows))
