#!/usr/bin/env bash
# `make compat`: the unit tests that drive ansible-playbook, on every ansible-core release that
# meta/runtime.yml accepts besides the pinned one (requirements.txt), each with the Python it needs and
# the `ansible` package of its own release (its collections: community.general, ansible.posix, ...).
#
# Lanes are CORE:ANSIBLE:PYTHON; a venv per lane in .cache/compat/<core>, reused while its pins are
# unchanged. The Python is found on PATH (python3.12) or under pyenv; a controller without it is told so.
# Usage: run.sh [LANE...]   (default: the lanes below)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# ansible-core 2.20 and 2.21 (the supported releases after the pinned 2.19) need Python >= 3.12 on the
# controller; each lane runs on one of the two newer Pythons so that both are covered.
LANES=${*:-2.20.10:13.8.0:3.12 2.21.6:14.5.0:3.13}
TESTS=(tests/unit/roles/test_bad_inputs.py tests/unit/test_inventories.py tests/unit/plugins/action/test_app_server.py)

find_python() {
    # A working python$1 (3.12): on PATH (a pyenv shim that is not active fails to run, so each
    # candidate is tried), then pyenv's versions.
    local candidate
    for candidate in "$(command -v "python$1" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/"python$1"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

pytest_pin=$(grep -h '^pytest==' requirements-test.txt)
for lane in $LANES; do
    IFS=: read -r core ansible py <<<"$lane"
    python=$(find_python "$py") || {
        echo "ERROR: ansible-core $core needs Python $py on the controller; no working python$py was found" \
             "on PATH or under pyenv (Debian 13 has python3.13; Debian 12 has none newer than 3.11)." >&2
        exit 1
    }
    venv=.cache/compat/$core
    pins="$core ansible==$ansible $("$python" -V) $pytest_pin"
    if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
        echo "==> Creating $venv (ansible-core $core, ansible $ansible, $("$python" -V))"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$core" "ansible==$ansible" "$pytest_pin"
        echo "$pins" > "$venv/.pins"
    fi
    echo "==> ansible-core $core ($("$python" -V)): ${TESTS[*]}"
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "${TESTS[@]}"
done
