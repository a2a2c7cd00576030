"""`mnist-edge serve` through real HTTP clients: the official tritonclient for the Open
Inference Protocol (metadata, health, JSON and binary tensors), and plain HTTP for uploads,
metrics and the page. Results are compared with `Predictor` run in this process."""

import asyncio
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from harness.broken_models import nan_model
from mnist_edge.core.contract import IMAGE_SIZE, INPUT_NAME, NUM_CLASSES, OUTPUT_NAME
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.serve.batcher import Batcher
from mnist_edge.serve.protocol import HEADER_LENGTH
from mnist_edge.serve.settings import Settings
from tests.conftest import ROOT
from tests.serving import Served, error_of, running

TOLERANCE = 1e-6  # largest |p_service - p_predictor| allowed for any probability
MODEL = "cnn"  # the default shipped model, named as on the command line
SAMPLES = sorted((ROOT / "samples").iterdir())
MAX_BATCH = 256


@pytest.fixture(scope="module")
def served() -> Served:
    settings = Settings(quiet=True, max_batch=MAX_BATCH)
    with running(Predictor(threads=1), settings) as service:
        yield service


@pytest.fixture(scope="module")
def client(served: Served) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(served.host_port, concurrency=8, network_timeout=120)


@pytest.fixture(scope="module")
def expected(x_test: np.ndarray, predictor: Predictor) -> np.ndarray:
    return predictor.predict(x_test)


def tensor(images: np.ndarray, binary: bool = True) -> triton.InferInput:
    tensor = triton.InferInput(INPUT_NAME, list(images.shape), "UINT8")
    return tensor.set_data_from_numpy(images, binary_data=binary)


def assert_equal_to_predictor(got: np.ndarray, expected: np.ndarray) -> None:
    difference = float(np.abs(got - expected).max())
    print(f"{len(got):,} images: largest |difference| {difference:.2e}")
    assert got.shape == expected.shape and got.dtype == np.float32
    assert difference <= TOLERANCE
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))


def test_health_and_metadata_through_tritonclient(client: triton.InferenceServerClient):
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(MODEL) and client.is_model_ready("mnist")
    assert client.is_model_ready(MODEL, model_version="1")
    assert not client.is_model_ready("resnet50")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    metadata = client.get_model_metadata("mnist")
    assert metadata["name"] == MODEL
    assert metadata["inputs"] == [
        {"name": INPUT_NAME, "datatype": "UINT8", "shape": [-1, IMAGE_SIZE, IMAGE_SIZE]}
    ]
    assert metadata["outputs"] == [
        {"name": OUTPUT_NAME, "datatype": "FP32", "shape": [-1, NUM_CLASSES]}
    ]
    with pytest.raises(InferenceServerException, match="unknown model 'resnet50'") as error:
        client.get_model_metadata("resnet50")
    assert error.value.status() == "400"


@pytest.mark.slow
def test_binary_inference_of_the_test_set_merges_requests_and_equals_predictor(
    client: triton.InferenceServerClient,
    served: Served,
    x_test: np.ndarray,
    expected: np.ndarray,
):
    """All 10,000 test images in requests of 1 to 300 images, 8 at a time: the batcher merges
    concurrent requests into model calls and splits the results back to the right requests."""
    rng = np.random.default_rng(0)
    batches = []
    start = 0
    while start < len(x_test):
        size = int(rng.integers(1, 300))
        batches.append((start, x_test[start : start + size]))
        start += size
    calls = served.metric("mnist_edge_batch_images_count")[""]
    buckets = served.metric("mnist_edge_batch_images_bucket")
    pending = [
        client.async_infer(MODEL, [tensor(images)], request_id=str(start))
        for start, images in batches
    ]
    results = [request.get_result() for request in pending]
    assert [result.get_response()["id"] for result in results] == [str(s) for s, _ in batches]
    got = np.concatenate([result.as_numpy(OUTPUT_NAME) for result in results])
    assert_equal_to_predictor(got, expected)
    calls = served.metric("mnist_edge_batch_images_count")[""] - calls
    print(f"{len(results)} requests, {calls:.0f} model calls")  # how many merged: timing's
    after = served.metric("mnist_edge_batch_images_bucket")
    over = [after[key] - buckets[key] for key in (f'{{le="{MAX_BATCH}.0"}}', '{le="512.0"}')]
    oversized = sum(len(images) > MAX_BATCH for _, images in batches)
    assert over[1] - over[0] == oversized  # only a request larger than max-batch went over


