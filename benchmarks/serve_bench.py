"""`make bench-serve`: the service under load, in one run, into docs/serve.md's `serve` section.

Usage: python -m benchmarks.serve_bench --output docs/serve.md [--seconds 5] [--soak-seconds 60]

Starts `mnist-edge serve` on 127.0.0.1 (batching on, then `--max-batch 1`) and drives it
with the load generator of benchmarks/serve_load.py: single-image tensor requests (binary,
as tritonclient builds them), single PNG uploads and 64-image tensor requests, at 1, 8 and
64 clients; then 64 clients for a minute of mixed requests while the server's memory is
sampled. In-process Predictor throughput is measured in the same run for reference.
"""

import argparse
import datetime
import io
import os
import sys
import threading
from importlib import metadata
from pathlib import Path

import numpy as np

from benchmarks.serve_load import Load, Request, run_load
from benchmarks.serve_report import Row, Soak, render, row_text
from harness.raw_http import http_request
from harness.sections import write_section
from harness.service import HOST, ServiceProcess, service
from mnist_edge.core.mnist import load_mnist
from mnist_edge.measure.bench import latency_us, throughput
from mnist_edge.measure.machine import machine
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.serve.settings import DEFAULT_MODEL_THREADS

PROJECT = Path(__file__).resolve().parents[1]
SECTION = "serve"
DISTINCT = 1000  # different test images the requests cycle through
KINDS = {  # request kind -> images per request
    "tensor, 1 image": 1,
    "PNG upload": 1,
    "tensor, 64 images": 64,
}
CLIENTS = (1, 8, 64)
MAX_REQUESTS = 1_000_000  # per run: runs are bounded by time first
WARMUP_SECONDS = 0.5
SOAK_CLIENTS = 64
INFER_PATH = "/v2/models/mnist/infer"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PROJECT / "docs" / "serve.md")
    parser.add_argument("--seconds", type=float, default=5.0, help="Each run. Default: 5.")
    parser.add_argument("--soak-seconds", type=float, default=60.0, help="Default: 60.")
    return parser.parse_args()


def tensor_request(images: np.ndarray) -> Request:
    """The bytes tritonclient sends for `images`: binary input, binary output requested."""
    import tritonclient.http as triton

    tensor = triton.InferInput("image", list(images.shape), "UINT8")
    tensor.set_data_from_numpy(images, binary_data=True)
    output = triton.InferRequestedOutput("probabilities", binary_data=True)
    body, json_size = triton.InferenceServerClient.generate_request_body([tensor], [output])
    headers = {"Inference-Header-Content-Length": str(json_size)}
    headers["Content-Type"] = "application/octet-stream"
    return Request(http_request(HOST, INFER_PATH, body, headers), len(images))


def png_request(image: np.ndarray) -> Request:
    from PIL import Image

    png = io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    headers = {"Content-Type": "image/png"}
    return Request(http_request(HOST, "/v1/predict", png.getvalue(), headers), 1)


def prepare(images: np.ndarray) -> dict[str, list[Request]]:
    """The requests of each kind, cycling through DISTINCT test images."""
    groups = [images[start : start + 64] for start in range(0, DISTINCT, 64)]
    return {
        "tensor, 1 image": [tensor_request(images[i : i + 1]) for i in range(DISTINCT)],
        "PNG upload": [png_request(images[i]) for i in range(DISTINCT)],
        "tensor, 64 images": [tensor_request(group) for group in groups if len(group) == 64],
    }


def measure(requests: dict[str, list[Request]], seconds: float) -> tuple[list[Row], list[int]]:
    """Every kind at every client count, against a server with batching and one without
    (both running, the idle one costing nothing), taken in turn so that a change in the
    machine's load falls on both; and their exit codes on SIGTERM."""
    rows = []
    with service("--quiet") as batching, service("--quiet", "--max-batch", "1") as single:
        for kind, prepared in requests.items():
            for clients in CLIENTS:
                for server in (batching, single):
                    load, cpu_us = measure_run(server, prepared, clients, seconds)
                    rows.append(Row(kind, server is batching, load, cpu_us))
                    print(row_text(rows[-1]), flush=True)
        codes = [batching.stop(), single.stop()]
    return sorted(rows, key=lambda row: not row.batching), codes


def measure_run(
    server: ServiceProcess, requests: list[Request], clients: int, seconds: float
) -> tuple[Load, float]:
    """One run after a warm-up: the load, and the server's CPU µs per answered request."""
    run_load(server.address, requests, clients, MAX_REQUESTS, WARMUP_SECONDS)
    cpu = server.cpu_seconds()
    load = run_load(server.address, requests, clients, MAX_REQUESTS, seconds)
    return load, (server.cpu_seconds() - cpu) / max(load.answered, 1) * 1e6


def soak(requests: dict[str, list[Request]], seconds: float) -> Soak:
    """SOAK_CLIENTS clients of mixed requests for `seconds`; the server's RSS each second."""
    kinds = list(requests.values())
    mixed = [kind[index % len(kind)] for index in range(DISTINCT) for kind in kinds]
    samples: list[float] = []
    with service("--quiet") as server:
        done = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(server, samples, done))
        sampler.start()
        try:
            load = run_load(server.address, mixed, SOAK_CLIENTS, MAX_REQUESTS, seconds)
        finally:
            done.set()
            sampler.join()
        code = server.stop()
    return Soak(load, samples, code)


def _sample_rss(server: ServiceProcess, samples: list[float], done: threading.Event) -> None:
    while not done.wait(1.0):
        samples.append(server.rss_mib())


def in_process(images: np.ndarray) -> dict[str, float]:
    """Predictor in this process, with the service's onnxruntime threads: batch-1 calls and
    larger batches, images/s."""
    predictor = Predictor(threads=DEFAULT_MODEL_THREADS)
    one = np.ascontiguousarray(images[:1])
    figures = {
        "batch 1 latency (µs, median)": latency_us(lambda: predictor.predict(one))["median_us"]
    }
    for batch in (1, 64, 256):
        figures[f"batch {batch} (images/s)"] = throughput(predictor.predict_uint8, images, batch)
    return figures


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    images = load_mnist(PROJECT / "data" / "mnist.npz").x_test
    requests = prepare(images)
    reference = in_process(images)
    print(reference, flush=True)
    rows, codes = measure(requests, args.seconds)
    soaked = soak(requests, args.soak_seconds)
    print(f"soak: {row_text(Row('mixed', True, soaked.load))}", flush=True)
    context = {
        "date": datetime.date.today().isoformat(),
        "command": " ".join(["python -m benchmarks.serve_bench", *sys.argv[1:]]),
        "machine": machine(),
        "load": (load_before, os.getloadavg()[0]),
        "versions": {
            name: metadata.version(name)
            for name in ("starlette", "uvicorn", "onnxruntime", "numpy", "pillow", "tritonclient")
        },
        "seconds": args.seconds,
        "soak_seconds": args.soak_seconds,
    }
    text = render(rows, reference, soaked, [*codes, soaked.returncode], context)
    write_section(args.output, SECTION, text)
    print(f"wrote the '{SECTION}' section of {args.output}")


if __name__ == "__main__":
    main()
