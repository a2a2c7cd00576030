"""The `mnist-edge` command: one module per command, wiring options to train, export,
runtime and pictures. Importing it is cheap; heavy modules load inside the commands."""

import os

# NumPy's OpenBLAS starts a thread per core as it loads, spinning for ~0.05 s of CPU, for
# linear algebra no command does (models run in onnxruntime's or TensorFlow's own threads).
# Set before any command imports NumPy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
