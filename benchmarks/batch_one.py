"""One image at a time: mnist-edge beside TensorFlow Lite, like for like, and what each change
to the single-image path bought.

Part of `make bench` (benchmarks/run.py). Every engine runs a model made in this run from the
same Keras model: TensorFlow Lite its converter's float32 model and full-integer int8 model
(calibrated on the images `export --int8` calibrates on), onnxruntime the exporter's
optimised graph and its int8 quantization. Each runs on 1 and on 2 threads (TensorFlow
Lite's `num_threads`, onnxruntime's intra-op threads: `Predictor(small_batch_threads=2)`,
whose second thread spins between calls), the calls interleaved (benchmarks/latency.py), with
the machine's last core idle and busy. Then the Predictor's single-image path step by step,
and where one thread stops paying.
"""

import os
from dataclasses import dataclass

import numpy as np

from benchmarks.backends import TFLiteRunner, tflite_model
from benchmarks.latency import (
    BUSY,
    IDLE,
    Timing,
    bound_call,
    calling,
    copying_call,
    crossover,
    folding_throughput,
    idle_and_busy,
    required_call,
    step_timings,
)
from mnist_edge.core.mnist import Mnist
from mnist_edge.runtime.predictor import Predictor

MODELS = ("float32", "int8")
THREADS = (1, 2)
CONDITIONS = (IDLE, BUSY)
TFLITE = "TensorFlow Lite (XNNPACK)"
BARE = "onnxruntime's bare bound call"
PREDICTOR = "`Predictor.predict`"
COPYING = "the bare call + copying the image in and the probabilities out"
REQUIRED = (
    "the bare call + copying + the time budget + every row checked, inline (all the "
    "Predictor must do)"
)
OVERHEAD_TARGET = 1.1  # the Predictor's batch-1 median over onnxruntime's bare bound call


@dataclass(frozen=True)
class Row:
    """One engine on one model with a number of threads: a line of the table."""

    model: str
    threads: int
    engine: str

    @property
    def name(self) -> str:
        return f"{self.engine}, {self.model}, {self.threads} thread{'s' * (self.threads > 1)}"


def rows() -> list[Row]:
    """The like-for-like table's lines; the floors under the Predictor at one thread only."""
    engines = {1: (TFLITE, BARE, PREDICTOR, COPYING, REQUIRED), 2: (TFLITE, BARE, PREDICTOR)}
    return [
        Row(model, threads, engine)
        for model in MODELS
        for threads in THREADS
        for engine in engines[threads]
    ]


@dataclass(frozen=True)
class BatchOne:
    timings: dict[str, dict[str, Timing]]  # condition -> Row.name -> Timing, interleaved
    accuracy: dict[str, float]  # int8 engine -> accuracy on the MNIST test set
    steps: dict[str, dict[str, Timing]]  # model -> STEPS, interleaved
    folding: dict[str, float]  # model -> images/s of the optimised graph / the readable's
    crossover: dict[str, dict[int, tuple[Timing, Timing]]]  # model -> size -> (one, pool)
    batch: int  # images per call for `folding`
    load: tuple[float, float]  # 1-minute load average before and after

    def timing(self, row: Row, condition: str = IDLE) -> Timing:
        return self.timings[condition][row.name]

    def ratio(self, row: Row, engine: str, condition: str = IDLE) -> float:
        """Within-round ratio of `row` to `engine` on the same model and threads."""
        other = Row(row.model, row.threads, engine)
        return self.timing(row, condition).ratio_to(self.timing(other, condition))


