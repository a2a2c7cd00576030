"""Train the Keras MNIST tutorial's model (needs the `train` extra: TensorFlow)."""
