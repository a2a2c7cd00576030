"""Freed memory given back to the system, every few seconds.

- Python frees an object caught in a reference cycle (a connection and its transport, a
  request and its protocol) only when its collector runs, and it runs as new objects are
  made: a service that goes quiet after a burst would keep the burst's garbage for good.
- glibc's allocator keeps what the service has freed (large bodies, many connections'
  buffers) in its heaps for reuse, often all of it: the resident size stays at its peak.
  `malloc_trim(0)` returns every free page of every heap. Elsewhere than glibc (musl,
  macOS) there is no such call and only the collector runs.

What exists once the service has started (modules, the model, the app: 40,000 objects)
lives as long as it does: it is moved out of the collector's sight (`gc.freeze`), so that a
full collection only looks at what requests made since: a millisecond or so, where it took
20 ms of CPU with all of it.
"""

import ctypes
import functools
import gc
from collections.abc import Callable

TRIM_SECONDS = 2.0  # how often freed memory is given back


def started() -> None:
    """The service has started: what exists now stays; the collector stops looking at it."""
    gc.collect()
    gc.freeze()


def give_back() -> None:
    """Collect the garbage in reference cycles, then return the allocator's free pages to
    the system (glibc)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the C library's, if glibc
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
