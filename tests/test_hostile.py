"""Hostile inputs: one clear line each, the others still predicted, nothing hangs or explodes.

The corpus is made by tests/hostile.py. In-process runs check every record; one process per
input measures peak memory (the figure is printed; the 300 MB ceiling is asserted).
The fast suite runs `predict` over the whole corpus once (`predicted`, shared by the tests
that read its records); every other run of the whole corpus is marked slow.
"""

import csv
import io
import json
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from harness.broken_models import endless_loop_model
from harness.processes import measure_process
from mnist_edge.runtime.budget import ENVIRONMENT
from tests.conftest import Run, invoke
from tests.hostile import (
    CARRIAGE_RETURN,
    SHOWN_AS,
    make_hostile,
    make_worst_cases,
    zip_bomb_npz,
)

CLI = str(Path(sys.executable).with_name("mnist-edge"))
MAX_RSS_MB = 300  # any single input, the whole process
TIMEOUT = 120  # seconds, far above any case: a hang fails instead of stalling the suite
LIBRARY_NOISE = ("Traceback", "Warning", "warnings.warn", "\x1b[")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, x_test) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, make_hostile(folder, x_test)


@pytest.fixture(scope="module")
def predicted(hostile) -> Run:
    """`mnist-edge predict -f jsonl` over the whole corpus, run once in this process."""
    folder, _ = hostile
    return invoke("predict", "-f", "jsonl", folder)


def relative(source: str, folder: Path) -> str:
    return source.removeprefix(f"{folder}/")


def test_every_input_gets_one_clear_record_in_order(predicted, hostile):
    folder, expected = hostile
    result = predicted
    records = [json.loads(line) for line in result.stdout.splitlines()]
    sources = [relative(record["source"], folder) for record in records]
    assert sources == [SHOWN_AS.get(name, name) for name in expected]
    for record, error in zip(records, expected.values(), strict=True):
        if error is None:
            assert set(record) == {"source", "label", "probability", "probabilities"}, record
        else:
            assert set(record) == {"source", "error"} and error in record["error"], record
    assert result.returncode == 1


def test_good_inputs_around_the_bad_ones_are_right(predicted, hostile):
    folder, _ = hostile
    output = predicted.stdout
    records = [json.loads(line) for line in output.splitlines()]
    digits = {relative(r["source"], folder): r.get("label") for r in records}
    assert digits["a-first-good.png"] == 7 and digits["z-last-good.png"] == 9
    assert digits["e-49mp-16bit.png"] == 2  # 98 MB decoded, reduced before conversion
    assert digits["h-corrupt-exif.jpg"] == 0


def test_images_misread_or_refused_before_are_read(predicted, hostile, mnist):
    """A CIELAB TIFF (refused: no LAB to RGB conversion) and a picture turned by its XMP
    orientation alone (read sideways) give their digit."""
    folder, _ = hostile
    records = map(json.loads, predicted.stdout.splitlines())
    digits = {relative(r["source"], folder): r.get("label") for r in records}
    assert digits["n-lab.tif"] == mnist.y_test[4]
    assert digits["n-xmp-rotated.jpg"] == mnist.y_test[7]


def test_stderr_holds_only_the_tools_own_lines(predicted, hostile):
    folder, expected = hostile
    result = predicted
    lines = result.stderr.splitlines()
    assert all(line.startswith("mnist-edge: ") for line in lines), lines
    assert not [line for line in lines if any(noise in line for noise in LIBRARY_NOISE)]
    failed = sum(error is not None for error in expected.values())
    assert lines[-1] == f"mnist-edge: {len(expected) - failed:,} of {len(expected):,} inputs " + (
        f"predicted, {failed:,} failed"
    )


@pytest.mark.slow  # the whole corpus again
def test_csv_rows_stay_whole(cli, hostile):
    folder, expected = hostile
    result = cli("predict", "-f", "csv", folder)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(expected)
    assert result.stdout.count("\n") == len(expected) + 1  # no name split a row
    assert any(row["source"].endswith("two\\rlines.png") for row in rows)
    assert CARRIAGE_RETURN not in result.stdout


@pytest.mark.slow  # the whole corpus again
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


