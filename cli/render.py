"""Everything the command line shows people, rendered from the data the library returns:
evaluation, bench, shipped models and model info tables. One place, so that each command only
chooses between this and JSON (`print_report`)."""

from collections.abc import Callable

from mnist_edge.cli.console import writing_results
from mnist_edge.cli.options import ReportFormat
from mnist_edge.measure.bench import BATCH_SIZES
from mnist_edge.runtime.catalog import MODELS
from mnist_edge.runtime.evaluate import Evaluation


def evaluation_table(evaluation: Evaluation) -> str:
    """Accuracy, then precision and recall per digit."""
    lines = [
        f"accuracy {evaluation.accuracy:.2%} on {evaluation.n:,} labelled images"
        + (f" ({evaluation.failed} failed)" if evaluation.failed else "")
        + (
            f" ({evaluation.unlabelled} without a label, not counted)"
            if evaluation.unlabelled
            else ""
        ),
        f"{'digit':>5}  {'images':>7}  {'precision':>9}  {'recall':>7}",
    ]
    support = evaluation.confusion.sum(axis=1)
    for digit, (precision, recall) in enumerate(
        zip(evaluation.precision(), evaluation.recall(), strict=True)
    ):
        lines.append(
            f"{digit:>5}  {support[digit]:>7,}  {_percent(precision):>9}  {_percent(recall):>7}"
        )
    return "\n".join(lines)


def print_report(data: object, output_format: ReportFormat, text: Callable[[], str]) -> None:
    """A command's result on stdout: `data` as JSON, or `text()` for people."""
    from mnist_edge.runtime.records import dumps

    with writing_results():
        print(dumps(data, indent=2) if output_format == ReportFormat.json else text())


def _percent(value: float) -> str:
    return "n/a" if value != value else f"{value:.2%}"  # NaN: undefined


def bench_table(result: dict, threads: int | None) -> str:
    """The figures as a short readable report."""
    info = result["machine"]
    lines = [
        f"{info['cpu']}, {info['cores']} cores ({' '.join(info['flags']) or 'no flags read'}), "
        f"onnxruntime {result['onnxruntime']}, threads: one for batches up to "
        f"{result['small_batch']}, "
        + (f"{threads} for larger ones" if threads else "one per core for larger ones"),
        "",
        f"{'model':<24}{'batch-1 latency':>22}   throughput, images/s at batch size",
        f"{'':<24}{'median':>11}{'p99':>11}   " + "".join(f"{b:>10,}" for b in BATCH_SIZES),
    ]
    for name, figures in result["models"].items():
        latency = figures["latency_batch_1"]
        rates = figures["images_per_second"]
        label = f"{name} ({figures['bytes'] / 1024:.0f} KiB)"
        lines.append(
            f"{label:<24}{latency['median_us']:>9.1f}us{latency['p99_us']:>9.1f}us   "
            + "".join(f"{rates.get(str(b), float('nan')):>10,.0f}" for b in BATCH_SIZES)
        )
    folder = result.get("predict_png_folder")
    if folder:
        lines += [
            "",
            f"predict on a folder of {folder['files']:,} 28x28 PNG files (decode + preprocess + "
            f"infer): {folder['files_per_second']:,.0f} files/s",
        ]
    return "\n".join(lines)


def models_table(rows: list[dict[str, object]]) -> str:
    """The listing as aligned columns, the default marked."""
    lines = [f"{'name':<12}{'size':>9}{'parameters':>12}{'MNIST test':>12}  network"]
    for row in rows:
        accuracy = row["test_accuracy"]
        name = f"{row['name']}{' *' if row['default'] else ''}"
        lines.append(
            f"{name:<12}{row['bytes'] / 1024:>5.0f} KiB{row['parameters'] or 0:>12,}"
            f"{'-' if accuracy is None else f'{accuracy:.2%}':>12}  {row['layers'] or '-'}"
        )
    lines.append(f"* the default; files in {MODELS}")
    return "\n".join(lines)


def info_text(details: dict[str, object]) -> str:
    """Readable `key: value` lines; nested dicts indented."""
    lines = []
    for key, value in details.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {name}: {item}" for name, item in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}: {', '.join(str(item) for item in value)}")
        else:
            lines.append(f"{key}: {'-' if value is None else value}")
    return "\n".join(lines)
