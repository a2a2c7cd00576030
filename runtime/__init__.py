"""Run the exported MNIST model with onnxruntime and NumPy only: no TensorFlow."""

from mnist_edge.runtime.predictor import Predictor, default_model_path

__all__ = ["Predictor", "default_model_path"]
