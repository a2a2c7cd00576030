"""The cluster recipe of docs/cluster.md, run as written on this machine: a head and a second node
started with `ray start`, one CPU each, and the driver's `mnist-edge predict --engine ray
--ray-address`. What it proves: the records equal the local engine's on the same inputs; Ray's
own task timeline shows batches predicted on both nodes; a driver without the token, or with
a wrong one, gets one line naming what to set; `ray stop` leaves nothing running.

The recipe is the one ```sh block (README.md or docs/) that starts a head. Each machine's
commands run in bash as written, with their own HOME, and only these substitutions: HEAD ->
127.0.0.1, TOKEN -> the token the head printed, /shared -> a temporary folder, and each `ray
start` line gets --node-ip-address 127.0.0.1, a --temp-dir of its own and --num-cpus 1.

All of it runs in a network and process namespace of its own (`unshare`: root, as in CI).
Ray 2.60 turns --node-ip-address 127.0.0.1 into the machine's outward address and listens on
every interface, and `ray stop` stops every Ray process of the machine; in the namespace the
loopback is the only interface, port 6379 is free, and `ray stop` sees only this cluster.
Killing the namespace's first process ends whatever is left, even when a test fails.
"""

import ctypes
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_edge.scale.processes import children
from tests.conftest import ROOT
from tests.inputs import make_inputs
from tests.test_scale import assert_same_records, pids_using, records, without_ray_variables

pytestmark = pytest.mark.slow
LOOPBACK = "127.0.0.1"
GOOD_FILES = 2000  # eight batches of the default 256: enough for both nodes' actors
NODES = ("head", "node")  # the recipe's machines that run Ray
ROLES = {  # each machine's part of the recipe, by a command only it runs
    "head": "ray start --head",
    "node": "ray start --address",
    "driver": "mnist-edge predict",
    "stop": "ray stop",
}
BIN = Path(sys.executable).parent  # where `pip install` put `ray` and `mnist-edge`
SECONDS = 300  # for any one machine's commands
GRACE_SECONDS = 10.0  # for processes to be gone once told to stop
WRONG_TOKEN = "0" * 64
PR_SET_PDEATHSIG = 1  # prctl(2)
INIT = """
import os, subprocess, time
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
print("ready", flush=True)
while True:  # the namespace's first process: it reaps the daemons `ray start` leaves
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
"""
TIMELINE = """
import collections, json, logging, sys, ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level=logging.ERROR)
events = ray.timeline()  # Ray's record of every task, with the worker that ran it
batches = [e["tid"].removeprefix("worker:") for e in events if e["cat"].endswith(sys.argv[2])]
print(json.dumps(collections.Counter(batches)))
"""
BATCH_TASK = "(MapBatches(DigitReader)).submit"  # a batch given to a DigitReader actor


def recipe() -> dict[str, str]:
    """The recipe's commands for each role (its sections, split at blank lines)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    blocks = [
        block
        for page in pages
        for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.DOTALL)
        if ROLES["head"] in block
    ]
    assert len(blocks) == 1, f"{len(blocks)} recipes start a head; the test runs one"
    sections = blocks[0].strip().split("\n\n")
    found = {role: [s for s in sections if command in s] for role, command in ROLES.items()}
    assert all(len(parts) == 1 for parts in found.values()), found
    return {role: parts[0] for role, parts in found.items()}


def as_run(
    commands: str, token: str = "", shared: Path | None = None, ray_dir: Path | None = None
) -> str:
    """The recipe's commands with this machine's values in place of its placeholders."""
    text = re.sub(r"\bHEAD\b", LOOPBACK, commands)
    text = re.sub(r"\bTOKEN\b", token, text)
    if shared is not None:
        text = text.replace("/shared/", f"{shared}/")
    flags = f" --node-ip-address {LOOPBACK} --temp-dir {ray_dir} --num-cpus 1"
    lines = [line + flags if line.startswith("ray start") else line for line in text.split("\n")]
    return "\n".join(lines)


@dataclass(frozen=True)
class Machine:
    """A network and process namespace: the loopback only, and processes of its own."""

    init: int  # the pid of its first process, as this test sees it
    root: Path  # every machine's HOME and Ray's folders are below

    def run(self, command: list[str], home: str, **variables: str) -> subprocess.CompletedProcess:
        """`command` inside, with HOME (and TMPDIR) `root/home` and no RAY_ variable of ours."""
        folder = self.root / home
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        environment = without_ray_variables(
            HOME=str(folder), TMPDIR=str(folder / "tmp"), PATH=f"{BIN}:{os.environ['PATH']}"
        )
        environment.update(variables)
        enter = ["nsenter", f"--target={self.init}", "--net", "--pid", "--mount", "--"]
        return subprocess.run(
            [*enter, *command],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=environment,
            timeout=SECONDS,
        )

    def commands(self, script: str, home: str) -> subprocess.CompletedProcess:
        """The recipe's commands for one machine, in bash as a user would paste them."""
        return self.run(["bash", "-euc", script], home)

    def processes(self) -> list[int]:
        """The pids in the namespace, but its first."""
        space = os.readlink(f"/proc/{self.init}/ns/pid")
        return [pid for pid in _pids() if pid != self.init and _namespace(pid, "pid") == space]


