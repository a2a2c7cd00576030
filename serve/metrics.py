"""What /metrics exposes, in Prometheus's text format (prometheus_client), per app: requests
by endpoint and status, their latency, the model calls' batch sizes and time, images
predicted, requests in progress, and how long the model took to load."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PREFIX = "mnist_edge"
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            f"{PREFIX}_requests",
            "HTTP requests answered",
            ["endpoint", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_seconds",
            "Time from a request's arrival to its answer",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            f"{PREFIX}_requests_in_progress", "Requests being served now", registry=registry
        )
        self.batch_images = Histogram(
            f"{PREFIX}_batch_images",
            "Images per model call",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.model_seconds = Histogram(
            f"{PREFIX}_model_call_seconds",
            "Time of one model call, batching included",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.images = Counter(f"{PREFIX}_images_predicted", "Images predicted", registry=registry)
        self.model_load = Gauge(
            f"{PREFIX}_model_load_seconds", "Time taken to load the model", registry=registry
        )

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def model_call(self, images: int, seconds: float) -> None:
        self.batch_images.observe(images)
        self.model_seconds.observe(seconds)
        self.images.inc(images)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
