#!/usr/bin/env bash
# The test command: installs everything the tests need on Debian 12 (Python extras and Debian packages,
# including the real mail clients and Dovecot as a reference server) and runs the whole suite.
# Usage: bash tests/run.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: a C compiler and headers for the cffi build, real IMAP clients (mbsync, offlineimap),
# and dovecot-imapd, which tests start on loopback with their own temporary config as an oracle.
DEBS="gcc libffi-dev python3-dev python3-venv dovecot-imapd isync offlineimap3"
missing=""
for pkg in $DEBS; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    # Installing dovecot-imapd must not start a system service: a policy-rc.d refusing service starts is
    # in place for the duration of the install only.
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
    [ "$created_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
    # Belt and braces: if the package manager started the system Dovecot anyway, stop it.
    $SUDO service dovecot stop >/dev/null 2>&1 || true
fi

# A virtual environment keeps us off Debian's externally managed Python (PEP 668).
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# Non-editable: the tests run against the installed wheel, as a user would get it.
.venv/bin/pip install -q '.[test]'
# atheris is optional (it needs a clang runtime on some platforms); the fuzz targets fall back to hypothesis.
.venv/bin/pip install -q 'atheris>=2.3' || echo "atheris not installable here; fuzzing with hypothesis only"

.venv/bin/imapcore --version
ROOT=$(pwd)
# The tests run from an empty directory, so that neither pytest nor the subprocesses the tests start
# (`python -m imapcore serve`, real clients) can pick up the checkout instead of the installed package.
RUNDIR=$(mktemp -d)
trap 'rm -rf "$RUNDIR"' EXIT
PYTEST=("$ROOT/.venv/bin/python" -I -m pytest -c "$ROOT/pyproject.toml" --rootdir "$ROOT" -p no:cacheprovider)
# The pure-Python tokenizer must behave exactly like the C one: the syntax and protocol suites run with it
# first, then everything with the C tokenizer (the last summary line is the whole suite's).
(cd "$RUNDIR" && IMAPCORE_PURE_PYTHON=1 "${PYTEST[@]}" -q "$ROOT/tests/syntax" "$ROOT/tests/protocol")
# Everything the tests need is installed above, so this run allows no skip (tests/conftest.py).
(cd "$RUNDIR" && IMAPCORE_NO_SKIPS=1 "${PYTEST[@]}" "$ROOT/tests" "$@")