@pytest.fixture(scope="module")
def machine() -> Iterator[Machine]:
    """The namespace, killed at the end with whatever runs in it."""
    root = Path(tempfile.mkdtemp(prefix="rc-", dir="/tmp"))  # Ray's socket paths are short
    unshare = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child"]
    process = subprocess.Popen(
        [*unshare, sys.executable, "-c", INIT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_killed_with_its_parent,  # the namespace too, should pytest be killed
    )
    try:
        if process.stdout.readline() != b"ready\n":
            process.kill()
            reason = process.communicate()[1].decode(errors="replace").strip()
            pytest.fail(f"no network namespace (unshare and ip need root): {reason}")
        ((init, _),) = children(process.pid)
        yield Machine(init, root)
    finally:
        process.kill()  # its first process gets SIGKILL, then all the others
        process.wait()
        left = _left(root)
        shutil.rmtree(root, ignore_errors=True)
        assert left == [], f"processes left behind: {left}"


@pytest.fixture(scope="module")
def token(machine: Machine) -> str:
    """The head and the second node started as the recipe says; the head's token."""
    steps = recipe()
    started = time.monotonic()
    head = machine.commands(as_run(steps["head"], ray_dir=machine.root / "head/ray"), "head")
    assert head.returncode == 0, head.stderr
    token = (machine.root / "head/.ray/auth_token").read_text().strip()
    assert head.stdout.startswith(token)  # what `ray get-auth-token` printed
    node_dir = machine.root / "node/ray"
    node = machine.commands(as_run(steps["node"], token, ray_dir=node_dir), "node")
    assert node.returncode == 0, node.stderr
    print(f"head and node started in {time.monotonic() - started:.1f} s")
    return token


@pytest.fixture(scope="module")
def shared(machine: Machine, x_test: np.ndarray) -> Path:
    """What the recipe calls /shared: scans/ of good and bad inputs, and predictions/."""
    scans = machine.root / "shared/scans"
    make_inputs(scans, x_test)  # broken images, arrays good and bad, a sub-folder
    for index in range(GOOD_FILES):
        Image.fromarray(x_test[index]).save(scans / f"digit-{index:05d}.png")
    return scans.parent


@pytest.fixture(scope="module")
def local_records(shared: Path) -> list[dict]:
    """The local engine's records of the same inputs (`predict -f jsonl -r`)."""
    from typer.testing import CliRunner

    from mnist_edge.cli.app import app

    result = CliRunner().invoke(app, ["predict", "-f", "jsonl", "-r", str(shared / "scans")])
    assert result.exit_code == 1  # the bad inputs
    return records(result.stdout)


@pytest.fixture(scope="module")
def driver(machine: Machine, token: str, shared: Path) -> subprocess.CompletedProcess:
    """The recipe's driver, run once on the cluster."""
    started = time.monotonic()
    result = machine.commands(as_run(recipe()["driver"], token, shared), "driver")
    print(f"the driver's command: {time.monotonic() - started:.1f} s")
    return result


def test_the_recipe_gives_the_local_engines_records(driver, shared, local_records):
    failed = sum("error" in line for line in local_records)
    summary = f"{len(local_records) - failed:,} of {len(local_records):,} inputs predicted"
    assert driver.returncode == 1 and driver.stdout == ""  # some inputs are bad
    assert driver.stderr == f"mnist-edge: {summary}, {failed} failed\n"
    shards = sorted((shared / "predictions").iterdir())
    ours = [line for shard in shards for line in records(shard.read_text())]
    order = {line["source"]: position for position, line in enumerate(local_records)}
    ours.sort(key=lambda line: order[line["source"]])  # shards come in no particular order
    largest = assert_same_records(ours, local_records)
    print(f"{len(ours)} records in {len(shards)} shards; largest difference {largest:.1e}")


def test_both_nodes_predicted_batches(machine: Machine, token: str, driver):
    """Ray's task timeline (the GCS's record) names the worker that ran each batch; each
    node's own log folder names the workers it started."""
    assert driver.returncode == 1
    variables = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    address = f"{LOOPBACK}:6379"
    timeline = machine.run(
        [sys.executable, "-c", TIMELINE, address, BATCH_TASK], "checker", **variables
    )
    assert timeline.returncode == 0, timeline.stderr
    batches = json.loads(timeline.stdout)
    per_node = {node: _batches_of(machine.root / node / "ray", batches) for node in NODES}
    print(f"batches per node: {per_node}")
    assert sum(per_node.values()) == sum(batches.values()) and all(per_node.values())


def test_nothing_listens_beyond_the_loopback(machine: Machine, token: str):
    interfaces = Path(f"/proc/{machine.init}/net/dev").read_text().split("\n")[2:]
    assert {line.split(":")[0].strip() for line in interfaces if line} == {"lo"}
    listening = _listening(machine.init)
    print(f"listening: {sorted(listening)}")
    assert (LOOPBACK, 6379) in listening  # the head, as the recipe says
    assert all(address in {LOOPBACK, "::1"} for address, _ in listening), listening
    network = os.readlink(f"/proc/{machine.init}/ns/net")
    assert all(_namespace(pid, "net") == network for pid in pids_using(machine.root))


def test_a_driver_without_the_token_gets_one_line(machine: Machine, token: str, shared: Path):
    steps = recipe()["driver"].split("\n")
    without = "\n".join(line for line in steps if not line.startswith("export"))
    wrong = as_run("\n".join(steps), WRONG_TOKEN, shared)
    shards = sorted((shared / "predictions").glob("*"))
    for script, refusal in [
        (as_run(without, "", shared), "requires a token: set RAY_AUTH_MODE=token and"),
        (wrong, "refused the token in RAY_AUTH_TOKEN: set"),
    ]:
        started = time.monotonic()
        result = machine.commands(script, "refused")
        print(f"refused in {time.monotonic() - started:.1f} s: {result.stderr.strip()}")
        assert result.returncode == 1 and result.stdout == ""
        line = f"mnist-edge: error: the Ray cluster at {LOOPBACK}:6379 {refusal} RAY_AUTH_TOKEN"
        assert result.stderr.startswith(line) and result.stderr.count("\n") == 1
    assert sorted((shared / "predictions").glob("*")) == shards  # nothing written


@pytest.mark.parametrize(
    "variables, reason",
    [
        ({"RAY_AUTH_MODE": "token"}, "couldn't find an authentication token"),
        ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/nowhere"}, "/nowhere"),
    ],
)
def test_a_driver_with_no_token_at_hand_gets_one_line(tmp_path, variables, reason):
    """Token mode, but no token to send: Ray's client would abort the process (a core dump
    and its C++ stack on stderr); the driver says what to set before it gets there."""
    environment = without_ray_variables(HOME=str(tmp_path), **variables)
    with socket.socket() as listening:  # a head, as far as the driver can tell before asking
        listening.bind((LOOPBACK, 0))
        listening.listen()
        address = f"{LOOPBACK}:{listening.getsockname()[1]}"
        command = [str(BIN / "mnist-edge"), "predict", "--engine", "ray", "--ray-address"]
        result = subprocess.run(
            [*command, address, "samples"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=environment,
            timeout=SECONDS,
        )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("mnist-edge: error: ") and result.stderr.count("\n") == 1
    assert reason in result.stderr and "set RAY_AUTH_TOKEN to the cluster's token" in result.stderr


def test_ray_stop_leaves_nothing(machine: Machine, token: str, shared: Path):
    """Last: the recipe's `ray stop` on each node, then a driver finds no cluster."""
    for node in NODES:
        stop = machine.commands(recipe()["stop"], node)
        assert stop.returncode == 0, stop.stderr
    deadline = time.monotonic() + GRACE_SECONDS
    while (left := machine.processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == []
    result = machine.commands(as_run(recipe()["driver"], token, shared), "driver")
    assert result.returncode == 1 and result.stdout == ""
    no_cluster = f"no Ray cluster answers at {LOOPBACK}:6379 (Connection refused)"
    assert result.stderr == f"mnist-edge: error: {no_cluster}\n"


def _batches_of(ray_dir: Path, batches: dict[str, int]) -> int:
    """How many of `batches` (worker id -> count) ran on workers logging under `ray_dir`."""
    logs = ray_dir / "session_latest" / "logs"
    workers = {path.name.split("-")[1] for path in logs.glob("worker-*")}
    return sum(count for worker, count in batches.items() if worker in workers)


def _listening(pid: int) -> set[tuple[str, int]]:
    """The TCP sockets listening in the network namespace of `pid`: (address, port)."""
    found = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().split("\n")[1:]:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A":  # LISTEN
                address, port = fields[1].split(":")
                found.add((_address(address), int(port, 16)))
    return found


def _address(hexadecimal: str) -> str:
    """An address as /proc/net/tcp writes it (32-bit words in host order) as text."""
    words = [bytes.fromhex(hexadecimal[i : i + 8])[::-1] for i in range(0, len(hexadecimal), 8)]
    address = ipaddress.ip_address(b"".join(words))
    return str(getattr(address, "ipv4_mapped", None) or address)


def _killed_with_its_parent() -> None:
    """In the child, before exec: SIGKILL when the process that started it ends."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").glob("[0-9]*")]


def _namespace(pid: int, kind: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def _left(root: Path) -> list[int]:
    """The processes using `root` once GRACE_SECONDS have passed."""
    deadline = time.monotonic() + GRACE_SECONDS
    while (left := pids_using(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left
