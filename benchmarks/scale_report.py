"""What `make bench-scale` measured, as the `scale` section of docs/cluster.md, with the
projection to ten million images on N machines."""

import datetime
from dataclasses import dataclass
from importlib import metadata

from benchmarks.figures import Figure, Key
from benchmarks.report import _cell as cell
from benchmarks.report import _ratio as ratio
from benchmarks.report import markdown_table
from harness.processes import MIB

SMALL = "28x28 PNG"
LARGE = "280x280 JPEG"
LOCAL = "local engine"
MACHINE = "the machine, without Ray"  # the local engine on one core, in 1 and 2 processes
RAY_START = "local Ray instance, started and stopped"
CLI_LOCAL = "mnist-edge predict one.png"
CLI_RAY = "mnist-edge predict --engine ray one.png"
RUN = "run (s)"
WHOLE = "files/s, whole run"
FIRST = "first record (s)"  # what every run costs first: its actors starting, one batch
STEADY = "files/s"  # after the first record: the rate of the work itself
EFFICIENCY = "1 -> 2 efficiency"
DRIVER = "the driver, one thread"
LISTED = "files listed and made rows, per s"
WRITTEN = "records written as jsonl, per s"
EFFICIENCY_TARGET = 0.8  # 1 -> 2 workers, on the larger images
PROJECTED_IMAGES = 10_000_000
PROJECTED_CORES = 16  # per machine: a common cloud size
PROJECTED_MACHINES = (1, 4, 16, 64)


def engine_name(workers: int) -> str:
    return f"Ray, {workers} worker" + ("s" if workers > 1 else "")


def row(images: str, engine: str) -> str:
    return f"{images}, {engine}"


@dataclass(frozen=True)
class ScaleResults:
    figures: dict[Key, Figure]
    files: dict[str, int]  # per image set
    passes: dict[str, int]  # times each set was read in one timed run
    sizes: dict[str, int]  # bytes the scale extra adds, per distribution
    repeats: int
    machine: dict[str, object]
    load: tuple[float, float]  # 1-minute load average at the start and the end
    command: str

    def median(self, images: str, engine: str, column: str) -> float:
        return self.figures[(row(images, engine), column)].median

    def efficiency(self, images: str) -> float:
        """Files/s beyond a run's fixed cost with 2 workers, over twice that with 1."""
        one = self.median(images, engine_name(1), STEADY)
        return self.median(images, engine_name(2), STEADY) / (2 * one)


def render(results: ScaleResults) -> str:
    """The `scale` section of docs/cluster.md: the figures, how, and what they project to."""
    today = datetime.date.today().isoformat()
    return "\n\n".join(
        [
            f"Made by `{results.command}` on {today}: medians of {results.repeats} repeats "
            f"(`±x%`: half the min-max range), Ray {metadata.version('ray')}, "
            f"{results.machine['cores']} cores ({results.machine['cpu']}), load average "
            f"{results.load[0]:.2f} at the start and {results.load[1]:.2f} at the end.",
            _engines_table(results),
            _efficiency(results),
            _fixed_costs(results),
            _install(results),
            "How: each folder is predicted whole, records consumed in input order, by the "
            "local engine (`predict_paths`) and by the Ray engine (`stream_predictions`, as "
            "`predict --engine ray` runs it) on one local Ray instance of 2 CPUs started "
            "beforehand (and warmed by one run). A run reads its folder n times (×n), so "
            "that the work lasts long next to what every run costs first, its actors "
            "starting (*first record*). *files/s* is the rate after the first record: the "
            "rate of the work itself, from which the scaling and the projection below are "
            "taken; *whole run* includes the start. Reproduce: `make bench-scale`.",
            _projection(results),
        ]
    )


def _engines_table(results: ScaleResults) -> str:
    columns = (STEADY, FIRST, RUN, WHOLE)
    rows = []
    for images, count in results.files.items():
        name = f"{count:,} {images} (×{results.passes[images]})"
        for engine in (LOCAL, engine_name(1), engine_name(2)):
            cells = [_cell(results.figures[(row(images, engine), column)]) for column in columns]
            rows.append([name, engine, *cells])
    return markdown_table(["images (read ×n in a run)", "engine", *columns], rows)


