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


def training_metrics(keras_path: Path, test_accuracy: float) -> dict[str, object]:
    """Test accuracy measured at export, plus the recipe from the metrics.json beside the model."""
    metrics: dict[str, object] = {"test_accuracy": round(test_accuracy, 6)}
    recorded = keras_path.parent / "metrics.json"
    if recorded.exists():
        trained = json.loads(recorded.read_text())
        recipe = trained.get("recipe", {})
        metrics["test_loss"] = trained.get("test_loss")
        metrics["train_images"] = trained.get("train_images")
        for key in ("epochs", "batch_size", "hidden_units", "optimizer", "learning_rate", "seed"):
            metrics[key] = recipe.get(key)
    return metrics


def build_metadata(keras_path: Path, test_accuracy: float) -> dict[str, str]:
    """metadata_props for a model exported from `keras_path`."""
    entries: dict[str, object] = {
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
    proto.doc_string = (
        "MNIST digit classifier (the Keras tutorial's MLP). Input 'image': uint8 "
        "(batch, 28, 28), light digit on dark, MNIST format. Output 'probabilities': "
        "float32 (batch, 10)."
    )
