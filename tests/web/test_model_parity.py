"""onnxruntime-web in Chromium against the Python runtime, on all 10,000 MNIST test images.

The page's own model.js loads each shipped model and runs the images as uint8 batches, as
the Python runtime does; the probabilities come back as raw float32 bytes.
"""

from pathlib import Path

import numpy as np
import pytest

from harness.browser import base64_array
from harness.targets import PARITY_TOLERANCE
from mnist_edge.runtime import Predictor, catalog

pytestmark = pytest.mark.slow

BATCH = 1000

RUN_ALL = """async ({ file, batch }) => {
  const { loadModel, predict } = await import('./model.js');
  const model = await loadModel(file);
  const images = new Uint8Array(await (await fetch('parity/x_test.bin')).arrayBuffer());
  const count = images.length / 784;
  const probabilities = new Float32Array(count * 10);
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    const slice = images.subarray(start * 784, (start + size) * 784);
    probabilities.set(await predict(model, slice, size), start * 10);
  }
  return toBase64(probabilities);
}"""


READ_METADATA = """async (file) => {
  const { readMetadata } = await import('./onnx-metadata.js');
  const response = await fetch('models/' + file);
  return readMetadata(new Uint8Array(await response.arrayBuffer()));
}"""


def exact_int8_reference(path: Path, x_test: np.ndarray) -> np.ndarray:
    """The int8 model in Python onnxruntime with 16-bit products on every x86 CPU.

    Without VNNI, onnxruntime's AVX2 int8 kernels saturate some u8 x s8 sums (a known
    limitation); `session.x64quantprecision` makes them exact, as they are with VNNI and in
    WebAssembly. On this machine (VNNI) it equals Predictor's output bit for bit.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.x64quantprecision", "1")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"image": x_test})[0]


@pytest.mark.parametrize("name", catalog.names())
def test_same_probabilities_as_the_runtime(page, x_test, name: str) -> None:
    """Every shipped model: max |diff| <= 1e-5 and the same digit on every one of the 10,000
    test images."""
    page.route("**/parity/x_test.bin", lambda route: route.fulfill(body=x_test.tobytes()))
    path = catalog.shipped_path(name)
    file = path.name
    encoded = page.evaluate(RUN_ALL, {"file": file, "batch": BATCH})
    in_browser = base64_array(encoded, np.float32).reshape(len(x_test), 10)
    int8 = name.endswith(catalog.INT8)
    expected = exact_int8_reference(path, x_test) if int8 else Predictor(path).predict(x_test)
    difference = float(np.abs(in_browser - expected).max())
    same_digit = float(np.mean(in_browser.argmax(1) == expected.argmax(1)))
    print(f"\n{file} in Chromium: max |diff| {difference:.2e}, same digit {same_digit:.2%}")
    assert difference <= PARITY_TOLERANCE
    assert same_digit == 1.0


@pytest.mark.parametrize("name", catalog.names())
def test_metadata_read_from_the_model_bytes(page, name: str) -> None:
    """The page's protobuf reader finds exactly the metadata_props onnxruntime reports."""
    import onnxruntime

    path = catalog.shipped_path(name)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.get_modelmeta().custom_metadata_map
    assert page.evaluate(READ_METADATA, path.name) == expected
    assert "training_metrics" in expected
