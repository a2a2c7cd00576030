"""One path from a file to a record: every front end gives the same records and messages.

One mixed corpus (good images, broken and refused files, array files good and bad, a
sub-folder with labels) goes through `predict`, `evaluate`, `show`, the service's image
endpoint and the Ray engine, with the shipped model, a model that gives NaN and a model
whose real output has the wrong shape. `predict` is the reference; each other front end must
give, for every input it can take, the same digit (probabilities within TOLERANCE) or the
same error message. What each record must say is also checked against expectations written
here (tests/inputs.py's EXPECTED and MODEL_ERRORS below), not only against `predict`.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from harness.broken_models import eleven_model, nan_model
from mnist_edge.runtime import Predictor
from mnist_edge.serve.settings import Settings
from tests.inputs import make_inputs
from tests.serving import exchange, running

pytestmark = pytest.mark.slow  # a Ray instance, the service, broken models made with onnx
TOLERANCE = 1e-6  # largest difference of a probability between front ends
MODEL_ERRORS = {  # what each model makes of every input that decodes
    "shipped": None,
    "nan": "the model gave non-finite probabilities",
    "eleven": "the model's output has rows of shape (11,), not (10,)",
}
IMAGE_LABELS = {"a-seven.png": 7, "B-TWO.PNG": 2, "drawn-nine.jpg": 9, "blank.png": 0}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, x_test) -> tuple[Path, dict[str, str | None]]:
    """The mixed folder, with a labels.csv for its images (evaluate needs labels)."""
    folder = tmp_path_factory.mktemp("corpus")
    expected = make_inputs(folder, x_test)
    rows = [f"{name},{label}" for name, label in IMAGE_LABELS.items()]
    (folder / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    (folder / "sub" / "labels.csv").write_text("deep-one.png,1\n")
    return folder, expected


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("models")
    return {
        "shipped": "mlp",
        "nan": str(nan_model(folder / "nan.onnx")),
        "eleven": str(eleven_model(folder / "eleven.onnx")),
    }


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the module: `predict --engine ray` in-process uses it."""
    from mnist_edge.scale.cluster import ray_session

    with ray_session(cpus=2):
        yield


@pytest.fixture(scope="module", params=list(MODEL_ERRORS))
def reference(request, corpus, models):
    """`predict -r -f jsonl` on the corpus: (model name, records by source, stderr lines)."""
    from typer.testing import CliRunner

    from mnist_edge.cli.app import app

    folder, _ = corpus
    name = request.param
    args = ["predict", "-r", "-f", "jsonl", "--model", models[name], str(folder)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == (0 if name == "shipped" else 1) or result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return name, {record["source"]: record for record in records}, result.stderr.splitlines()


def relative(source: str, folder: Path) -> str:
    return source.removeprefix(f"{folder}/")


def assert_same(ours: dict, theirs: dict) -> None:
    """The same record: identical errors, same digit, probabilities within TOLERANCE."""
    if "error" in theirs or "error" in ours:
        assert ours == theirs
        return
    assert ours["label"] == theirs["label"], theirs["source"]
    difference = np.abs(np.subtract(ours["probabilities"], theirs["probabilities"])).max()
    assert difference <= TOLERANCE, theirs["source"]


def test_predict_says_what_each_input_and_model_should(corpus, reference):
    folder, expected = corpus
    name, records, stderr = reference
    assert {relative(source, folder) for source in records} == set(expected)
    for source, record in records.items():
        problem = expected[relative(source, folder)]
        if problem is not None:
            assert problem in record["error"], source
        elif MODEL_ERRORS[name] is not None:
            assert record["error"].startswith(MODEL_ERRORS[name]), source
        else:
            assert "error" not in record and 0 <= record["label"] <= 9, source
    failed = [record for record in records.values() if "error" in record]
    lines = [f"mnist-edge: {record['source']}: {record['error']}" for record in failed]
    assert stderr[:-1] == lines  # each failure on stderr, in order, then the summary


def test_evaluate_reports_the_same_failures(cli, corpus, models, reference):
    folder, _ = corpus
    name, records, _ = reference
    result = cli("evaluate", str(folder), "--model", models[name], "-f", "json")
    failed = [f"mnist-edge: {r['source']}: {r['error']}" for r in records.values() if "error" in r]
    predicted = {relative(source, folder): r for source, r in records.items() if "error" not in r}
    labelled = {"sub/deep-one.png": 1, **IMAGE_LABELS}
    pairs = [(labelled[n], r["label"]) for n, r in predicted.items() if n in labelled]
    if not pairs:  # no labelled image predicted: nothing to evaluate, one line more
        nothing = f"mnist-edge: error: {folder}: no labelled images to evaluate"
        assert result.stderr.splitlines() == [*failed, nothing]
        assert result.returncode == 1 and result.stdout == ""
        return
    assert result.stderr.splitlines() == failed
    report = json.loads(result.stdout)
    assert report["n"] == len(pairs) and report["failed"] == len(failed)
    assert report["accuracy"] == pytest.approx(np.mean([t == p for t, p in pairs]))


def test_show_draws_or_refuses_each_input_as_predict_does(cli, corpus, models, reference, tmp_path):
    folder, _ = corpus
    name, records, _ = reference
    for source, record in records.items():
        path, _, index = source.partition("#")
        args = ["show", path, "--model", models[name], "--output", str(tmp_path / "s.png")]
        result = cli(*args, *(["--index", index] if index else []))
        if "error" in record:
            assert result.returncode == 1, source
            assert result.stderr == f"mnist-edge: error: {source}: {record['error']}\n"
        else:
            assert result.returncode == 0 and result.stderr == "", (source, result.stderr)
    bad_array = next(s for s, r in records.items() if s.endswith("shape.npy"))
    assert "error" in records[bad_array]  # an array refused whole is shown refused whole


def test_the_service_gives_the_same_records(corpus, models, reference):
    """Every image file of the corpus uploaded in one form to /v1/predict."""
    folder, _ = corpus
    name, records, _ = reference
    images = {
        s: r for s, r in records.items() if "#" not in s and not s.endswith((".npy", "-ubyte"))
    }
    body, content_type = multipart({source: Path(source).read_bytes() for source in images})
    with running(Predictor(models[name]), Settings()) as served:
        reply = exchange(f"{served.url}/v1/predict", body, {"Content-Type": content_type})
    payload = json.loads(reply.body)
    answered = payload if isinstance(payload, list) else payload["records"]
    assert [record["source"] for record in answered] == list(images)
    for ours in answered:
        assert_same(ours, images[ours["source"]])
    model_failed = MODEL_ERRORS[name] is not None and "rows of shape" in MODEL_ERRORS[name]
    assert reply.status == (500 if model_failed else 200)


def test_the_ray_engine_gives_the_same_records(cli, corpus, models, reference, ray_instance):
    folder, _ = corpus
    name, records, stderr = reference
    result = cli("predict", "--engine", "ray", "-r", "-f", "jsonl", "--model", models[name], folder)
    ours = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["source"] for record in ours] == list(records)
    for record in ours:
        assert_same(record, records[record["source"]])
    assert result.stderr.splitlines() == stderr


def multipart(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body with one `file` part per file, named as given."""
    boundary = "one-path-boundary"
    parts = []
    for name, data in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"'
        parts.append(f"{head}\r\nContent-Type: application/octet-stream\r\n\r\n".encode() + data)
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