def _efficiency(results: ScaleResults) -> str:
    parts = [f"{images} {results.efficiency(images):.2f}" for images in results.files]
    machine = [
        f"{images} {_cell(results.figures[(row(images, MACHINE), EFFICIENCY)])}"
        for images in results.files
    ]
    met = results.efficiency(LARGE) >= EFFICIENCY_TARGET
    return (
        "Scaling efficiency from 1 to 2 workers (files/s with 2 workers over twice that with "
        f"1): {'; '.join(parts)}. Target ≥ {EFFICIENCY_TARGET} on the {LARGE}s: "
        + ("met." if met else "**not met**.")
        + " For reference, the machine's own (the local engine on one core, in one and in "
        f"two processes at once, no Ray): {'; '.join(machine)}; well below 1 means other "
        "work held the cores during the run."
    )


def _fixed_costs(results: ScaleResults) -> str:
    start = results.figures[(RAY_START, RUN)]
    local, ray = (results.figures[(name, RUN)] for name in (CLI_LOCAL, CLI_RAY))
    first = results.figures[(row(SMALL, engine_name(1)), FIRST)]
    return (
        f"Ray's fixed cost: starting (and stopping) a local instance takes {_cell(start)} s; "
        f"then a run's first record comes after {_cell(first)} s (its actors starting); a "
        f"whole process, `{CLI_RAY}`, takes {_cell(ray)} s against {_cell(local)} s for "
        f"`{CLI_LOCAL}`."
    )


def _install(results: ScaleResults) -> str:
    sizes = sorted(results.sizes.items(), key=lambda item: -item[1])
    named = ", ".join(f"{name} {size / MIB:,.0f} MiB" for name, size in sizes[:3])
    others = sum(size for _, size in sizes[3:])
    total = sum(results.sizes.values())
    return (
        f"The scale extra adds {total / MIB:,.0f} MiB to the runtime install ({named}, and "
        f"{len(sizes) - 3} other packages {others / MIB:,.0f} MiB)."
    )


def _projection(results: ScaleResults) -> str:
    """Ten million images on N machines, from the measured per-core rate."""
    listing = PROJECTED_IMAGES / results.figures[(DRIVER, LISTED)].median
    start = results.figures[(RAY_START, RUN)].median
    start += results.figures[(row(SMALL, engine_name(1)), FIRST)].median
    rows = []
    for machines in PROJECTED_MACHINES:
        cells = []
        for images in results.files:
            per_core = results.median(images, engine_name(1), STEADY)
            rate = per_core * min(results.efficiency(images), 1.0) * PROJECTED_CORES * machines
            cells.append(_duration(start + listing + PROJECTED_IMAGES / rate))
        rows.append([f"{machines} × {PROJECTED_CORES} cores", *cells])
    per_core = "; ".join(
        f"{images} {results.median(images, engine_name(1), STEADY):,.0f} files/s"
        for images in results.files
    )
    writing = results.figures[(DRIVER, WRITTEN)].median
    return "\n\n".join(
        [
            f"On paper, {PROJECTED_IMAGES / 1e6:,.0f} million images on machines of "
            f"{PROJECTED_CORES} cores: a worker per core, each at the rate measured here with "
            f"one worker ({per_core}), discounted by the efficiency measured from 1 to 2 "
            "workers; before that, the driver lists the files and makes their rows on one "
            f"thread, {_duration(listing)} for ten million here, which past a few machines is "
            "most of the time (split such a job by folder over several drivers); and Ray's "
            f"start, {start:.0f} s. It assumes storage that serves the files as fast, and "
            "results written as shards with `--output-dir` (streamed to stdout, one driver "
            f"writes {writing:,.0f} jsonl records/s at most):",
            markdown_table(["machines", *results.files], rows),
        ]
    )


def _duration(seconds: float) -> str:
    """1 h 05 min, 12 min, 3 min 10 s, 40 s."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes >= 10:
        return f"{minutes} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _cell(figure: Figure) -> str:
    return cell(figure, ratio)
