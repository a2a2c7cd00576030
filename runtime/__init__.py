"""Run the exported MNIST model with onnxruntime, NumPy and Pillow only: no TensorFlow.

The public API is what `__all__` lists; every other name in mnist_edge.runtime is internal
and may change between releases.

- `Predictor`: digit probabilities for MNIST-format images, uint8 (N, 28, 28).
- `predict_paths`, `predict_sources`, `PipelineOptions`: image files, folders and array
  files to predictions, the way `mnist-edge predict` reads them.
- `Prediction`, `record`: a prediction, and the JSON record `predict` writes for it.
- `InputError`, `ModelError`: what the runtime raises for an unusable input or model.
- `default_model_path`, `shipped_models`: the models inside the package.

Names load on first use, so that the command line (which imports this package) starts
without NumPy or onnxruntime.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mnist_edge.core.errors import InputError, ModelError
    from mnist_edge.runtime.info import shipped_models
    from mnist_edge.runtime.pipeline import PipelineOptions, predict_paths, predict_sources
    from mnist_edge.runtime.predictor import Predictor, default_model_path
    from mnist_edge.runtime.records import Prediction, record

_HOMES = {  # name -> the module that defines it
    "Predictor": "mnist_edge.runtime.predictor",
    "default_model_path": "mnist_edge.runtime.predictor",
    "PipelineOptions": "mnist_edge.runtime.pipeline",
    "predict_paths": "mnist_edge.runtime.pipeline",
    "predict_sources": "mnist_edge.runtime.pipeline",
    "Prediction": "mnist_edge.runtime.records",
    "record": "mnist_edge.runtime.records",
    "InputError": "mnist_edge.core.errors",
    "ModelError": "mnist_edge.core.errors",
    "shipped_models": "mnist_edge.runtime.info",
}
__all__ = [
    "InputError",
    "ModelError",
    "PipelineOptions",
    "Prediction",
    "Predictor",
    "default_model_path",
    "predict_paths",
    "predict_sources",
    "record",
    "shipped_models",
]


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'mnist_edge.runtime' has no attribute {name!r}")
