"""Run the exported MNIST model with onnxruntime and NumPy only: no TensorFlow.

`from mnist_edge.runtime import Predictor` is the entry point. It is loaded on first use,
so that the command line (which imports this package) starts without NumPy.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mnist_edge.runtime.predictor import Predictor, default_model_path

__all__ = ["Predictor", "default_model_path"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from mnist_edge.runtime import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'mnist_edge.runtime' has no attribute {name!r}")
