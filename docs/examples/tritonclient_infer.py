"""Eight MNIST test images as a binary tensor, with the official Triton client."""

import numpy as np
import tritonclient.http as httpclient

images = np.load("data/mnist.npz")["x_test"][:8]  # uint8 (8, 28, 28), MNIST format
client = httpclient.InferenceServerClient("localhost:8000")
tensor = httpclient.InferInput("image", list(images.shape), "UINT8")
tensor.set_data_from_numpy(images)
result = client.infer("mnist", [tensor])
print(result.as_numpy("probabilities").argmax(axis=1))
