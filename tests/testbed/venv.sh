#!/usr/bin/env bash
# Makes the project venv (.venv) from the pinned requirements, or reuses it while the pins, and the
# Python it is made with, are unchanged.
#
# The venv itself lives once per machine and per pin set, in $FLASKSTACK_VENVS (default
# ~/.cache/flaskstack-venvs/<hash of the pins and the Python>), and .venv is a link to it: a clean clone
# (CI) with the same pins reuses it instead of installing everything again (a few minutes). A venv
# cannot be moved, so it is made where it stays; two checkouts making the same one take turns (a lock).
# VENV=<dir> (not .venv) makes a venv in that directory instead, as before.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
venv=${VENV:-.venv}
python=${PYTHON:-python3}
want=$( { cat requirements.txt requirements-test.txt; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)

ready() { [ -f "$1/.requirements.sha256" ] && [ "$(cat "$1/.requirements.sha256")" = "$want" ] && [ -x "$1/bin/python" ]; }

make_venv() {
    echo "==> Creating $1 from requirements-test.txt (first time: about 1-3 minutes)"
    rm -rf "$1"
    "$python" -m venv "$1"
    "$1/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$1/bin/python" -m pip install -q --disable-pip-version-check -r requirements-test.txt
    echo "$want" > "$1/.requirements.sha256"
}

if [ "$venv" != .venv ]; then
    if ready "$venv"; then
        echo "==> Reusing $venv (pins unchanged)"
        exit 0
    fi
    make_venv "$venv"
else
    store=${FLASKSTACK_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/flaskstack-venvs}
    target=$store/${want:0:16}
    mkdir -p "$store"
    if ! ready "$target"; then
        exec 9>"$store/.lock"
        flock 9
        ready "$target" || make_venv "$target"
        exec 9>&-
    fi
    # .venv: the link to it (an old real directory from before is replaced).
    if [ "$(readlink .venv 2>/dev/null || true)" = "$target" ]; then
        echo "==> Reusing .venv (pins unchanged: $target)"
        exit 0
    fi
    rm -rf .venv
    ln -s "$target" .venv
fi
echo "==> $venv ready (ansible-core $("$venv/bin/python" -c "from ansible.release import __version__ as v; print(v)"), $(readlink -f "$venv"))"
