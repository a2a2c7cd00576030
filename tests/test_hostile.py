"""Hostile inputs: one clear line each, the others still predicted, nothing hangs or explodes.

The corpus is made by tests/hostile.py. In-process runs check every record; one process per
input measures peak memory (the figure is printed; the 300 MB ceiling is asserted).
"""

import csv
import io
import json
import sys
import time
from pathlib import Path

import pytest

from benchmarks.processes import measure_process
from mnist_edge.runtime.budget import ENVIRONMENT
from tests.hostile import CARRIAGE_RETURN, SHOWN_AS, make_hostile, zip_bomb_npz
from tests.models import endless_loop_model

CLI = str(Path(sys.executable).with_name("mnist-edge"))
MAX_RSS_MB = 300  # any single input, the whole process
TIMEOUT = 120  # seconds, far above any case: a hang fails instead of stalling the suite
LIBRARY_NOISE = ("Traceback", "Warning", "warnings.warn", "\x1b[")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, x_test) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, make_hostile(folder, x_test)


def relative(source: str, folder: Path) -> str:
    return source.removeprefix(f"{folder}/")


def test_every_input_gets_one_clear_record_in_order(cli, hostile):
    folder, expected = hostile
    result = cli("predict", "-f", "jsonl", folder)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    sources = [relative(record["source"], folder) for record in records]
    assert sources == [SHOWN_AS.get(name, name) for name in expected]
    for record, error in zip(records, expected.values(), strict=True):
        if error is None:
            assert set(record) == {"source", "label", "probability", "probabilities"}, record
        else:
            assert set(record) == {"source", "error"} and error in record["error"], record
    assert result.returncode == 1


def test_good_inputs_around_the_bad_ones_are_right(cli, hostile, x_test):
    folder, _ = hostile
    output = cli("predict", "-f", "jsonl", folder).stdout
    records = [json.loads(line) for line in output.splitlines()]
    digits = {relative(r["source"], folder): r.get("label") for r in records}
    assert digits["a-first-good.png"] == 7 and digits["z-last-good.png"] == 9
    assert digits["e-49mp-16bit.png"] == 2  # 98 MB decoded, reduced before conversion
    assert digits["h-corrupt-exif.jpg"] == 0


def test_stderr_holds_only_the_tools_own_lines(cli, hostile):
    folder, expected = hostile
    result = cli("predict", "-f", "jsonl", folder)
    lines = result.stderr.splitlines()
    assert all(line.startswith("mnist-edge: ") for line in lines), lines
    assert not [line for line in lines if any(noise in line for noise in LIBRARY_NOISE)]
    failed = sum(error is not None for error in expected.values())
    assert lines[-1] == f"mnist-edge: {len(expected) - failed} of {len(expected)} inputs " + (
        f"predicted, {failed} failed"
    )


def test_csv_rows_stay_whole(cli, hostile):
    folder, expected = hostile
    result = cli("predict", "-f", "csv", folder)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(expected)
    assert result.stdout.count("\n") == len(expected) + 1  # no name split a row
    assert any(row["source"].endswith("two\\rlines.png") for row in rows)
    assert CARRIAGE_RETURN not in result.stdout


def test_table_has_one_line_per_input(cli, hostile):
    folder, expected = hostile
    lines = cli("predict", folder).stdout.splitlines()
    assert len(lines) == len(expected) + 1


def test_a_model_that_never_answers_costs_one_budget(cli, tmp_path, monkeypatch):
    """An ONNX Loop of 10^12 steps: the first batch's records say the model took too long,
    the later ones that it was not run again; every input has its record, exit 1."""
    model = endless_loop_model(tmp_path / "endless.onnx")
    monkeypatch.setenv(ENVIRONMENT, "0.3")
    started = time.perf_counter()
    result = cli("predict", "-f", "jsonl", "--batch-size", "4", "--model", model, "samples")
    seconds = time.perf_counter() - started
    print(f"\n10 images in batches of 4, a model that never answers: {seconds:.2f} s")
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()]
    late = "the model took longer than 0.3 s on a batch of 4"
    skipped = "not run: the model took longer than 0.3 s on an earlier batch"
    assert errors == [late] * 4 + [skipped] * 6
    assert result.stderr.splitlines()[-1] == "mnist-edge: 0 of 10 inputs predicted, 10 failed"
    assert result.returncode == 1


@pytest.mark.slow
def test_peak_memory_per_input(hostile):
    """Each input alone in a fresh `mnist-edge predict` process: peak RSS and time."""
    folder, _ = hostile
    report = []
    for path in sorted(folder.iterdir()):
        run = measure_process([CLI, "predict", "-f", "jsonl", str(path)], timeout=TIMEOUT)
        report.append((path.name, run.max_rss_mb, run.seconds, run.returncode))
    print("\npeak RSS per hostile input (whole process)")
    for name, rss_mb, seconds, code in report:
        print(f"  {SHOWN_AS.get(name, name):<30} {rss_mb:6.0f} MB  {seconds:5.2f} s  exit {code}")
    assert max(rss_mb for _, rss_mb, _, _ in report) < MAX_RSS_MB


@pytest.mark.slow
def test_a_million_images_stream_in_bounded_memory(tmp_path):
    """The largest array file allowed (1,000,000 blank images, 784 MB once inflated, a 0.7 MB
    .npz) is read a block at a time: every image gets its record, memory stays flat."""
    path = tmp_path / "million.npz"
    zip_bomb_npz(path, 1_000_000)
    out = tmp_path / "out.jsonl"
    command = [CLI, "predict", "-f", "jsonl", str(path)]
    run = measure_process(command, stdout=out, timeout=TIMEOUT)
    lines = sum(1 for _ in out.open())
    print(
        f"\n1,000,000 blank images: {run.max_rss_mb:.0f} MB peak RSS, {run.seconds:.1f} s, "
        f"{lines:,} records"
    )
    assert run.returncode == 1 and lines == 1_000_000
    assert run.max_rss_mb < MAX_RSS_MB
