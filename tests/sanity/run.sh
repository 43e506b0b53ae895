#!/usr/bin/env bash
# make sanity: `ansible-test sanity` with the pinned ansible-core of the project venv, offline but for PyPI.
#
# - ansible-test needs the collection at .../ansible_collections/flaskstack/deploy and resolves the
#   working directory through symlinks, so the .cache/collections link cannot be used: the files git
#   knows (tracked and new, not ignored) are copied to $SANITY_ROOT, which is its own (empty) git
#   repository so that ansible-test lists exactly those files (and not the checkout's, which ignores .cache).
# - --venv --python <the venv's version>: one Python; ansible-test makes its venvs from PyPI. Its
#   delegation venv lives in $SANITY_ROOT/tests/output (kept between runs, whichever checkout ran them); the
#   venv of each sanity test is cached by ansible-test itself in ~/.ansible/test/venv.
# - Every such venv is bootstrapped with a get-pip script from ci-files.testing.ansible.com, which
#   cannot be reached: tests/sanity/get_pip.py stands in for it, in ansible-test's own cache.
# Extra arguments go to ansible-test (e.g. `tests/sanity/run.sh --test pylint`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
checkout=$PWD
venv=${VENV:-.venv}
case $venv in /*) ;; *) venv=$checkout/$venv ;; esac
python=$venv/bin/python
# Outside the checkout, one per machine: a clean clone (CI) reuses the delegation venv of the last run
# instead of making it again (a few minutes). Two checkouts take turns (the lock).
cache=${XDG_CACHE_HOME:-$HOME/.cache}/flaskstack-sanity
root=${SANITY_ROOT:-$cache/ansible_collections/flaskstack/deploy}
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8

read -r version pip_version < <("$python" - <<'EOF'
import sys
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import get_venv_packages

version = '%d.%d' % sys.version_info[:2]
print(version, get_venv_packages(NativePythonConfig(version=version, path=sys.executable))['pip'])
EOF
)

# The stand-in get-pip, unless a real one was downloaded there (ours carries its own docstring).
get_pip=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -f "$get_pip" ] || grep -q 'Offline stand-in for the get-pip script' "$get_pip"; then
    mkdir -p "$(dirname "$get_pip")"
    cp tests/sanity/get_pip.py "$get_pip"
fi

# A fresh copy of the tree; .git and tests/output (ansible-test's results and delegation venv) stay.
mkdir -p "$root"
find "$root" -mindepth 1 -maxdepth 1 ! -name .git ! -name tests -exec rm -rf {} +
if [ -d "$root/tests" ]; then
    find "$root/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' path; do if [ -e "$path" ] || [ -L "$path" ]; then printf '%s\0' "$path"; fi; done \
    | tar --null --files-from=- -cf - | tar -xpf - -C "$root"
if [ ! -d "$root/.git" ]; then
    git -C "$root" init -q
fi

cd "$root"
exec "$venv/bin/ansible-test" sanity --venv --python "$version" "$@"
