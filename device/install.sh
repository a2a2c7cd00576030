#!/bin/sh
# Installs mnist-edge from this folder into a virtual environment, with no network.
#
#   sh install.sh [VENV]        VENV defaults to ~/mnist-edge
#   PYTHON=python3.11 sh install.sh /opt/mnist-edge
#
# This bundle is for @PLATFORM@ and Python @PYTHON_VERSION@ (made by `make wheelhouse`).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-$HOME/mnist-edge}
python=${PYTHON:-python3}

fail() {
    echo "install.sh: $*" >&2
    exit 1
}

sha256() {  # GNU coreutils on Linux, Perl's shasum on macOS
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

command -v "$python" >/dev/null 2>&1 ||
    fail "$python not found: install Python @PYTHON_VERSION@, or name it with PYTHON=..."
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$version" = "@PYTHON_VERSION@" ] ||
    fail "this bundle is for Python @PYTHON_VERSION@ but $python is $version: make one with 'make wheelhouse PYTHON=$version'"
machine=$(uname -m)
case "$machine" in
@MACHINES@) ;;
*) fail "this bundle is for @PLATFORM@ but this machine is $(uname -s) $machine" ;;
esac

if ! (cd "$here" && sha256 --check --status SHA256SUMS); then
    (cd "$here" && sha256 --check SHA256SUMS 2>&1 | grep -v ': OK$' >&2) || true
    fail "files in $here are damaged or missing (above): copy the bundle again"
fi

"$python" -m venv "$venv" ||
    fail "could not create a virtual environment in $venv (Debian, Raspberry Pi OS: apt install python3-venv)"
# Only this folder: no index, no pip.conf, no PIP_* variables of the machine.
PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install --isolated --no-index \
    --disable-pip-version-check --quiet --find-links "$here" "@REQUIREMENT@" ||
    fail "pip could not install @REQUIREMENT@ from $here"
"$venv/bin/mnist-edge" info >/dev/null || fail "installed, but '$venv/bin/mnist-edge info' fails"
echo "installed @REQUIREMENT@ in $venv: try $venv/bin/mnist-edge predict IMAGE..."
