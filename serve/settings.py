"""What an operator can set for the service, with its defaults (the `serve` command maps
its options onto this)."""

from dataclasses import dataclass
from pathlib import Path

from mnist_edge.core.limits import default_decode_threads

MIB = 2**20
DEFAULT_PORT = 8000
DEFAULT_MAX_BATCH = 256  # images in one model call: ~2 ms of work here, cache-resident
DEFAULT_MAX_DELAY_MS = 2.0
DEFAULT_MAX_BODY = 16 * MIB
DEFAULT_TIMEOUT = 30.0  # seconds: a 50-megapixel PNG decodes in a few on a small board
DEFAULT_MAX_REQUESTS = 64  # requests served at once; more wait for a place, up to the timeout
DEFAULT_MAX_CONNECTIONS = 256  # open at once; one more closes the one waiting longest
BUFFERED_BODIES = 4  # default bytes of bodies held at once, all requests together: 4 x max_body
# onnxruntime threads for the service: the event loop and the decoders need the other cores,
# and extra onnxruntime threads spin between calls (measured here: nearly twice the CPU
# time per request with 2 threads, and lower throughput under load)
DEFAULT_MODEL_THREADS = 1


def checkout_page() -> Path | None:
    """The browser page as `make web` builds it into web/dist of the source checkout this copy
    runs from (an editable install) or was installed from (`pip install '.[serve]'`), in
    either order; None when it has not been built."""
    from mnist_edge.core.extras import source_checkout

    here = Path(__file__).resolve().parents[1]  # the checkout itself, when editable
    for root in dict.fromkeys(root for root in (here, source_checkout()) if root is not None):
        page = root / "web" / "dist"
        if (page / "index.html").is_file():
            return page
    return None


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port (the start-up line says which)
    max_batch: int = DEFAULT_MAX_BATCH  # images merged into one model call; 1 turns batching off
    max_delay_ms: float = DEFAULT_MAX_DELAY_MS  # longest wait for company while others arrive
    workers: int = 0  # decoding threads; 0: default_decode_threads()
    max_body: int = DEFAULT_MAX_BODY  # bytes of one request body, also once decompressed
    timeout: float = DEFAULT_TIMEOUT  # seconds for one request, from arrival to answer
    max_requests: int = DEFAULT_MAX_REQUESTS  # requests in progress at once
    max_connections: int = DEFAULT_MAX_CONNECTIONS  # connections open at once
    max_buffered: int = 0  # bytes of request bodies held at once, all together; 0: 4 x max_body
    static: Path | None = None  # a folder served at / (the browser page)
    quiet: bool = False  # no access log

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_body", "max_requests", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_delay_ms < 0 or self.timeout <= 0 or self.workers < 0:
            raise ValueError("max_delay_ms, workers must be >= 0 and timeout > 0")
        if 0 < self.max_buffered < self.max_body:
            raise ValueError("max_buffered must be at least max_body (a largest body must fit)")

    @property
    def buffered_bytes(self) -> int:
        return self.max_buffered or BUFFERED_BODIES * self.max_body

    @property
    def decode_workers(self) -> int:
        return self.workers or default_decode_threads()
