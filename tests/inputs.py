"""A folder of inputs of every kind, good and broken, as users' folders really are."""

import gzip
import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_edge.core.arrayfiles import write_idx

# name -> a fragment of the expected error (None: predicted). Array files list their records.
EXPECTED = {
    "a-seven.png": None,
    "B-TWO.PNG": None,
    "drawn-nine.jpg": None,
    "three.npy#0": None,
    "three.npy#1": None,
    "three.npy#2": None,
    "pair-idx3-ubyte.gz#0": None,
    "pair-idx3-ubyte.gz#1": None,
    "nan.npy#0": None,
    "nan.npy#1": "contains NaN",
    "sub/deep-one.png": None,
    "truncated.png": "cannot decode image",
    "empty.png": "not an image",
    "notes.png": "not an image",
    "bomb.png": "refusing to decode more than 50 MP",
    "blank.png": "no digit found",
    "pickled.npy": "pickled",
    "shape.npy": "shape (3, 32, 32) is not",
    "badmagic-idx3-ubyte": "bad magic number",
    "short-idx3-ubyte": "header says 5x28x28",
}


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_inputs(folder: Path, x_test: np.ndarray) -> dict[str, str | None]:
    """Write the mixed folder; return EXPECTED with the true digit for good single images."""
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(x_test[0]).save(folder / "a-seven.png")
    Image.fromarray(x_test[1]).save(folder / "B-TWO.PNG")
    big = Image.fromarray(255 - x_test[99]).resize((300, 300), Image.Resampling.BILINEAR)
    big.convert("RGB").save(folder / "drawn-nine.jpg", quality=90)
    np.save(folder / "three.npy", x_test[2:5])
    write_idx(folder / "pair-idx3-ubyte.gz", x_test[5:7])
    nan = x_test[7:9].astype(np.float32) / 255
    nan[1, 5, 5] = np.nan
    np.save(folder / "nan.npy", nan)
    Image.fromarray(x_test[2]).save(folder / "sub" / "deep-one.png")
    good_png = png_bytes(Image.fromarray(x_test[3]))
    (folder / "truncated.png").write_bytes(good_png[: len(good_png) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("shopping list: milk, eggs\n")
    Image.new("1", (12000, 12000)).save(folder / "bomb.png")  # 144 MP in a few kB
    Image.new("L", (64, 64), 255).save(folder / "blank.png")
    np.save(folder / "pickled.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    np.save(folder / "shape.npy", np.zeros((3, 32, 32), np.uint8))
    (folder / "badmagic-idx3-ubyte").write_bytes(b"\x13\x37\x08\x03" + bytes(64))
    header = struct.pack(">BBBB3i", 0, 0, 8, 3, 5, 28, 28)
    (folder / "short-idx3-ubyte").write_bytes(header + x_test[:2].tobytes())
    (folder / "README.txt").write_text("not an input: skipped in folders")
    assert gzip.open(folder / "pair-idx3-ubyte.gz").read(4) == b"\x00\x00\x08\x03"
    return dict(EXPECTED)