def measure(keras_model, mnist: Mnist, models: dict[str, tuple[bytes, bytes]]) -> BatchOne:
    """Everything of this section; `models`: model -> (readable, optimised), see graphs()."""
    from mnist_edge.export.quantize import calibration_set
    from mnist_edge.train.model import scale_pixels

    load_before = os.getloadavg()[0]
    calibration = scale_pixels(calibration_set(mnist.x_train))
    tflite = {"float32": tflite_model(keras_model), "int8": tflite_model(keras_model, calibration)}
    engines = Engines(tflite, {model: models[model][1] for model in MODELS}, mnist.x_test)
    timings = idle_and_busy({row.name: engines.call(row) for row in rows()})
    accuracy = engines.int8_accuracy(mnist.y_test)
    one = np.ascontiguousarray(mnist.x_test[:1])
    steps = {model: step_timings(*models[model], one) for model in MODELS}
    folding = {model: folding_throughput(*models[model], mnist.x_test) for model in MODELS}
    crossovers = {model: crossover(models[model][1], mnist.x_test) for model in MODELS}
    load = (load_before, os.getloadavg()[0])
    return BatchOne(timings, accuracy, steps, folding, crossovers, len(mnist.x_test), load)


class Engines:
    """The call each Row times, on the first test image; one Predictor per model and threads,
    so that its bare call runs on its own session and buffers."""

    def __init__(self, tflite: dict[str, bytes], onnx: dict[str, bytes], images: np.ndarray):
        self.tflite, self.onnx, self.images = tflite, onnx, images
        self.one = np.ascontiguousarray(images[:1])
        self._predictors: dict[tuple[str, int], Predictor] = {}

    def call(self, row: Row):
        if row.engine == TFLITE:
            runner = TFLiteRunner(self.tflite[row.model], row.threads)
            return calling(runner, self._tflite_input(runner, self.one))
        predictor = self.predictor(row.model, row.threads)
        if row.engine == BARE:
            return bound_call(predictor, self.one)
        if row.engine == COPYING:
            return copying_call(predictor, self.one)
        if row.engine == REQUIRED:
            return required_call(predictor, self.one)
        return calling(predictor.predict, self.one)

    def predictor(self, model: str, threads: int) -> Predictor:
        key = (model, threads)
        if key not in self._predictors:
            name = f"{model}.onnx"
            self._predictors[key] = Predictor(
                self.onnx[model], name=name, small_batch_threads=threads
            )
        return self._predictors[key]

    def int8_accuracy(self, labels: np.ndarray) -> dict[str, float]:
        """Both int8 models on the whole test set: the same task, the same quality."""
        runner = TFLiteRunner(self.tflite["int8"], 1)
        tflite = runner(self._tflite_input(runner, self.images))
        onnx = self.predictor("int8", 1).predict(self.images)
        return {
            f"{TFLITE} int8": float(np.mean(tflite.argmax(axis=1) == labels)),
            "onnxruntime int8": float(np.mean(onnx.argmax(axis=1) == labels)),
        }

    @staticmethod
    def _tflite_input(runner: TFLiteRunner, images: np.ndarray) -> np.ndarray:
        """float32 pixels / 255 for a float model; raw uint8 pixels for the int8 model, whose
        input scale is 1/255 (checked: else its figures would be of another input)."""
        from mnist_edge.train.model import scale_pixels

        scale, zero_point = runner.input_quantization
        if scale == 0:
            return np.ascontiguousarray(scale_pixels(images))
        if not np.isclose(scale, 1 / 255) or zero_point != 0:
            raise ValueError(f"TensorFlow Lite int8 input: scale {scale}, zero point {zero_point}")
        return images


def graphs(keras_model, train_images: np.ndarray) -> dict[str, tuple[bytes, bytes]]:
    """model -> (readable, optimised) serialized: the exporter's graph before and after its
    passes, float32 and quantized to int8 as `export --int8` does."""
    from mnist_edge.export.convert import keras_to_onnx
    from mnist_edge.export.optimise import optimise
    from mnist_edge.export.quantize import calibration_set, quantize_int8

    readable = keras_to_onnx(keras_model)
    optimised, _ = optimise(readable)
    calibration = calibration_set(train_images)
    int8 = quantize_int8(readable, calibration)
    int8_optimised, _ = optimise(quantize_int8(optimised, calibration))
    pairs = {"float32": (readable, optimised), "int8": (int8, int8_optimised)}
    return {
        model: (a.SerializeToString(), b.SerializeToString()) for model, (a, b) in pairs.items()
    }
