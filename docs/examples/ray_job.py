"""A Ray Data pipeline of your own: a dataset of image files in, a dataset of records out."""

import ray

from mnist_edge.scale import predict_dataset

images = ray.data.read_binary_files("samples/", include_paths=True)  # or "s3://bucket/digits/"
predictions = predict_dataset(images)  # or predict_dataset(images, "model.onnx", workers=(1, 8))
predictions.write_parquet("predictions/")  # or "s3://bucket/predictions/"
print(sorted(row["label"] for row in ray.data.read_parquet("predictions/").take_all()))
