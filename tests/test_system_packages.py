"""`make test` says in its first seconds which Debian packages it lacks, and how to get them."""

import os
import subprocess
import time

from tests.conftest import ROOT

SCRIPT = ROOT / ".ci" / "system-packages"


def fake_dpkg(folder, missing: set[str]) -> dict[str, str]:
    """An environment whose `dpkg -s NAME` fails for the names in `missing`."""
    dpkg = folder / "dpkg"
    absent = " ".join(sorted(missing))
    dpkg.write_text(
        f'#!/bin/sh\nfor name in {absent}; do [ "$2" = "$name" ] && exit 1; done\nexit 0\n'
    )
    dpkg.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def test_the_check_names_what_is_missing_in_one_line(tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(SCRIPT), "--check", "--for", "test"],
        env=fake_dpkg(tmp_path, {"fonts-liberation2", "chromium"}),
        capture_output=True,
        text=True,
    )
    print(f"checked in {time.monotonic() - started:.2f} s")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "missing Debian packages: chromium fonts-liberation2; "
        "install them with: sudo bash .ci/system-packages --for test\n"
    )


def test_nothing_missing_is_silent(tmp_path):
    result = subprocess.run(
        ["bash", str(SCRIPT), "--check", "--for", "test"],
        env=fake_dpkg(tmp_path, set()),
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_make_test_checks_before_anything_else():
    """The check is the first prerequisite of `make test`: before lint, the web build and
    pytest, so that it fails in seconds, not after minutes."""
    rule = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("test:")
    )
    assert rule.split(":")[1].split()[0] == "system-packages"
