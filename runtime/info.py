"""What a model file says about itself: contract, labels, training metrics, versions."""

import hashlib

from mnist_edge.core import contract
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
        "source_sha256": meta.get(contract.META_SOURCE_SHA256),
        "versions": meta.get(contract.META_VERSIONS),
    }


def as_text(details: dict[str, object]) -> str:
    """Readable `key: value` lines; nested dicts indented."""
    lines = []
    for key, value in details.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {name}: {item}" for name, item in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}: {', '.join(str(item) for item in value)}")
        else:
            lines.append(f"{key}: {'-' if value is None else value}")
    return "\n".join(lines)
