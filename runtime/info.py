"""What model files say about themselves: one model's contract, labels, training metrics,
optimisation passes and versions; the shipped models side by side."""

import hashlib

from mnist_edge.core import contract
from mnist_edge.runtime import catalog
from mnist_edge.runtime.predictor import Predictor


def describe(predictor: Predictor) -> dict[str, object]:
    """The model's identity and metadata, as JSON-able values."""
    meta = predictor.metadata
    path = predictor.model_path
    return {
        "path": str(path),
        "sha256": hashlib.sha256(predictor.model_bytes).hexdigest(),
        "bytes": len(predictor.model_bytes),
        "input": {
            "name": predictor.input.name,
            "dtype": predictor.input.dtype,
            "shape": list(predictor.input.shape),
        },
        "output": {
            "name": predictor.output.name,
            "dtype": predictor.output.dtype,
            "shape": list(predictor.output.shape),
        },
        "labels": list(predictor.labels),
        "architecture": meta.get(contract.META_ARCHITECTURE),
        "input_contract": meta.get(contract.META_INPUT),
        "output_contract": meta.get(contract.META_OUTPUT),
        "preprocessing": meta.get(contract.META_PREPROCESSING),
        "training": meta.get(contract.META_TRAINING),
        "quantization": meta.get(contract.META_QUANTIZATION),
        "optimisations": meta.get(contract.META_OPTIMISATIONS),
        "source_sha256": meta.get(contract.META_SOURCE_SHA256),
        "versions": meta.get(contract.META_VERSIONS),
    }


def shipped_models() -> list[dict[str, object]]:
    """Each shipped model as its metadata describes it: name, file, size, network, parameters,
    MNIST test accuracy (the int8 model's own, measured at export) and how it was trained."""
    rows = []
    for name in catalog.names():
        predictor = Predictor(catalog.shipped_path(name))
        network = predictor.metadata.get(contract.META_ARCHITECTURE) or {}
        training = predictor.metadata.get(contract.META_TRAINING) or {}
        quantization = predictor.metadata.get(contract.META_QUANTIZATION) or {}
        rows.append(
            {
                "name": name,
                "default": name == catalog.DEFAULT,
                "path": str(predictor.model_path),
                "bytes": len(predictor.model_bytes),
                "layers": network.get("layers"),
                "parameters": network.get("parameters"),
                "test_accuracy": quantization.get("test_accuracy", training.get("test_accuracy")),
                "augmented": training.get("augment"),
                "epochs": training.get("epochs"),
                "seed": training.get("seed"),
            }
        )
    return rows
