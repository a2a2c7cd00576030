"""The path of one request: read the body, parse or decode it, predict with the others in
the batcher, answer.

CPU work stays off the event loop: image decoding, and parsing or answering anything over
INLINE_BYTES, run in the worker pool. Smaller bodies (a tensor request of a few images) are
parsed in place: that takes microseconds, less than the hop to a thread would.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from mnist_edge.core.errors import ModelError
from mnist_edge.core.streams import say
from mnist_edge.runtime import catalog
from mnist_edge.runtime.pipeline import paired, unpredicted
from mnist_edge.runtime.predictor import Predictor, row_problems
from mnist_edge.runtime.records import Item, dumps, record
from mnist_edge.serve.batcher import Batcher
from mnist_edge.serve.metrics import Metrics
from mnist_edge.serve.protocol import (
    HEADER_LENGTH,
    MODEL_VERSION,
    InferRequest,
    ModelSpec,
    ProtocolError,
    infer_response,
    inflate,
    parse_infer,
)
from mnist_edge.serve.settings import Settings
from mnist_edge.serve.uploads import UploadError, decode_uploads

INLINE_BYTES = 64 * 1024
JSON_BYTES_PER_VALUE = 24  # a float written as JSON, to judge a response's size
RECORD_BYTES = 250  # a record written as JSON, likewise
ALIAS = "mnist"  # the model answers to this name too
Result = TypeVar("Result")
Body = Callable[[], Awaitable[bytes]]


class ModelFailure(RuntimeError):
    """The model gave no usable answer (not the client's fault: a 500)."""


class Inference:
    def __init__(self, predictor: Predictor, settings: Settings, metrics: Metrics) -> None:
        name = catalog.model_name(predictor.model_path)  # "cnn", as the command line says
        self.model = ModelSpec(name, predictor.input, predictor.output)
        self.settings = settings
        self.batcher = Batcher(
            predictor, settings.max_batch, settings.max_delay_ms, metrics.model_call
        )
        self._workers: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Start the workers and the batcher, and warm both up: the first request then
        costs what the others do (no decoder imports, no first-call allocations)."""
        self._workers = ThreadPoolExecutor(self.settings.decode_workers, "decode")
        self.batcher.start()
        loop = asyncio.get_running_loop()
        digit = await loop.run_in_executor(self._workers, _warm_up_decoding)
        try:
            await self.batcher.predict(digit[np.newaxis])
        except ModelError as error:  # serve anyway: every request will say it, with a 500
            say(f"warning: the model fails on a test digit: {error}")

    async def stop(self) -> None:
        """Stop the batcher and the workers, without waiting for a decode in progress (it
        cannot be interrupted; the process is ending)."""
        await self.batcher.stop()
        if self._workers is not None:
            self._workers.shutdown(wait=False, cancel_futures=True)

    @property
    def ready(self) -> bool:
        return self.batcher.running

    def check_model(self, name: str, version: str | None = None) -> None:
        if name not in (self.model.name, ALIAS):
            raise ProtocolError(
                f"unknown model {name[:80]!r}: this server has '{self.model.name}' (or '{ALIAS}')"
            )
        if version not in (None, MODEL_VERSION):
            raise ProtocolError(f"unknown version {version[:20]!r} of '{name}': it has 1")

    async def infer(self, read: Body, headers: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
        """An Open Inference Protocol request: the response's body and headers."""
        with self.batcher.coming():
            body = await read()
            compressed = headers.get("content-encoding", "identity") != "identity"
            size = None if compressed else len(body)  # a small gzip body can inflate a lot
            request: InferRequest = await self._work(size, self._parse, body, headers)
        try:
            probabilities = await self.batcher.predict(request.images)
        except ModelError as error:
            raise ModelFailure(str(error)) from None
        for index, problem in enumerate(row_problems(probabilities)):
            if problem is not None:
                raise ModelFailure(f"image {index}: {problem}")
        size = probabilities.size * JSON_BYTES_PER_VALUE
        return await self._work(size, infer_response, self.model, request, probabilities)

    async def predict_files(self, read: Body, content_type: str, top_k: int) -> tuple[int, bytes]:
        """Image files (the body, or a form's `file` parts): the status and JSON records,
        one per file as `predict --format jsonl` writes them; 400 when none was readable."""
        with self.batcher.coming():
            body = await read()
            items: list[Item] = await self._work(None, self._decode, body, content_type)
        images = [item.image for item in items if item.image is not None]
        try:
            probabilities = await self.batcher.predict(np.stack(images)) if images else None
        except ModelError as error:  # the server's fault: a 500, each file's record saying why
            records = [record(prediction) for prediction in unpredicted(items, str(error))]
            return 500, await self._work(None, _json, {"error": str(error), "records": records})
        records = [record(prediction, top_k) for prediction in paired(items, probabilities)]
        if images:
            return 200, await self._work(len(records) * RECORD_BYTES, _json, records)
        first = records[0]
        why = f"{first['source']}: {first['error']}" if len(records) == 1 else None
        why = why or f"none of the {len(records)} files could be read"
        return 400, await self._work(None, _json, {"error": why, "records": records})

    def _parse(self, body: bytes, headers: Mapping[str, str]) -> InferRequest:
        encoding = headers.get("content-encoding", "").strip().lower()
        body = inflate(body, encoding, self.settings.max_body)
        return parse_infer(body, headers.get(HEADER_LENGTH.lower()), self.model)

    @staticmethod
    def _decode(body: bytes, content_type: str) -> list[Item]:
        try:
            return decode_uploads(body, content_type)
        except UploadError as error:
            raise ProtocolError(str(error)) from None

    async def _work(
        self, size: int | None, function: Callable[..., Result], *args: object
    ) -> Result:
        """function(*args) here when its input is small (`size` bytes), else in a worker."""
        if size is not None and size < INLINE_BYTES:
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(self._workers, function, *args)


def _warm_up_decoding() -> np.ndarray:
    """Decode a generated PNG of a dot, as an upload would be; its 28x28 digit."""
    import io

    from PIL import Image

    picture = Image.new("L", (28, 28))
    picture.putpixel((14, 14), 255)
    png = io.BytesIO()
    picture.save(png, format="PNG")
    item = decode_uploads(png.getvalue(), "image/png")[0]
    if item.image is None:
        raise RuntimeError(f"the decoder cannot read a generated PNG: {item.error}")
    return item.image


def _json(payload: object) -> bytes:
    return dumps(payload).encode()
