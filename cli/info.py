"""`mnist-edge info`: what a model file says about itself."""

from mnist_edge.cli.options import ModelOption, ReportFormat, ReportFormatOption, open_predictor


def info(model: ModelOption = None, output_format: ReportFormatOption = ReportFormat.table) -> None:
    """Show a model's path, checksum, input/output contract, labels, metrics and versions."""
    from mnist_edge.cli.render import info_text, print_report
    from mnist_edge.runtime.info import describe

    details = describe(open_predictor(model))
    print_report(details, output_format, lambda: info_text(details))