def test_requests_queued_together_are_one_model_call_split_back(
    x_test: np.ndarray, expected: np.ndarray
):
    """Requests that are all waiting when the batcher looks (asyncio runs the ten before it)
    go through the model in one call, and each gets its own rows back."""
    sizes = [1, 5, 20, 3, 64, 7, 1, 30, 2, 10]  # 143 images, under max_batch
    starts = np.cumsum([0, *sizes[:-1]])
    calls: list[int] = []

    async def ten_at_once() -> list[np.ndarray]:
        batcher = Batcher(Predictor(threads=1), MAX_BATCH, 2.0, lambda n, s: calls.append(n))
        batcher.start()
        try:
            requests = [
                batcher.predict(x_test[a : a + n]) for a, n in zip(starts, sizes, strict=True)
            ]
            return await asyncio.gather(*requests)
        finally:
            await batcher.stop()

    results = asyncio.run(ten_at_once())
    assert calls == [sum(sizes)]
    for start, size, got in zip(starts, sizes, results, strict=True):
        assert_equal_to_predictor(got, expected[start : start + size])


@pytest.mark.slow
def test_json_inference_of_the_test_set_equals_predictor(
    client: triton.InferenceServerClient, x_test: np.ndarray, expected: np.ndarray
):
    """Tensors as JSON both ways (`data` lists), 1,000 images a request."""
    outputs = [triton.InferRequestedOutput(OUTPUT_NAME, binary_data=False)]
    got = []
    for start in range(0, len(x_test), 1000):
        images = tensor(x_test[start : start + 1000], binary=False)
        result = client.infer("mnist", [images], outputs=outputs)
        assert "parameters" not in result.get_output(OUTPUT_NAME)  # really JSON data
        got.append(result.as_numpy(OUTPUT_NAME))
    assert_equal_to_predictor(np.concatenate(got), expected)


def test_nested_json_data_versioned_route_and_gzip(
    served: Served, x_test: np.ndarray, expected: np.ndarray
):
    images = x_test[:3]
    request = {
        "id": "nested",
        "inputs": [
            {"name": "image", "datatype": "UINT8", "shape": [3, 28, 28], "data": images.tolist()}
        ],
    }
    body = gzip.compress(json.dumps(request).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    status, answer = served.post(f"/v2/models/{MODEL}/versions/1/infer", body, headers)
    assert status == 200
    response = json.loads(answer)
    assert response["id"] == "nested" and response["model_name"] == MODEL
    output = response["outputs"][0]
    assert output["shape"] == [3, NUM_CLASSES] and output["datatype"] == "FP32"
    got = np.array(output["data"], dtype=np.float32).reshape(3, NUM_CLASSES)
    assert_equal_to_predictor(got, expected[:3])


def test_binary_request_by_hand_follows_the_extension(
    served: Served, x_test: np.ndarray, expected: np.ndarray
):
    """Built by hand from the extension's text: the JSON, then the raw bytes, the header giving
    the JSON's length; the answer has the same form."""
    body, headers = binary_request(x_test[:2])
    reply = served.exchange("/v2/models/mnist/infer", body, headers)
    assert reply.status == 200
    length = int(reply.headers[HEADER_LENGTH])
    output = json.loads(reply.body[:length])["outputs"][0]
    size = 2 * NUM_CLASSES * 4
    assert output["parameters"] == {"binary_data_size": size}
    assert len(reply.body) == length + size
    got = np.frombuffer(reply.body[length:], dtype="<f4").reshape(2, NUM_CLASSES)
    assert_equal_to_predictor(got, expected[:2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["inputs"][0].update(datatype="FP32"), "is FP32; the model takes UINT8"),
        (lambda r: r["inputs"][0].update(shape=[1, 28, 27]), "has shape [1, 28, 27]"),
        (lambda r: r["inputs"][0].update(name="pixels"), "unknown input 'pixels'"),
        (lambda r: r["inputs"][0].update(data=[1] * 783), "'data' has 783"),
        (lambda r: r["inputs"][0].update(data=[300] * 784), "values outside 0-255"),
        (lambda r: r["inputs"][0].update(data=[0.5] * 784), "'data' must be integers"),
        (lambda r: r.update(outputs=[{"name": "logits"}]), "unknown output 'logits'"),
        (lambda r: r.update(id=7), "'id' of the request must be a string"),
        (lambda r: r.pop("inputs"), "the request has no 'inputs'"),
    ],
)
def test_client_mistakes_are_400_with_the_error_object(served: Served, change, message):
    request = {"inputs": [{"name": "image", "datatype": "UINT8", "shape": [1, 28, 28]}]}
    request["inputs"][0]["data"] = [0] * 784
    change(request)
    status, answer = served.post("/v2/models/mnist/infer", json.dumps(request).encode())
    assert status == 400
    assert message in error_of(answer)


def records_without_source(records: list[dict]) -> list[dict]:
    return [{key: value for key, value in r.items() if key != "source"} for r in records]


