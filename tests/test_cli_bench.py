"""`mnist-edge bench` reports every figure it promises (the figures themselves are not judged
here: timings on shared machines belong in benchmarks, not in tests)."""

import json

import numpy as np
import pytest

from mnist_edge.measure.bench import BATCH_SIZES, latency_us

pytestmark = pytest.mark.slow  # it times things for a few seconds


def test_bench_reports_latency_throughput_and_files_per_second(cli):
    result = cli("bench", "--files", "40", "--threads", "1", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["threads"] == 1 and report["machine"]["cores"] >= 1
    assert set(report["models"]) == {"float32", "int8"}
    for figures in report["models"].values():
        latency = figures["latency_batch_1"]
        assert latency["median_us"] > 0 and latency["runs"] > 0
        assert set(figures["images_per_second"]) == {str(b) for b in BATCH_SIZES}
        assert all(rate > 0 for rate in figures["images_per_second"].values())
    folder = report["predict_png_folder"]
    assert folder["files"] == 40 and folder["files_per_second"] > 0


def test_latency_percentiles_of_a_known_sequence(monkeypatch):
    """Calls that take 1, 2, ..., 100 us: median 50.5 us, 99th percentile 100 us."""
    from mnist_edge.measure import bench

    durations = np.arange(1, 101) * 1000  # ns
    ticks = np.zeros(201, dtype=np.int64)
    ticks[1::2] = durations  # a fake clock: each call starts when the last ended
    clock = iter(np.cumsum(ticks))
    monkeypatch.setattr(bench.time, "perf_counter_ns", lambda: int(next(clock)))
    result = latency_us(lambda: None, runs=100, warmup=0)
    assert result == {"median_us": 50.5, "p99_us": 100.0, "runs": 100}


def test_bench_takes_any_array_of_digits(cli, tmp_path, x_test):
    np.save(tmp_path / "digits.npy", x_test[:64])
    result = cli("bench", "--data", tmp_path / "digits.npy", "--files", "0", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["models"]["float32"]["images_per_second"]["32"] > 0


def test_without_mnist_bench_times_the_slice_shipped_inside(cli, monkeypatch, tmp_path, mnist):
    """As on a device, where the bundle holds no data set."""
    from mnist_edge.core import mnist as finder
    from mnist_edge.measure import TEST_SLICE

    with np.load(TEST_SLICE) as shipped:  # the first 1,000 test images and their labels
        assert np.array_equal(shipped["x_test"], mnist.x_test[:1000])
        assert np.array_equal(shipped["y_test"], mnist.y_test[:1000])
    monkeypatch.setattr(finder, "candidate_paths", lambda data=None: [tmp_path / "none.npz"])
    result = cli("bench", "--files", "0", "--threads", "1", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert "MNIST not found here: timing the 1,000 test images shipped inside" in result.stderr
    assert set(json.loads(result.stdout)["models"]["int8"]["images_per_second"]) == {
        str(b) for b in BATCH_SIZES
    }
