"""The `serve` section of docs/serve.md: targets, every run's figures, the soak, the method."""

from dataclasses import dataclass

import numpy as np

from benchmarks.serve_load import Load

TARGET_SPEEDUP = 3.0  # batching on / off, single-image tensors at 64 clients
TARGET_PNG_P99_MS = 5.0  # PNG upload, 1 client
TARGET_RSS_GROWTH = 0.10  # soak: last RSS_WINDOW seconds against the first
RSS_WINDOW = 10  # seconds (samples) at each end of the soak
SPEEDUP_KIND = "tensor, 1 image"
PNG_KIND = "PNG upload"


@dataclass(frozen=True)
class Row:
    kind: str
    batching: bool
    load: Load
    cpu_us: float | None = None  # the server's CPU time (all threads) per answered request


@dataclass(frozen=True)
class Soak:
    load: Load
    rss_mib: list[float]  # the server's RSS, one sample a second
    returncode: int  # of the server on SIGTERM

    def rss_ends(self) -> tuple[float, float]:
        """Mean RSS of the first and of the last RSS_WINDOW seconds."""
        return float(np.mean(self.rss_mib[:RSS_WINDOW])), float(np.mean(self.rss_mib[-RSS_WINDOW:]))


def find(rows: list[Row], kind: str, clients: int, batching: bool) -> Row:
    return next(
        row
        for row in rows
        if (row.kind, row.load.clients, row.batching) == (kind, clients, batching)
    )


def row_text(row: Row) -> str:
    """One run in one line, for the console."""
    load = row.load
    return (
        f"{row.kind:18} {load.clients:3} clients, batching {'on ' if row.batching else 'off'}: "
        f"{load.requests_per_second:8,.0f} req/s {load.images_per_second:9,.0f} images/s "
        f"p50 {load.percentile_ms(50):6.2f} ms p99 {load.percentile_ms(99):6.2f} ms "
        + (f"server CPU {row.cpu_us:5.0f} µs/request, " if row.cpu_us is not None else "")
        + f"failed {load.failed}"
    )


def targets(rows: list[Row], soak: Soak) -> list[tuple[str, str, bool]]:
    on_row, off_row = (find(rows, SPEEDUP_KIND, 64, batching) for batching in (True, False))
    on, off = on_row.load, off_row.load
    speedup = on.requests_per_second / off.requests_per_second
    cpu_ratio = (off_row.cpu_us or 0) / (on_row.cpu_us or 1)
    png = find(rows, PNG_KIND, 1, True).load.percentile_ms(99)
    first, last = soak.rss_ends()
    growth = last / first - 1
    load = soak.load
    return [
        (
            f"dynamic batching ≥ {TARGET_SPEEDUP:g}× batching off (`--max-batch 1`), "
            "single-image tensors, 64 clients",
            f"{speedup:.2f}× ({on.requests_per_second:,.0f} vs "
            f"{off.requests_per_second:,.0f} requests/s; server CPU per request "
            f"{cpu_ratio:.1f}× less)",
            speedup >= TARGET_SPEEDUP,
        ),
        (
            f"PNG upload p99 < {TARGET_PNG_P99_MS:g} ms, 1 client",
            f"{png:.2f} ms",
            png < TARGET_PNG_P99_MS,
        ),
        (
            f"{load.clients} clients for {load.seconds:.0f} s: no failed request",
            f"{load.answered:,} answered, {load.failed} failed",
            load.failed == 0,
        ),
        (
            f"RSS growth < {TARGET_RSS_GROWTH:.0%} from the first to the last {RSS_WINDOW} s",
            f"{first:.1f} MiB → {last:.1f} MiB ({growth:+.1%})",
            growth < TARGET_RSS_GROWTH,
        ),
    ]


def render(
    rows: list[Row], reference: dict[str, float], soak: Soak, codes: list[int], context: dict
) -> str:
    cpu = context["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in context["versions"].items())
    lines = [
        f"Made by `make bench-serve` (`{context['command']}`) on {context['date']}, on a shared "
        f"{cpu['cores']}-core machine ({cpu['cpu']}; load average {context['load'][0]:.2f} at the "
        f"start, {context['load'][1]:.2f} at the end): compare figures within this section.",
        f"Versions: {versions}.",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for target, measured, met in targets(rows, soak):
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    lines += ["", *_runs_table(rows), "", *_reference(reference), "", *_soak(soak, codes)]
    lines += ["", *_method(context)]
    return "\n".join(lines)


def _runs_table(rows: list[Row]) -> list[str]:
    lines = [
        f"Each run: {rows[0].load.seconds:.0f} s after a short warm-up, on 127.0.0.1. "
        "Latency is from sending a request to reading its whole answer; server CPU is the "
        "service process's CPU time (all its threads) per answered request, a figure that "
        "other work on the machine disturbs less than throughput.",
        "",
        "| request | clients | batching | requests/s | images/s | p50 ms | p99 ms "
        "| server CPU µs/request | failed |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        load = row.load
        lines.append(
            f"| {row.kind} | {load.clients} | {'on' if row.batching else 'off'} | "
            f"{load.requests_per_second:,.0f} | {load.images_per_second:,.0f} | "
            f"{load.percentile_ms(50):.2f} | {load.percentile_ms(99):.2f} | {row.cpu_us or 0:,.0f} "
            f"| {load.failed} |"
        )
    return lines


def _reference(reference: dict[str, float]) -> list[str]:
    lines = [
        "In-process `Predictor` (the service's single onnxruntime thread), for reference:",
        "",
    ]
    lines += [f"- {name}: {value:,.1f}" for name, value in reference.items()]
    return lines


def _soak(soak: Soak, codes: list[int]) -> list[str]:
    load = soak.load
    first, last = soak.rss_ends()
    return [
        f"Soak: {load.clients} clients for {load.seconds:.0f} s, the three kinds of request in "
        f"turn: {load.answered:,} answered ({load.requests_per_second:,.0f}/s, "
        f"{load.images_per_second:,.0f} images/s), {load.failed} failed; p99 "
        f"{load.percentile_ms(99):.1f} ms. Server RSS {min(soak.rss_mib):.1f}-"
        f"{max(soak.rss_mib):.1f} MiB (first {RSS_WINDOW} s {first:.1f}, last {last:.1f}).",
        f"Every server stopped on SIGTERM with exit code {', '.join(map(str, codes))}.",
    ]


def _method(context: dict) -> list[str]:
    return [
        "Method: the server is the installed `mnist-edge serve --quiet` (defaults: max batch "
        "256, max delay 2 ms; batching off is `--max-batch 1`). The load generator "
        "(benchmarks/serve_load.py) runs in another process on the same cores: keep-alive "
        "connections, each sending its next request when the previous answer is complete, "
        "with the bytes tritonclient would send (binary tensors in and out) or a 28x28 PNG "
        "to `/v1/predict`, cycling through 1,000 MNIST test images. The client costs a few "
        "microseconds a request, which the server's figures include.",
    ]
