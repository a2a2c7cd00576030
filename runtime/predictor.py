"""Predictor: the ONNX model in onnxruntime, checked against the contract, run in chunks."""

from pathlib import Path

import numpy as np

from mnist_edge.core.contract import (
    LABELS,
    META_LABELS,
    NUM_CLASSES,
    TensorSpec,
    contract_problems,
    decode_metadata,
)
from mnist_edge.core.errors import InputError, ModelError
from mnist_edge.core.files import open_regular
from mnist_edge.core.text import one_line, printable
from mnist_edge.runtime import catalog
from mnist_edge.runtime.arrays import as_image_batch, checked_pixels

CHUNK = 1024  # images per onnxruntime call for large inputs; the float32 copy the model makes
# of a chunk (3 MiB) stays in cache: 4096 was ~20% slower at 10,000 images
MAX_MODEL_BYTES = 256 * 2**20  # a digit model is kilobytes to a few megabytes
ORT_ERRORS_ONLY = 3  # onnxruntime's log severity: its warnings would reach stderr in colour


def default_model_path(int8: bool = False) -> Path:
    """The default model shipped inside the package (float32, or its int8 quantization)."""
    return catalog.shipped_path(catalog.DEFAULT, int8)


class Predictor:
    """Digit probabilities for MNIST-format images.

    >>> predictor = Predictor()                       # the default shipped model (or "cnn")
    >>> predictor.predict(x_test[:3]).argmax(axis=1)  # uint8 (N, 28, 28) -> (N, 10)
    """

    def __init__(
        self,
        model: Path | str | bytes | None = None,
        threads: int | None = None,
        name: str = "model.onnx",
    ) -> None:
        """`model`: a path, a shipped model's name ("cnn": runtime/catalog.py), the model
        file's bytes (named `name` in messages), or None for the default shipped model."""
        import onnxruntime

        if isinstance(model, bytes):
            self.model_path, self.model_bytes = Path(name), model
        else:
            self.model_path = catalog.resolve(model) if model is not None else default_model_path()
        name = printable(str(self.model_path))
        if not isinstance(model, bytes):
            try:
                self.model_bytes = _read_model(self.model_path)
            except InputError as error:
                raise ModelError(f"{name}: {error}") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = ORT_ERRORS_ONLY
        if threads is not None:
            if threads < 1:
                raise ValueError("threads must be at least 1")
            options.intra_op_num_threads = threads
        try:
            self._session = onnxruntime.InferenceSession(
                self.model_bytes, options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own types for bad files
            reason = one_line(str(error).strip().split("\n")[0]) or type(error).__name__
            raise ModelError(f"{name}: not a loadable ONNX model ({reason})") from None
        inputs = [_spec(arg) for arg in self._session.get_inputs()]
        outputs = [_spec(arg) for arg in self._session.get_outputs()]
        problems = contract_problems(inputs, outputs)
        if problems:
            raise ModelError(f"{name}: not an mnist-edge model: {'; '.join(problems)}")
        self.input = inputs[0]
        self.output = outputs[0]
        raw = self._session.get_modelmeta().custom_metadata_map
        self.metadata = decode_metadata(raw)
        labels = self.metadata.get(META_LABELS, list(LABELS))
        self.labels = tuple(str(label) for label in labels)
        if len(self.labels) != NUM_CLASSES:
            raise ModelError(f"{name}: metadata lists {len(self.labels)} labels, not 10")

    def predict(self, images: np.ndarray) -> np.ndarray:
        """float32 probabilities (N, 10) for images (N, 28, 28): uint8, or float in [0, 1].

        uint8 input goes to the model as it is; other input is checked and converted one
        chunk at a time, so memory stays flat however large N is.
        """
        try:
            batch = as_image_batch(np.asarray(images))
        except InputError as error:
            raise ValueError(f"images: {error}") from None
        if len(batch) <= CHUNK:
            return self._run(self._checked(batch, 0))
        probabilities = np.empty((len(batch), NUM_CLASSES), dtype=np.float32)
        for start in range(0, len(batch), CHUNK):
            chunk = self._checked(batch[start : start + CHUNK], start)
            probabilities[start : start + CHUNK] = self._run(chunk)
        return probabilities

    def predict_uint8(self, batch: np.ndarray) -> np.ndarray:
        """The model on a checked uint8 (N, 28, 28) batch, no conversions (the CLI's path)."""
        return self._run(batch)

    def _checked(self, chunk: np.ndarray, offset: int) -> np.ndarray:
        pixels, problems = checked_pixels(chunk)
        for index, problem in enumerate(problems):
            if problem is not None:
                raise ValueError(f"image {offset + index}: {problem}")
        return np.ascontiguousarray(pixels)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) == 0:
            return np.empty((0, NUM_CLASSES), dtype=np.float32)
        return self._session.run([self.output.name], {self.input.name: batch})[0]


def _read_model(path: Path) -> bytes:
    """The model file's bytes (read once: the session is built from them, not from a path
    that a FIFO or a device could stand behind)."""
    with open_regular(path) as stream:
        if stream.seek(0, 2) > MAX_MODEL_BYTES:
            raise InputError(f"larger than {MAX_MODEL_BYTES // 2**20} MiB; not an mnist-edge model")
        stream.seek(0)
        return stream.read()


def _spec(arg) -> TensorSpec:
    """A TensorSpec from onnxruntime's NodeArg ('tensor(uint8)' -> 'uint8')."""
    dtype = arg.type.removeprefix("tensor(").removesuffix(")")
    dtype = "float32" if dtype == "float" else dtype
    return TensorSpec(arg.name, dtype, tuple(arg.shape))