@pytest.mark.slow
def test_worst_cases_that_pass_the_limits(tmp_path, mnist):
    """The costliest image of each kind the limits let through (the most scans of the most
    blocks, the largest progressive JPEG, a 48 MP phone MPO, the largest WebP, TIFF, 16-bit PNG
    and turned RGBA PNG), each alone in a fresh process: its digit read, under 300 MB. The time
    is printed: the budgets keep every decode to a few seconds, so Ctrl-C never waits long."""
    digits = make_worst_cases(tmp_path / "worst", mnist.x_test)
    print("\nworst cases within the limits (whole process)")
    for name, index in digits.items():
        path, out = tmp_path / "worst" / name, tmp_path / "out.jsonl"
        run = measure_process([CLI, "predict", "-f", "jsonl", str(path)], out, timeout=TIMEOUT)
        (record,) = [json.loads(line) for line in out.open()]
        size_kb = path.stat().st_size / 1e3
        print(f"  {name:<28} {size_kb:8,.0f} kB {run.max_rss_mb:6.0f} MB {run.seconds:5.2f} s")
        assert record.get("label") == mnist.y_test[index], record
        assert run.max_rss_mb < MAX_RSS_MB


def test_a_name_the_system_refuses_to_look_up_is_its_own_record(cli, tmp_path, x_test):
    """A 300-byte name (the limit is 255): stat fails with ENAMETOOLONG, which pathlib's
    is_dir() raised, a traceback that cost every record (an unreadable folder on the way,
    EACCES, is the same case: tests/test_hostile_process.py)."""
    Image.fromarray(x_test[0]).save(tmp_path / "first.png")
    Image.fromarray(x_test[7]).save(tmp_path / "last.png")
    long_name = "a" * 296 + ".png"
    result = cli("predict", "-f", "jsonl", "first.png", long_name, "last.png", cwd=tmp_path)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record.get("label") for record in records] == [7, None, 9]
    assert records[1] == {"source": long_name, "error": "name too long for the file system"}
    assert result.stderr == (
        f"mnist-edge: {long_name}: name too long for the file system\n"
        "mnist-edge: 2 of 3 inputs predicted, 1 failed\n"
    )
    assert result.returncode == 1


def test_no_command_refuses_an_input_it_has_not_tried_to_read():
    """Typer checks that a Path can be read unless told not to, and refuses with a usage
    error (exit 2) before anything runs; an unreadable input must be its own record (as an
    unprivileged user: tests/test_hostile_process.py). train and export, whose files
    TensorFlow reads, and serve's --static (which must exist) keep Typer's checks."""
    import typer.main

    from mnist_edge.cli.app import app

    commands = typer.main.get_command(app).commands
    checked = [
        f"{name} {param.name}"
        for name, command in commands.items()
        if name not in {"train", "export", "serve"}
        for param in command.params
        if getattr(param.type, "readable", False)
    ]
    assert checked == []


FORMULAS = ["=2+5.png", "+7.png", "-7.png", "@SUM(7).png"]


def test_csv_cells_never_start_a_formula(cli, tmp_path, x_test):
    """A spreadsheet runs a cell that starts with = + - @ (CSV injection): such a name gets
    a leading apostrophe in CSV, and stays as it is in jsonl, which no spreadsheet opens."""
    for name in FORMULAS:
        Image.fromarray(x_test[0]).save(tmp_path / name)
    result = cli("predict", "-f", "csv", "--", *FORMULAS, cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["source"] for row in rows] == [f"'{name}" for name in FORMULAS]
    assert [row["label"] for row in rows] == ["7"] * len(FORMULAS)
    assert float(rows[0]["probability"]) > 0.9  # numbers stay numbers
    jsonl = cli("predict", "-f", "jsonl", "--", *FORMULAS, cwd=tmp_path).stdout.splitlines()
    assert [json.loads(line)["source"] for line in jsonl] == FORMULAS


@pytest.mark.parametrize(("model", "shown"), [("folder", "folder"), ("", '""')])
def test_a_model_that_names_no_file_is_a_usage_error(cli, tmp_path, model, shown):
    """A folder exited 1 where the README says 2; an empty name said ".: not a regular
    file"."""
    (tmp_path / "folder").mkdir()
    Image.new("L", (28, 28)).save(tmp_path / "blank.png")
    result = cli("predict", "--model", model, "blank.png", cwd=tmp_path)
    what = "a folder" if model else "an empty name"
    assert result.stderr == (
        f"mnist-edge: error: {shown}: {what}; name an ONNX model file or a shipped model "
        "(shipped: mlp, mlp.int8, cnn, cnn.int8)\n"
    )
    assert result.returncode == 2 and result.stdout == ""
