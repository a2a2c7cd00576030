"""Image files and folders through the same pipeline as `mnist-edge predict`."""

from pathlib import Path

from mnist_edge.runtime import PipelineOptions, Predictor, predict_paths, record

predictor = Predictor("cnn")
inputs = [Path("samples/drawn-5.jpg"), Path("samples/mnist-7.png"), Path("no-such.png")]
for prediction in predict_paths(predictor, inputs, PipelineOptions(batch_size=64)):
    if prediction.error is not None:
        print(f"{prediction.source}: {prediction.error}")
    else:
        print(f"{prediction.source}: {prediction.digit} ({prediction.probability:.1%})")

# The record `predict --format jsonl` writes, as a dict.
print(record(next(predict_paths(predictor, [Path("samples/mnist-2.png")])), top_k=2))
