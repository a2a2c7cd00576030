"""Small image files decoded in worker processes, so that a folder of them uses every core.

A 28x28 PNG costs ~22 µs to open, check and preprocess, most of it Python holding the GIL:
threads only take turns on one core. Worker processes each have their own interpreter.
Each is this module run as a program (`python -P -m mnist_edge.runtime.decoders`), which
imports the decoder and nothing else (no model, no onnxruntime, not the caller's program),
and answers groups of files sent down its stdin with their items, decoded exactly as
in-process (runtime/decode.py): every record, limit and error message is the same whichever
process decodes a file.

No worker outlives the run. Each has its own session, so Ctrl-C at a terminal reaches only
the command, which closes the workers' pipes as it stops; and a worker leaves as soon as its
stdin ends, which also happens when the command is killed (SIGTERM, SIGKILL) and could not
close it. A worker that dies (the kernel's OOM killer, a crash in a decoder) costs the files
it held an error each; the run goes on with a new one.
"""

import os
import pickle
import struct
import subprocess
import sys
import threading
import warnings
from collections import deque
from concurrent.futures import Future
from typing import IO, Any

import numpy as np

from mnist_edge.core.contract import IMAGE_SIZE
from mnist_edge.runtime.decode import decode_file, image_name
from mnist_edge.runtime.records import Item
from mnist_edge.runtime.sources import ImageFile

HEADER = struct.Struct("<Q")  # each message: its length, then a pickle
STOP_SECONDS = 5.0  # a worker still decoding when the run ends gets this long to finish
READY = "ready"  # a worker's first message
STOPPED = "not decoded: its decoding process stopped ({})"


class ProcessDecoder:
    """`submit(files)`: a Future of the files' items, in order, decoded in one of `workers`
    processes (started when first needed). `close()` stops them; so does a `with` block."""

    def __init__(self, workers: int) -> None:
        self._workers: list[_Worker | None] = [None] * workers
        self._turn = 0
        self._all_ready = False  # once true, stays true: a replacement's groups wait for it

    def __enter__(self) -> "ProcessDecoder":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        """Start every worker now (each takes ~0.2 s to import the decoder), not when it is
        first needed."""
        for slot in range(len(self._workers)):
            self._worker(slot)

    def ready(self) -> bool:
        """Whether every worker has started (a group sent earlier waits for its worker)."""
        if not self._all_ready:
            self._all_ready = all(
                worker is not None and worker.ready.is_set() for worker in self._workers
            )
        return self._all_ready

    def submit(self, files: list[ImageFile]) -> "Future[list[Item]]":
        """The items of `files`; the Future never fails: files a worker did not answer for
        become error items."""
        self._turn += 1
        return self._worker(self._turn % len(self._workers)).submit(files)

    def _worker(self, slot: int) -> "_Worker":
        worker = self._workers[slot]
        if worker is None or not worker.alive:
            worker = self._workers[slot] = _Worker()
        return worker

    def close(self) -> None:
        """Stop the workers: those still decoding finish their group first."""
        workers = [worker for worker in self._workers if worker is not None]
        for worker in workers:
            worker.end_input()
        for worker in workers:
            worker.wait()
        self._workers = [None] * len(self._workers)
        self._all_ready = False


class _Worker:
    """One worker process, its requests answered in order by a reader thread."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-P", *_warning_options(), "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # no BLAS threads spinning at start
        )
        self.alive = True
        self.ready = threading.Event()  # set when it has imported the decoder
        self._waiting: deque[tuple[Future, list[ImageFile]]] = deque()
        self._lock = threading.Lock()  # between submit and the reader ending
        threading.Thread(target=self._read, daemon=True).start()

    def submit(self, files: list[ImageFile]) -> "Future[list[Item]]":
        future: Future[list[Item]] = Future()
        with self._lock:
            if self.alive:
                self._waiting.append((future, files))
        try:
            assert self.process.stdin is not None
            _send(self.process.stdin, [(os.fspath(file.path), file.label) for file in files])
        except OSError:  # it died; the reader answers for every file it held
            pass
        with self._lock:
            if not self.alive and not future.done():  # it died before this was queued
                future.set_result(_not_decoded(files, self.process))
        return future

    def end_input(self) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
        except OSError:
            pass

    def wait(self) -> None:
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            if _receive(self.process.stdout) == READY:
                self.ready.set()
            while (items := _receive(self.process.stdout)) is not None:
                with self._lock:
                    future, _ = self._waiting.popleft()
                future.set_result(_unpacked(items))
        except (OSError, EOFError, pickle.UnpicklingError):
            pass
        with self._lock:
            self.alive = False
            waiting, self._waiting = self._waiting, deque()
        self.process.wait()  # reaped here, whoever replaces it; its exit status says why
        for future, files in waiting:
            future.set_result(_not_decoded(files, self.process))


def _warning_options() -> list[str]:
    """The caller's way with warnings, for a worker: a command that ignores them all (the
    CLI: each problem is in its input's record) wants none from its workers either."""
    first = warnings.filters[0] if warnings.filters else None
    if first is not None and first[0] == "ignore" and first[1] is None and first[2] is Warning:
        return ["-W", "ignore"]
    return [f"-W{option}" for option in sys.warnoptions]


def _not_decoded(files: list[ImageFile], process: subprocess.Popen) -> list[Item]:
    code = process.poll()
    why = STOPPED.format(
        f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    )
    return [Item(image_name(file), None, why, file.label) for file in files]


def _send(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("message cut short")
    return pickle.loads(data)


def _packed(items: list[Item]) -> tuple[list[str], list[str | None], list[int | None], bytes]:
    """Items as their names, errors and labels, and the pixels of those decoded in one block:
    a few objects to pickle, not an array per item."""
    images = [item.image for item in items if item.image is not None]
    pixels = np.stack(images).tobytes() if images else b""
    return [i.source for i in items], [i.error for i in items], [i.label for i in items], pixels


def _unpacked(message: tuple[list[str], list[str | None], list[int | None], bytes]) -> list[Item]:
    """The items of `_packed`, each decoded image a view of the one block."""
    sources, errors, labels, pixels = message
    images = iter(np.frombuffer(pixels, np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE))
    return [
        Item(source, next(images) if error is None else None, error, label)
        for source, error, label in zip(sources, errors, labels, strict=True)
    ]


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """A worker's life: say it is ready, then decode each group of files that arrives (their
    paths and labels), until its input ends."""
    _send(answers, READY)
    while (files := _receive(requests)) is not None:
        items = [decode_file(path, label) for path, label in files]
        _send(answers, _packed(items))


if __name__ == "__main__":
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the answers
    try:
        serve(sys.stdin.buffer, answers)
    except BrokenPipeError:  # the command is gone
        pass
