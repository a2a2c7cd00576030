"""Predictor: the shipped model by default, a checked contract, chunked and copy-free input,
small batches through bound buffers, safe to call from many threads."""

import os
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mnist_edge.core.errors import ModelError
from mnist_edge.runtime import Predictor, default_model_path
from mnist_edge.runtime.catalog import UnknownModel
from mnist_edge.runtime.predictor import CHUNK, SMALL_BATCH

EXACT = 0.0  # uint8 and tutorial floats reach the model as the same pixels


def test_default_is_the_shipped_cnn(predictor):
    """The model a user with a real photo gets by default is the one that reads them best."""
    assert predictor.model_path == default_model_path() == Predictor("cnn").model_path
    assert predictor.labels == tuple("0123456789")
    assert predictor.metadata["architecture"]["name"] == "cnn"


def test_tutorial_floats_and_uint8_give_the_same_probabilities(predictor, x_test):
    as_uint8 = predictor.predict(x_test[:500])
    as_float = predictor.predict(x_test[:500].astype("float32") / 255)
    assert as_uint8.dtype == np.float32 and as_uint8.shape == (500, 10)
    assert np.abs(as_uint8 - as_float).max() == EXACT
    assert np.allclose(as_uint8.sum(axis=1), 1, atol=1e-5)


def test_flat_and_single_images_are_accepted(predictor, x_test):
    batch = predictor.predict(x_test[:3])
    assert np.array_equal(predictor.predict(x_test[:3].reshape(3, 784)), batch)
    assert np.array_equal(predictor.predict(x_test[0]), batch[:1])


def test_tutorial_image_99_is_a_nine(predictor, x_test):
    assert predictor.predict(x_test[99:100]).argmax() == 9


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.full((2, 28, 28), 255.0, np.float32), r"image 0: float values outside \[0, 1\]"),
        (
            np.zeros((2, 28, 28), np.float32) + np.array([0, np.nan], np.float32)[:, None, None],
            "image 1: contains NaN",
        ),
        (np.zeros((2, 32, 32), np.uint8), r"shape \(2, 32, 32\) is not"),
        (np.zeros((2, 28, 28), np.complex64), "dtype complex64 is not supported"),
        (np.full((1, 28, 28), 300, np.int64), "int64 values outside 0-255"),
    ],
)
def test_bad_arrays_are_refused_clearly(predictor, images, message):
    with pytest.raises(ValueError, match=message):
        predictor.predict(images)


@pytest.mark.parametrize(
    "empty",
    [np.zeros((0, 28, 28), np.uint8), np.zeros((0, 784), np.float32), np.array([]), []],
    ids=["uint8", "float", "np.array([])", "[]"],
)
def test_empty_batch(predictor, empty):
    """An empty batch, even one that says nothing of its shape, has no probabilities (an empty
    float array raised NumPy's error)."""
    result = predictor.predict(empty)
    assert result.shape == (0, 10) and result.dtype == np.float32


def test_large_float_input_is_converted_chunk_by_chunk(predictor, x_test):
    """30,000 float images (94 MB) must not be converted all at once."""
    images = np.tile(x_test, (3, 1, 1)).astype(np.float32) / 255
    tracemalloc.start()
    probabilities = predictor.predict(images)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    one_chunk = CHUNK * 28 * 28 * 4  # float32 scratch for one chunk
    print(
        f"peak Python-side allocation {peak / 2**20:.1f} MiB for {images.nbytes / 2**20:.0f} MiB in"
    )
    assert peak < 4 * one_chunk + probabilities.nbytes
    assert np.array_equal(probabilities[:10000].argmax(1), probabilities[20000:].argmax(1))


def test_uint8_input_is_not_copied(predictor, x_test, monkeypatch):
    seen = []
    monkeypatch.setattr(
        predictor,
        "_run",
        lambda batch, check=False: (seen.append(batch) or np.full((len(batch), 10), 0.1), False),
    )
    predictor.predict(x_test[:100])
    assert np.shares_memory(seen[0], x_test)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="nope.onnx: no such file or directory"):
        Predictor(tmp_path / "nope.onnx")


def test_model_that_is_not_a_regular_file():
    with pytest.raises(ModelError, match=r"not a regular file \(a character device\)"):
        Predictor("/dev/null")


