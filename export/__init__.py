"""Export the Keras model to ONNX and prove both compute the same (needs the `train` extra)."""
