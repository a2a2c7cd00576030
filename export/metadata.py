"""The model's self-description, written into ONNX metadata_props and read by the runtime."""

import json
import platform
from pathlib import Path

import keras
import onnx
import onnxruntime
import tensorflow as tf
import tf2onnx

from mnist_edge.core import contract
from mnist_edge.core.files import sha256_file

RECIPE_KEYS = (  # copied from metrics.json's recipe when present (MLP and CNN differ)
    "arch",
    "epochs",
    "batch_size",
    "hidden_units",
    "filters",
    "optimizer",
    "learning_rate",
    "seed",
    "augment",
)


def training_metrics(keras_path: Path, test_accuracy: float) -> dict[str, object]:
    """Test accuracy measured at export, plus the recipe from the metrics.json beside the model."""
    metrics: dict[str, object] = {"test_accuracy": round(test_accuracy, 6)}
    recorded = keras_path.parent / "metrics.json"
    if recorded.exists():
        trained = json.loads(recorded.read_text())
        recipe = trained.get("recipe", {})
        metrics["test_loss"] = trained.get("test_loss")
        metrics["train_images"] = trained.get("train_images")
        metrics.update({key: recipe[key] for key in RECIPE_KEYS if key in recipe})
    return metrics


def architecture(model: keras.Model) -> dict[str, object]:
    """What the network is: its short name (from the Keras model's name, mnist_<name>), its
    parameter count, and its layers in one line."""
    return {
        "name": model.name.removeprefix("mnist_"),
        "parameters": int(model.count_params()),
        "layers": " -> ".join(filter(None, map(describe_layer, model.layers))),
    }


def describe_layer(layer: keras.layers.Layer) -> str | None:
    """'Conv2D(16, 5x5, stride 2)', 'Dense(256, relu)'; None for layers that only reshape,
    normalise (folded into the convolution at export) or drop out."""
    config = layer.get_config()
    activation = config.get("activation")
    suffix = f", {activation}" if activation not in (None, "linear") else ""
    if isinstance(layer, keras.layers.Conv2D):
        (kernel, _), (stride, _) = config["kernel_size"], config["strides"]
        step = f", stride {stride}" if stride > 1 else ""
        return f"Conv2D({config['filters']}, {kernel}x{kernel}{step}{suffix})"
    if isinstance(layer, keras.layers.Dense):
        return f"Dense({config['units']}{suffix})"
    if isinstance(layer, keras.layers.ReLU):
        return "relu"
    if isinstance(layer, keras.layers.Flatten):
        return "Flatten"
    return None


def build_metadata(keras_path: Path, model: keras.Model, test_accuracy: float) -> dict[str, str]:
    """metadata_props for `model`, exported from `keras_path`."""
    entries: dict[str, object] = {
        contract.META_ARCHITECTURE: architecture(model),
        contract.META_LABELS: list(contract.LABELS),
        contract.META_INPUT: contract.INPUT_CONTRACT,
        contract.META_OUTPUT: contract.OUTPUT_CONTRACT,
        contract.META_PREPROCESSING: contract.PREPROCESSING,
        contract.META_TRAINING: training_metrics(keras_path, test_accuracy),
        contract.META_SOURCE_SHA256: sha256_file(keras_path),
        contract.META_VERSIONS: {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "tf2onnx": tf2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
            "python": platform.python_version(),
        },
    }
    return {key: v if isinstance(v, str) else json.dumps(v) for key, v in entries.items()}


def set_metadata(proto: onnx.ModelProto, metadata: dict[str, str]) -> None:
    """Replace the model's metadata_props with `metadata`."""
    proto.ClearField("metadata_props")
    onnx.helper.set_model_props(proto, metadata)
    network = json.loads(metadata.get(contract.META_ARCHITECTURE, "{}"))
    proto.doc_string = (
        f"MNIST digit classifier ({network.get('name', 'network').upper()}: "
        f"{network.get('layers', '?')}). Input 'image': uint8 (batch, 28, 28), light digit "
        "on dark, MNIST format. Output 'probabilities': float32 (batch, 10)."
    )
