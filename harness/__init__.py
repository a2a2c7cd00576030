"""What the tests, the benchmarks and the device scripts share, so that none imports another.

tests/ (pytest), benchmarks/ (`make bench*`, `make model-card`, `make readme`) and device/
(`make test-aarch64`) each import from here and from the installed `mnist_edge`, never from
each other (tests/test_import_boundaries.py holds them to it). Not installed: run from the
checkout (`python -m benchmarks.X`, `python -m device.X`, pytest).

- The digit sets behind published figures, made on the spot with fixed seeds:
  `wild_digits` (MNIST test digits re-drawn as users' pictures), `other_digits` (fonts and
  pen strokes, never MNIST) and `samples` (the files in samples/, `make samples`).
- Processes: `processes` (wall time and peak memory of one run), `service` (`mnist-edge
  serve` started on a free port, its memory read, stopped), `raw_http` (HTTP/1.1 by hand).
- `browser`: web/dist served locally and Debian's Chromium driven by Playwright.
- `broken_models`: ONNX models that declare the contract and break it when run (NaN, logits,
  one row, eleven classes, a failing operator, a loop that never ends), for the tests of
  every front end and the batch-1 benchmark's check.
- `tflite`: a Keras model through TensorFlow Lite's converter (benchmarks, the TFLM arena).
- `sections`: the marked sections of README.md and the docs pages that make targets write.
- `targets`: the issues' targets, which the tests hold the code to and the model card's
  table reports its figures against.
"""
