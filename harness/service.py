"""`mnist-edge serve` as a real process on a free loopback port: started, waited for until
it says it is ready, its memory read, and stopped with SIGTERM as a service manager would.
Used by `make bench-serve` and by the tests that need a real process."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
READY = re.compile(r"serving .* on http://([\d.]+):(\d+)")
START_SECONDS = 60.0  # a cold start on a busy machine
STOP_SECONDS = 60.0


@dataclass
class ServiceProcess:
    process: subprocess.Popen
    address: tuple[str, int]
    log: Path  # its stderr
    returncode: int | None = None  # once stopped

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"

    def rss_mib(self) -> float:
        """Resident memory now, in MiB (Linux)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB: KiB
        raise RuntimeError("no VmRSS in /proc: not Linux?")

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far, all threads (Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait for the exit code (killed after STOP_SECONDS)."""
        self.process.send_signal(sig)
        try:
            self.returncode = self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.returncode = self.process.wait()
        return self.returncode


def serve_command() -> list[str]:
    """The installed entry point beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("mnist-edge")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-c", "from mnist_edge.cli.app import main; main()", "serve"]


@contextmanager
def service(*options: str, cwd: Path | None = None) -> Iterator[ServiceProcess]:
    """`mnist-edge serve --port 0 OPTIONS` running until the block ends (then SIGTERM)."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder, "stderr.log")
        with open(log, "wb") as stderr:
            command = [*serve_command(), "--host", HOST, "--port", "0", *options]
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=cwd
            )
        running = ServiceProcess(process, _wait_ready(process, log), log)
        try:
            yield running
        finally:
            if running.returncode is None:
                running.stop()


def _wait_ready(process: subprocess.Popen, log: Path) -> tuple[str, int]:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = READY.search(log.read_text(errors="replace"))
        if found:
            return found.group(1), int(found.group(2))
        if process.poll() is not None:
            raise RuntimeError(f"mnist-edge serve exited {process.returncode}: {log.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"mnist-edge serve not ready within {START_SECONDS:.0f} s")
