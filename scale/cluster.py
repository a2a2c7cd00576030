"""Ray for one run: a local instance on this machine's cores, or an existing cluster.

A local instance is started quietly (no dashboard, no usage statistics, its logs in a
temporary folder that is removed afterwards, its token in the run's environment) and
stopped, with all its processes (see processes.py), when the run ends, also on Ctrl-C or
SIGTERM. Connecting to a cluster (`ray start --head`, KubeRay; reach.py checks it first)
leaves the cluster running. Ray's core writes lines of its own to the process's standard
error; while Ray runs they go to a file in that folder, so stderr carries only the tool's.
"""

import contextlib
import io
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from mnist_edge.core.extras import require_extra
from mnist_edge.scale import processes

ENVIRONMENT = {  # set before Ray is imported; its processes inherit them
    "RAY_USAGE_STATS_ENABLED": "0",  # never report usage to anyone
    "RAY_ENABLE_AUTO_CONNECT": "0",  # no Ray call starts an instance of its own (a late
    # clean-up after the session's end would)
}
TEMP_PREFIX = "mnist-edge-ray-"
TEMP_ROOT_CHARS = 40  # Ray's socket paths, about 65 characters below its temp folder, must
# fit in 107 bytes: under a longer TMPDIR, /tmp is used
NATIVE_LOG = "native-stderr.log"
TOKEN_SOURCES = ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")  # where Ray looks before ~/.ray
RAY_DATA_BATCH_THREAD = "iter_threaded"  # ray/data/_internal/block_batching/util.py (2.60)
THREADS_SECONDS = 10.0  # for those of a run stopped early to see it and end
QUIET_INIT = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}


def require_ray() -> None:
    """MissingExtra, saying how to install it, unless Ray Data can be imported."""
    require_extra("scale", "--engine ray")


@contextlib.contextmanager
def ray_session(address: str | None = None, cpus: int | None = None) -> Iterator[None]:
    """Ray, connected for the duration: `address` of a cluster, else a local instance with
    `cpus` CPUs (default: this machine's). Within a program that already connected Ray
    (a notebook, a test), that connection is used and left as it is."""
    require_ray()
    os.environ.update(ENVIRONMENT)
    import ray

    if ray.is_initialized():
        quiet_data()
        yield
        return
    temp = _temp_folder()
    where = {"address": address} if address else {"num_cpus": cpus, "_temp_dir": str(temp)}
    if not address:
        _token_of_this_process()
    before, started, threads = processes.children(os.getpid()), [], None
    try:
        with native_stderr_to(temp / NATIVE_LOG):
            try:
                ray.init(**where, **QUIET_INIT)
                started = [p for p in processes.children(os.getpid()) if p not in before]
                threads = set(threading.enumerate())
                with stopped_by_sigterm():  # after Ray's core has set a handler of its own
                    quiet_data()
                    yield
            finally:
                if threads is not None:
                    _wait_for_threads_since(threads)
                started = processes.descendants(started)
                ray.shutdown()
                processes.end(started)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _wait_for_threads_since(before: set[threading.Thread]) -> None:
    """Ray Data's batch threads started during the session ended, for up to THREADS_SECONDS:
    one still fetching a block after `ray.shutdown()` makes Ray's core end the process at
    once, with exit code 1 and its temporary folder left (a run stopped by SIGTERM or a
    closed pipe while batches were in flight). Each ends after the block in its hands."""
    deadline = time.monotonic() + THREADS_SECONDS
    for thread in set(threading.enumerate()) - before:
        if thread.name == RAY_DATA_BATCH_THREAD:
            thread.join(max(0.0, deadline - time.monotonic()))


def _token_of_this_process() -> None:
    """A token for a local instance, made once per process and kept in its environment
    (Ray's processes inherit it, and Ray caches the first token it reads): without one, Ray
    (2.59 and later) makes a token and keeps it in the user's home, ~/.ray/auth_token. A
    token the user configured is used as it is."""
    if not any(os.environ.get(name) for name in TOKEN_SOURCES):
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)


def _temp_folder() -> Path:
    root = tempfile.gettempdir()
    return Path(
        tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=root if len(root) <= TEMP_ROOT_CHARS else "/tmp")
    )


def quiet_data() -> None:
    """No progress bars, execution plans or warnings from Ray Data on stderr."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def native_stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 (where native code writes) sent to `path`; Python's sys.stderr keeps
    the real standard error."""
    sys.stderr.flush()
    original = sys.stderr
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    if _is_fd2(original):  # the real stream, not a test's capture: rebuild it on the copy
        sys.stderr = io.TextIOWrapper(
            open(os.dup(saved), "wb"),  # closed with the wrapper
            encoding=original.encoding,
            errors=original.errors,
            line_buffering=True,
        )
    try:
        yield
    finally:
        if sys.stderr is not original:
            sys.stderr.close()
            sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM ends the run as Ctrl-C does, through the clean-up (when on the main thread)."""
    try:
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _is_fd2(stream: object) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


def cluster_cpus() -> int:
    """The CPUs of the cluster Ray is connected to."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))