@pytest.mark.parametrize(("model", "shown"), [("/", "/"), ("", '""')])
def test_a_folder_or_an_empty_name_is_no_model(model, shown):
    """Neither names a model (the empty name was read as the current folder, "."): the
    command line makes it a usage error."""
    with pytest.raises(UnknownModel, match=f"^{shown}: "):
        Predictor(model)


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_text("definitely not protobuf")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        Predictor(path)


def wrong_model(path, input_type, input_shape, output_shape) -> None:
    """A one-node ONNX model with the given input and output declarations."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "wrong",
        [helper.make_tensor_value_info("x", input_type, input_shape)],
        [helper.make_tensor_value_info("y", input_type, output_shape)],
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path
    )


@pytest.mark.parametrize(
    ("input_type", "input_shape", "output_shape", "message"),
    [
        (TensorProto.FLOAT, ["n", 784], ["n", 784], r"input 'x' float32\[n, 784\] should be"),
        (TensorProto.UINT8, [1, 28, 28], [1, 28, 28], r"input 'x' uint8\[1, 28, 28\] should be"),
        (TensorProto.UINT8, ["n", 28, 28], ["n", 28, 28], "output 'y' uint8"),
    ],
)
def test_model_breaking_the_contract_is_refused(
    tmp_path, input_type, input_shape, output_shape, message
):
    path = tmp_path / "wrong.onnx"
    wrong_model(path, input_type, input_shape, output_shape)
    with pytest.raises(ModelError, match=f"not an mnist-edge model: .*{message}"):
        Predictor(path)


def test_a_model_from_its_bytes_is_the_same_model(predictor, x_test):
    """As a cluster worker gets it: the file's bytes, no path."""
    from_bytes = Predictor(default_model_path().read_bytes(), name="shipped.onnx")
    assert np.array_equal(from_bytes.predict(x_test[:50]), predictor.predict(x_test[:50]))
    assert from_bytes.model_path.name == "shipped.onnx"
    with pytest.raises(ModelError, match="broken.onnx: not a loadable ONNX model"):
        Predictor(b"not a model", name="broken.onnx")


@pytest.mark.parametrize("int8", [False, True], ids=["float32", "int8"])
def test_small_batches_give_what_a_large_batch_gives(x_test, int8):
    """Batches up to SMALL_BATCH take the one-thread session with bound buffers, larger ones
    the thread pool: the probabilities must not depend on which."""
    predictor = Predictor(default_model_path(int8=int8))
    large = predictor.predict(x_test[:240])  # one call, in the pool
    for size in range(1, SMALL_BATCH + 1):
        count = 240 - 240 % size
        small = np.concatenate(
            [predictor.predict(x_test[i : i + size]) for i in range(0, count, size)]
        )
        assert np.abs(small - large[:count]).max() == EXACT, f"batch size {size}"


def test_concurrent_calls_get_their_own_results(x_test):
    """A service calls one Predictor from a pool of worker threads: each call must get the
    probabilities of its own images, never of a call running beside it."""
    predictor = Predictor(threads=2)
    expected = predictor.predict(x_test[:2000])
    sizes = [1, 1, 2, 3, 1, 8, 5, SMALL_BATCH + 1, 1, 64]  # bound buffers and the pool, mixed

    def call(index: int) -> tuple[int, int, np.ndarray]:
        start, size = (index * 7) % 1900, sizes[index % len(sizes)]
        return start, size, predictor.predict(x_test[start : start + size])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(4000)))
    wrong = [s for s, n, got in results if not np.array_equal(got, expected[s : s + n])]
    print(f"{len(results)} concurrent calls on 8 threads, {len(wrong)} wrong")
    assert not wrong


def test_one_image_does_not_start_the_thread_pool(x_test):
    """The pool session (a thread per core) is built by the first batch larger than
    SMALL_BATCH, so a process that predicts single images never starts its threads."""
    before = threads_of_this_process()
    predictor = Predictor(threads=2)
    predictor.predict(x_test[:1])
    after_one = threads_of_this_process()
    predictor.predict(x_test[: SMALL_BATCH + 1])
    after_batch = threads_of_this_process()
    print(f"threads: {before} before, {after_one} after one image, {after_batch} after a batch")
    assert after_one == before and after_batch == before + 1


def threads_of_this_process() -> int:
    return len(os.listdir("/proc/self/task"))


def test_the_public_api_is_what_all_lists():
    import mnist_edge.runtime as runtime

    for name in runtime.__all__:
        assert getattr(runtime, name).__name__ == name
    with pytest.raises(AttributeError):
        runtime.row_problems  # noqa: B018 (internal: not promised)
