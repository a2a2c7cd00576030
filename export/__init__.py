"""Export the Keras model to ONNX and prove both compute the same (needs the `train` extra)."""

from mnist_edge.runtime.telemetry import telemetry_off

# Before any module here imports onnxruntime (quantize_static opens sessions of its own): see
# runtime/telemetry.py.
telemetry_off()
