"""Commands run as a user without privileges, for what only an ordinary user meets: a file or
folder they may not read, a home they may not write.

CI runs as root, whom no permission bit stops. The command keeps its user id but loses every
capability (util-linux's setpriv empties the bounding set, so that exec grants none back):
the kernel then checks permission bits as it does for any user. (Switching to `nobody` is
not an option where the interpreter lives under /root, mode 0700: nobody could start it.)
"""

import os
import shutil
import subprocess

import pytest

DROP = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"]
NO_CAPABILITIES = "0000000000000000"


def unprivileged(command: list[str]) -> list[str]:
    """`command`, to run without privileges (as it is, when the tests do not run as root).
    Fails the test, saying why, when privileges cannot be dropped: never a skip."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.fail("cannot drop privileges: setpriv is missing (Debian's util-linux has it)")
    probe = subprocess.run(
        [*DROP, "grep", "^CapEff:", "/proc/self/status"], capture_output=True, text=True
    )
    if probe.returncode != 0 or probe.stdout.split()[-1:] != [NO_CAPABILITIES]:
        why = probe.stderr.strip() or probe.stdout.strip()
        pytest.fail(f"cannot drop privileges with setpriv (it needs CAP_SETPCAP): {why}")
    return [*DROP, *command]
