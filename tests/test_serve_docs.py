"""The examples of docs/serve.md, run as written against a running service (only its port
changed): the `curl` lines with the real curl, and the `tritonclient` script the page shows
(docs/examples/tritonclient_infer.py), which must print what the page says it prints."""

import json
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mnist_edge.runtime.predictor import Predictor
from mnist_edge.serve.settings import Settings
from tests.conftest import ROOT
from tests.serving import Served, running

pytestmark = pytest.mark.slow

DOCS_ADDRESS = "localhost:8000"
PAGE = ROOT / "docs" / "serve.md"
EXAMPLE = ROOT / "docs" / "examples" / "tritonclient_infer.py"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.DOTALL)


@pytest.fixture(scope="module")
def served(predictor: Predictor) -> Served:
    with running(predictor, Settings(quiet=True)) as service:
        yield service


def test_the_curl_examples_work_as_written(served: Served):
    curl = shutil.which("curl")
    assert curl, "curl is not installed (.ci/system-packages installs it)"
    lines = [
        line for block in blocks("sh") for line in block.splitlines() if line.startswith("curl")
    ]
    assert len(lines) == 2
    for line in lines:
        command = shlex.split(line.replace(DOCS_ADDRESS, served.host_port))
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert result.returncode == 0, result.stderr
        records = json.loads(result.stdout)
        files = re.findall(r"@samples/(\S+)", line)
        print(line, "->", [(r["source"], r["label"]) for r in records])
        assert [r["label"] for r in records] == [int(name.split("-")[1][0]) for name in files]
        assert all(("top_k" in r) == ("top_k=" in line) for r in records)


def test_the_tritonclient_example_works_as_written(served: Served, x_test: np.ndarray, predictor):
    (shown,) = [block for block in blocks("python") if EXAMPLE.name in block]
    assert f'--8<-- "examples/{EXAMPLE.name}"' in shown  # the page shows this very file
    script = EXAMPLE.read_text()
    promised = EXAMPLE.with_suffix(".txt").read_text().strip()  # what the page says it prints
    result = subprocess.run(
        [sys.executable, "-c", script.replace(DOCS_ADDRESS, served.host_port)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == promised
    assert promised == str(predictor.predict(x_test[:8]).argmax(axis=1))
