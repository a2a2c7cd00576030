"""`mnist-edge info`: what a model file says about itself."""

from mnist_edge.cli.console import writing_results
from mnist_edge.cli.options import ModelOption, ReportFormat, ReportFormatOption, open_predictor


def info(model: ModelOption = None, output_format: ReportFormatOption = ReportFormat.table) -> None:
    """Show a model's path, checksum, input/output contract, labels, metrics and versions."""
    from mnist_edge.runtime.info import as_text, describe
    from mnist_edge.runtime.records import dumps

    details = describe(open_predictor(model))
    with writing_results():
        print(dumps(details, indent=2) if output_format == ReportFormat.json else as_text(details))
