"""What a model file says about itself: contract, labels, training metrics, versions."""

import hashlib
from pathlib import Path

from mnist_edge.core import contract
from mnist_edge.runtime.predictor import Predictor


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe(predictor: Predictor) -> dict[str, object]:
    """The model's identity and metadata, as JSON-able values."""
    meta = predictor.metadata
    path = predictor.model_path
    return {
        "path": str(path),
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
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
        "input_contract": meta.get(contract.META_INPUT),
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
