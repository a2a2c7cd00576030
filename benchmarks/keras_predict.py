"""The Keras way to read one digit: load model.keras, predict one PNG, print the digit.

What a user of the tutorial would write; timed as a whole process against
`mnist-edge predict one.png` (see processes.py). Usage: keras_predict.py MODEL IMAGE
"""

import os
import sys
from pathlib import Path


def predict_digit(model_path: Path, image_path: Path) -> int:
    """The most likely digit for a 28x28 greyscale PNG already in MNIST format."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    from PIL import Image

    from mnist_edge.train.model import scale_pixels

    pixels = np.asarray(Image.open(image_path).convert("L"))[np.newaxis]  # (1, 28, 28) uint8
    model = keras.models.load_model(model_path)
    return int(model.predict(scale_pixels(pixels), verbose=0).argmax())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: keras_predict.py MODEL IMAGE")
    print(predict_digit(Path(sys.argv[1]), Path(sys.argv[2])))