def test_uploads_give_the_records_of_predict(served: Served, cli):
    """Each sample as the body and all of them as a form: the same records as
    `mnist-edge predict --format jsonl --top-k 3` (file names aside)."""
    run = cli("predict", "--format", "jsonl", "--top-k", "3", *SAMPLES)
    expected = [json.loads(line) for line in run.stdout.splitlines()]
    one_by_one = []
    for path in SAMPLES:
        status, answer = served.post("/v1/predict?top_k=3", path.read_bytes())
        assert status == 200
        one_by_one += json.loads(answer)
    assert records_without_source(one_by_one) == records_without_source(expected)
    status, answer = served.post("/v1/predict?top_k=3", *form(files(SAMPLES)))
    assert status == 200
    records = json.loads(answer)
    assert [r["source"] for r in records] == [path.name for path in SAMPLES]
    assert records_without_source(records) == records_without_source(expected)


def form(files: list[tuple[str, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with one `file` part per (name, bytes), as curl -F sends."""
    boundary = "------------------------mnistedge"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def files(paths: list[Path]) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in paths]


def test_bad_upload_alone_is_400_among_good_ones_an_error_record(served: Served):
    status, answer = served.post("/v1/predict", b"this is not a picture")
    assert status == 400
    assert error_of(answer).startswith("body: not an image Pillow can read")
    broken = ("broken.png", b"\x89PNG\r\n\x1a\n")
    status, answer = served.post("/v1/predict", *form([*files(SAMPLES[:1]), broken]))
    assert status == 200
    good, bad = json.loads(answer)
    assert good["label"] == 0 and set(bad) == {"source", "error"}
    assert bad["source"] == "broken.png" and "\n" not in bad["error"]
    for query in ("top_k=11", "top_k=-1", "top_k=two"):
        status, answer = served.post(f"/v1/predict?{query}", SAMPLES[0].read_bytes())
        assert status == 400 and "top_k" in error_of(answer)


def test_unknown_paths_and_methods_are_json_errors(served: Served):
    status, answer = served.get("/v3/anything")
    assert status == 404 and "not found" in error_of(answer)
    status, answer = served.get("/v2/models/mnist/infer")
    assert status == 405 and error_of(answer)


def test_metrics_count_requests_batches_and_images(served: Served, x_test: np.ndarray):
    images_before = served.metric("mnist_edge_images_predicted_total")[""]
    served.post("/v1/predict", SAMPLES[0].read_bytes())
    assert served.metric("mnist_edge_images_predicted_total")[""] == images_before + 1
    requests = served.metric("mnist_edge_requests_total")
    assert requests['{endpoint="predict",status="200"}'] >= 1
    assert served.metric("mnist_edge_model_load_seconds")[""] >= 0
    assert "mnist_edge_request_seconds_bucket" in served.get("/metrics")[1].decode()
    assert served.server_errors() == 0


def test_a_folder_is_served_at_the_root(tmp_path: Path, predictor: Predictor):
    (tmp_path / "index.html").write_text("<h1>digits</h1>")
    settings = Settings(quiet=True, static=tmp_path)
    with running(predictor, settings) as service:
        status, page = service.get("/")
        assert status == 200 and page == b"<h1>digits</h1>"
        assert service.get("/v2/health/ready")[0] == 200
        status, answer = service.get("/missing.js")
        assert status == 404 and error_of(answer)


def test_a_model_giving_nan_is_an_error_record_and_a_500_never_a_crash(tmp_path: Path):
    """As in `predict`: non-finite probabilities become the file's error record; a tensor
    request cannot carry a per-image error, so it fails whole, saying which image (a fault of
    the model, not the client: 500)."""
    model = Predictor(nan_model(tmp_path / "nan.onnx"))
    with running(model, Settings(quiet=True)) as service:
        status, answer = service.post("/v1/predict", SAMPLES[0].read_bytes())
        assert status == 200
        assert json.loads(answer) == [
            {"source": "body", "error": "the model gave non-finite probabilities (NaN or infinity)"}
        ]
        status, answer = service.post(
            "/v2/models/nan/infer", *binary_request(np.zeros((2, 28, 28), np.uint8))
        )
        assert status == 500
        assert (
            error_of(answer) == "image 0: the model gave non-finite probabilities (NaN or infinity)"
        )
        assert service.get("/v2/health/ready")[0] == 200


def binary_request(images: np.ndarray) -> tuple[bytes, dict[str, str]]:
    """A binary-extension request for `images` (binary output asked), and its headers."""
    tensor = {"name": INPUT_NAME, "datatype": "UINT8", "shape": list(images.shape)}
    tensor["parameters"] = {"binary_data_size": images.nbytes}
    outputs = [{"name": OUTPUT_NAME, "parameters": {"binary_data": True}}]
    head = json.dumps({"inputs": [tensor], "outputs": outputs}).encode()
    return head + images.tobytes(), {HEADER_LENGTH: str(len(head))}
