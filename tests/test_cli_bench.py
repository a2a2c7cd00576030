"""`mnist-edge bench` reports every figure it promises (the figures themselves are not judged
here: timings on shared machines belong in benchmarks, not in tests)."""

import json
import subprocess
import sys
from pathlib import Path

from mnist_edge.runtime.bench import BATCH_SIZES
from tests.conftest import ROOT

CLI = str(Path(sys.executable).with_name("mnist-edge"))


def test_bench_reports_latency_throughput_and_files_per_second():
    command = [CLI, "bench", "--files", "40", "--threads", "1", "--format", "json"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["threads"] == 1 and report["machine"]["cores"] >= 1
    assert set(report["models"]) == {"float32", "int8"}
    for figures in report["models"].values():
        latency = figures["latency_batch_1"]
        assert 0 < latency["median_us"] <= latency["p99_us"]
        assert set(figures["images_per_second"]) == {str(b) for b in BATCH_SIZES}
        assert all(rate > 0 for rate in figures["images_per_second"].values())
    folder = report["predict_png_folder"]
    assert folder["files"] == 40 and folder["files_per_second"] > 0
