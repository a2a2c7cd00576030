"""The Keras tutorial's arrays through a shipped model: uint8 (N, 28, 28) in, (N, 10) out."""

import numpy as np

from mnist_edge.runtime import Predictor

predictor = Predictor("mlp")  # a shipped model's name, or a file: Predictor("model.onnx")
mnist = np.load("data/mnist.npz")
probabilities = predictor.predict(mnist["x_test"])  # float32 (10,000, 10)
print(probabilities.shape)
print(probabilities[99].argmax())  # the tutorial's check: test image 99 is a 9
accuracy = (probabilities.argmax(axis=1) == mnist["y_test"]).mean()
print(f"test accuracy {accuracy:.2%}")

# Float pixels in [0, 1], as the tutorial prepares them, give the same probabilities.
scaled = predictor.predict(mnist["x_test"][:100] / 255)
print(np.abs(scaled - probabilities[:100]).max() < 1e-6)
