"""Dynamic batching: the images of concurrent requests go through the model in one call.

A model call costs about the same for 1 image as for dozens (its fixed overhead dominates
at this size), so under load merging requests multiplies throughput. Requests queue up
while the model runs; the next call takes as many as fit in `max_batch` images. When other
requests are still being read or decoded (`coming`), it waits up to `max_delay` for them;
when none are, it runs at once, so a lone client never pays the delay. The model runs in
one thread of its own, never on the event loop.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from mnist_edge.runtime.predictor import Predictor


@dataclass(frozen=True)
class Waiting:
    images: np.ndarray  # (n, 28, 28) uint8
    future: asyncio.Future  # resolves to the (n, 10) probabilities


class Batcher:
    def __init__(
        self,
        predictor: Predictor,
        max_batch: int,
        max_delay_ms: float,
        observe: Callable[[int, float], None] = lambda images, seconds: None,
    ) -> None:
        self.predictor = predictor
        self.max_batch = max_batch
        self.max_delay = max_delay_ms / 1000
        self.observe = observe  # called with (images, seconds) after each model call
        self._queue: deque[Waiting] = deque()
        self._coming = 0  # requests being read or decoded, which will soon join the queue
        self._changed = asyncio.Event()
        self._model_thread: ThreadPoolExecutor | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="model")
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._model_thread is not None:  # a model call in progress cannot be interrupted
            self._model_thread.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @contextlib.contextmanager
    def coming(self) -> Iterator[None]:
        """Around a request's reading and decoding: the batcher may wait for it."""
        self._coming += 1
        try:
            yield
        finally:
            self._coming -= 1
            self._changed.set()

    async def predict(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (n, 10) for uint8 images (n, 28, 28), computed with others'."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append(Waiting(images, future))
        self._changed.set()
        return await future

    async def _serve(self) -> None:
        while True:
            batch = await self._gather()
            await self._run(batch)

    async def _gather(self) -> list[Waiting]:
        """The next model call's requests: at least one, at most max_batch images (a larger
        request goes alone)."""
        batch: list[Waiting] = []
        deadline = None
        while True:
            full = self._take(batch)
            if batch and (full or self._coming == 0):
                return batch
            if batch:
                deadline = deadline or asyncio.get_running_loop().time() + self.max_delay
            self._changed.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                return batch

    def _take(self, batch: list[Waiting]) -> bool:
        """Move queued requests into `batch` while they fit; True when it is full."""
        count = sum(len(waiting.images) for waiting in batch)
        while self._queue:
            waiting = self._queue[0]
            if waiting.future.done():  # its request timed out or went away
                self._queue.popleft()
                continue
            if batch and count + len(waiting.images) > self.max_batch:
                return True
            batch.append(self._queue.popleft())
            count += len(waiting.images)
        return count >= self.max_batch

    async def _run(self, batch: list[Waiting]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        arrays = [waiting.images for waiting in batch]
        try:
            probabilities = await loop.run_in_executor(self._model_thread, self._call, arrays)
        except Exception as error:  # the model failed: every waiting request learns why
            for waiting in batch:
                if not waiting.future.done():
                    waiting.future.set_exception(error)
            return
        self.observe(len(probabilities), loop.time() - started)
        start = 0
        for waiting in batch:
            stop = start + len(waiting.images)
            if not waiting.future.done():
                waiting.future.set_result(probabilities[start:stop])
            start = stop

    def _call(self, arrays: list[np.ndarray]) -> np.ndarray:
        """In the model thread: the requests' images in one call (the Predictor chunks it)."""
        return self.predictor.predict_uint8(
            arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        )
