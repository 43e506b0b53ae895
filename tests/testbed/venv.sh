#!/usr/bin/env bash
# Creates the project venv (.venv) from the pinned requirements, or reuses it when the pins,
# and the Python it was made with, did not change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
venv=${VENV:-.venv}
python=${PYTHON:-python3}
stamp="$venv/.requirements.sha256"
want=$( { cat requirements.txt requirements-test.txt; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    echo "==> Reusing $venv (pins unchanged)"
    exit 0
fi
echo "==> Creating $venv from requirements-test.txt (first time: about 1-2 minutes)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-test.txt
echo "$want" > "$stamp"
echo "==> $venv ready (ansible-core $("$venv/bin/python" -c "from ansible.release import __version__ as v; print(v)"))"
