"""make mcu-tflm: TensorFlow Lite Micro's tensor arena for the same four models, the figure
the generated C's RAM is held to (device/mcu/tflm.json, committed).

    python device/mcu/tflm.py convert FOLDER        # needs the train extra (TensorFlow)
    python device/mcu/tflm.py measure FOLDER JSON   # needs only the tflite-micro package

convert: each shipped float ONNX model rebuilt in Keras from its own weights (the lowered
layers: convolutions with their explicit padding, dense layers, softmax), checked against
onnxruntime, and converted to a float .tflite and to a full-integer int8 .tflite (TensorFlow
Lite's own quantization, int8 input and output, calibrated on 500 training images). The int8
twin's quantization parameters are TFLite's, not the ONNX model's; its tensors, their types
and shapes, which are what an arena holds, are the same.

measure: the tflite-micro interpreter (its Python package runs the reference kernels on the
host) allocates each model and reports its arena: tensors ("head") plus the interpreter's own
structures ("tail"; on a 64-bit host, so a little larger than on a 32-bit Cortex-M).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from harness.tflite import to_tflite

CALIBRATION_IMAGES = 500
KERAS_MAX_ABS_DIFF = 1e-4  # the rebuilt Keras model against onnxruntime (float32, reordered sums)
ARCHITECTURES = ("mlp", "cnn")


def convert(folder: Path) -> None:
    """Write <arch>.tflite, <arch>.int8.tflite and manifest.json into `folder`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from mnist_edge.core.files import sha256_file
    from mnist_edge.core.mnist import load_mnist
    from mnist_edge.runtime import catalog
    from mnist_edge.runtime.predictor import Predictor

    mnist = load_mnist()
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for arch in ARCHITECTURES:
        path = catalog.shipped_path(arch)
        model = keras_twin(path)
        images = mnist.x_test[:1000].astype(np.float32)[..., None]
        ours = model.predict(images, verbose=0)
        difference = float(np.abs(ours - Predictor(path).predict(mnist.x_test[:1000])).max())
        if difference > KERAS_MAX_ABS_DIFF:
            raise SystemExit(f"the Keras twin of {path.name} differs by {difference:.1e}")
        calibration = mnist.x_train[:CALIBRATION_IMAGES].astype(np.float32)[..., None]
        for name, int8 in ((arch, False), (f"{arch}.int8", True)):
            content = to_tflite(model, calibration if int8 else None, "int8", io="both")
            (folder / f"{name}.tflite").write_bytes(content)
            manifest[name] = {
                "onnx_sha256": sha256_file(catalog.shipped_path(name)),
                "tflite_bytes": len(content),
                "keras_max_abs_diff": difference,
            }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def keras_twin(path: Path):
    """The float ONNX model at `path` as a Keras model on (28, 28, 1) pixels in 0-255."""
    import keras  # noqa: TID251  (a maintainer target, with the train extra)

    from mnist_edge.export.c.layers import Conv, Dense, Softmax
    from mnist_edge.export.c.lower import lower

    inputs = keras.Input((28, 28, 1))
    x = inputs
    for layer in lower(path).layers:
        if isinstance(layer, Conv):
            padding = "same" if any(layer.pads) and layer.pads == same_pads(layer) else "valid"
            if padding == "valid" and any(layer.pads):
                top, left, bottom, right = layer.pads
                x = keras.layers.ZeroPadding2D(((top, bottom), (left, right)))(x)
            conv = keras.layers.Conv2D(
                layer.weights.shape[0], layer.kernel, strides=layer.stride, padding=padding,
                activation="relu" if layer.relu else None,
            )  # fmt: skip
            x = conv(x)
            conv.set_weights([layer.weights.transpose(1, 2, 3, 0), layer.bias])
        elif isinstance(layer, Dense):
            x = keras.layers.Flatten()(x)
            dense = keras.layers.Dense(layer.weights.shape[0], "relu" if layer.relu else None)
            x = dense(x)
            dense.set_weights([layer.weights.T, layer.bias])
        elif isinstance(layer, Softmax):
            x = keras.layers.Softmax()(keras.layers.Flatten()(x))
    return keras.Model(inputs, x)


def same_pads(layer) -> tuple[int, int, int, int]:
    """TensorFlow's "same" padding for a padded layer (the extra row or column at the end):
    used when it is the ONNX padding, so that TFLite needs no separate Pad tensor."""
    pads = []
    for axis in (0, 1):
        size, out, kernel, stride = (layer.source.shape[axis], layer.output.shape[axis],
                                     layer.kernel[axis], layer.stride[axis])  # fmt: skip
        total = max((out - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return top, left, bottom, right


def measure(folder: Path, output: Path) -> None:
    """TFLM's arena for every .tflite in the manifest, written to `output`."""
    from importlib import metadata

    manifest = json.loads((folder / "manifest.json").read_text())
    models = {}
    for name, entry in manifest.items():
        figures = arena(folder / f"{name}.tflite")
        models[name] = {**entry, **figures}
        print(f"{name:<10} TFLM arena {figures['arena_bytes']:>7,} B "
              f"(tensors {figures['arena_head_bytes']:,} B)")  # fmt: skip
    result = {"tflite_micro": metadata.version("tflite-micro"), "models": models}
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}")


def arena(path: Path) -> dict[str, int]:
    """The RecordingMicroAllocator's totals for the model at `path`. Its C++ code prints them
    through its own buffers, flushed at exit: so it runs in a child process."""
    code = (
        "import sys; from tflite_micro.python.tflite_micro import runtime; "
        "runtime.Interpreter.from_file(sys.argv[1]).print_allocations()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    totals = dict(re.findall(r"Arena allocation (\w+) (\d+) bytes", done.stdout + done.stderr))
    return {
        "arena_bytes": int(totals["total"]),
        "arena_head_bytes": int(totals["head"]),
        "arena_tail_bytes": int(totals["tail"]),
    }


if __name__ == "__main__":
    command, *paths = sys.argv[1:] or ["help"]
    if command == "convert" and len(paths) == 1:
        convert(Path(paths[0]))
    elif command == "measure" and len(paths) == 2:
        measure(Path(paths[0]), Path(paths[1]))
    else:
        sys.exit(__doc__)
