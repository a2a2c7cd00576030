"""One adapter per inference engine: a name and predict(batch) -> float32 probabilities (N, 10).

Keras, TensorFlow Lite and the NumPy floor take the tutorial's input (float32 pixels / 255);
the ONNX models take uint8 pixels and scale inside the graph. Each is timed on the input it
is built for, so the ONNX figures include the uint8 -> float conversion and the others do not.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.tflite import to_tflite
from mnist_edge.core.contract import OUTPUT_NAME
from mnist_edge.export.parity import MAX_ABS_DIFF, ParityError, compare
from mnist_edge.runtime.predictor import Predictor

FLOPS_PER_IMAGE = 2 * (784 * 256 + 256 * 10)  # 406,528: a multiply and an add per weight
NUMPY_FLOOR = "NumPy floor"
KERAS_PREDICT = "Keras model.predict"
ONNX_FLOAT32 = "onnxruntime float32"
ONNX_INT8 = "onnxruntime int8"
TFLITE = "TensorFlow Lite (XNNPACK)"

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Images:
    """The same images in both forms the engines take."""

    uint8: np.ndarray  # (N, 28, 28) raw pixels
    scaled: np.ndarray  # (N, 28, 28) float32 pixels / 255 (the tutorial's scale_pixels)

    def for_backend(self, backend: "Backend") -> np.ndarray:
        return self.uint8 if backend.uint8_input else self.scaled


@dataclass(frozen=True)
class Backend:
    name: str
    predict: Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) -> (N, 10) float32
    uint8_input: bool  # True: raw pixels; False: float32 pixels / 255
    model_file: str | None  # name of the model file it runs; None for the NumPy floor
    model_bytes: int = 0  # that file's size


def all_backends(keras_model: "keras.Model", keras_path: Path, threads: int) -> list[Backend]:
    """Every engine the benchmark compares, the NumPy floor first, all with the weights of
    `keras_path`: the ONNX models are those `mnist-edge export --int8` wrote beside it (a
    shipped model comes from another training run, whose weights differ)."""
    size = keras_path.stat().st_size
    return [
        numpy_floor(keras_model),
        Backend(KERAS_PREDICT, keras_predict(keras_model), False, keras_path.name, size),
        Backend("Keras model(x)", keras_call(keras_model), False, keras_path.name, size),
        tflite_backend(keras_model, threads),
        onnx_backend(ONNX_FLOAT32, keras_path.with_name("model.onnx"), threads),
        onnx_backend(ONNX_INT8, keras_path.with_name("model.int8.onnx"), threads),
    ]


def keras_predict(model: "keras.Model") -> Callable[[np.ndarray], np.ndarray]:
    # batch_size=len(pixels): the same batch as every other engine, not Keras's default of 32
    return lambda pixels: model.predict(pixels, batch_size=len(pixels), verbose=0)


def keras_call(model: "keras.Model") -> Callable[[np.ndarray], np.ndarray]:
    import keras

    return lambda pixels: keras.ops.convert_to_numpy(model(pixels, training=False))


def numpy_floor(model: "keras.Model") -> Backend:
    """relu(x W1 + b1) W2 + b2, softmax, with the model's own weights: one BLAS call per layer."""
    weights = model.get_weights()
    shapes = [tuple(w.shape) for w in weights]
    if shapes != [(784, 256), (256,), (256, 10), (10,)]:
        raise ValueError(f"not the tutorial's model: weight shapes {shapes}")
    hidden_w, hidden_b, output_w, output_b = weights

    def predict(pixels: np.ndarray) -> np.ndarray:
        hidden = np.maximum(pixels.reshape(len(pixels), -1) @ hidden_w + hidden_b, 0)  # (N, 256)
        logits = hidden @ output_w + output_b  # (N, 10)
        logits -= logits.max(axis=1, keepdims=True)  # so exp cannot overflow
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    return Backend(NUMPY_FLOOR, predict, False, None)


def tflite_backend(model: "keras.Model", threads: int) -> Backend:
    """The model through TensorFlow's converter (via a SavedModel) and its interpreter."""
    content = tflite_model(model)
    runner = TFLiteRunner(content, threads)
    return Backend(TFLITE, runner, False, "model.tflite", len(content))


def tflite_model(model: "keras.Model", calibration: np.ndarray | None = None) -> bytes:
    """The model converted by TensorFlow Lite's converter. With `calibration` (float32
    pixels / 255), its full-integer int8 model: integer kernels throughout, uint8 pixels in
    (scale 1/255: raw MNIST pixels) and float32 probabilities out, like the ONNX int8 model."""
    return to_tflite(model, calibration, integer_type="uint8", io="in")


class TFLiteRunner:
    """The TFLite interpreter as a function of the batch; resized only when the shape changes."""

    def __init__(self, content: bytes, threads: int) -> None:
        import tensorflow as tf

        self.content = content  # the converted model, for another interpreter of it

        with warnings.catch_warnings():  # it says to move to ai-edge-litert; it still works in 2.21
            warnings.simplefilter("ignore", UserWarning)
            # XNNPACK is the interpreter's default delegate for float models
            self._interpreter = tf.lite.Interpreter(model_content=content, num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape: tuple[int, ...] | None = None

    @property
    def input_quantization(self) -> tuple[float, int]:
        """(scale, zero point) of the input; (0.0, 0) for a float input."""
        return self._interpreter.get_input_details()[0]["quantization"]

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        if pixels.shape != self._shape:
            self._interpreter.resize_tensor_input(self._input, pixels.shape)
            self._interpreter.allocate_tensors()
            self._shape = pixels.shape
        self._interpreter.set_tensor(self._input, pixels)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output)


def onnx_backend(name: str, path: Path, threads: int) -> Backend:
    predictor = Predictor(path, threads=threads)
    return Backend(name, predictor.predict, True, path.name, path.stat().st_size)


def max_differences(backends: list[Backend], images: Images) -> dict[str, float]:
    """Largest |p - p_keras| of each backend; ParityError if the NumPy floor disagrees.

    The floor is only a floor if it computes the same function: it must match Keras to
    within the export's own parity tolerance.
    """
    by_name = {backend.name: backend for backend in backends}
    expected = by_name[KERAS_PREDICT].predict(images.scaled)
    reports = {
        backend.name: compare(
            backend.name, expected, {OUTPUT_NAME: backend.predict(images.for_backend(backend))}
        )
        for backend in backends
    }
    floor = reports[NUMPY_FLOOR]
    if not floor.passed:
        raise ParityError(
            f"{NUMPY_FLOOR}: differs from Keras by {floor.max_abs_diff:.2e} (limit {MAX_ABS_DIFF})"
        )
    return {name: report.max_abs_diff for name, report in reports.items()}
