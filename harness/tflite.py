"""A Keras model through TensorFlow Lite's converter: the benchmarks' TFLite engine and the
microcontroller proof's TFLM arena come from the same conversion (needs the train extra)."""

import tempfile

import numpy as np


def to_tflite(
    model, calibration: np.ndarray | None = None, integer_type: str = "uint8", io: str = "in"
) -> bytes:
    """The model converted via a SavedModel. With `calibration` (float32 pixels / 255), its
    full-integer int8 model, calibrated on those images as `export --int8` calibrates the
    ONNX one, with `integer_type` ("uint8" or "int8") on its input (`io` "in") or on its
    input and output (`io` "both"); without, float32 throughout."""
    import tensorflow as tf  # noqa: TID251  (benchmarks and maintainer targets: train extra)

    with tempfile.TemporaryDirectory() as saved_model:
        # from_keras_model makes the same SavedModel but prints its signature on stdout;
        # from_concrete_functions on a Keras 3 model loses the weights (the output is NaN).
        model.export(saved_model, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
        if calibration is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([image[None]] for image in calibration)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = getattr(tf, integer_type)
            if io == "both":
                converter.inference_output_type = getattr(tf, integer_type)
        return converter.convert()
