#!/usr/bin/env bash
# The Galaxy route, as a user of the collection meets it: install the built tarball into an empty
# collections path and use the collection by FQCN from a project outside this source tree.
set -euo pipefail
tarball=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/flaskstack-galaxy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "==> Checking what the tarball carries"
listing=$(tar -tzf "$tarball")
forbidden=$(echo "$listing" | grep -E '^(\.venv|\.cache|\.ansible|\.git|molecule|build|tests/testbed)(/|$)|__pycache__|\.tar\.gz$' || true)
if [ -n "$forbidden" ]; then
    echo "ERROR: the tarball carries files it must not:" >&2
    echo "$forbidden" | head -n 20 >&2
    exit 1
fi
for required in MANIFEST.json FILES.json README.md LICENSE meta/runtime.yml playbooks/site.yml \
    playbooks/rolling_update.yml playbooks/rollback.yml playbooks/vars/stack.yml plugins/filter/upstream_servers.yml; do
    grep -qx "$required" <<<"$listing" || { echo "ERROR: the tarball lacks $required" >&2; exit 1; }
done

# From here on only the installed copy (and the ansible package's collections) can be found,
# as in a consumer project: not this checkout.
cp -r "$here/consumer" "$tmp/consumer"
export ANSIBLE_CONFIG="$tmp/consumer/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$tmp/collections"

echo "==> ansible-galaxy collection install $(basename "$tarball") (offline; dependencies from the ansible package)"
ansible-galaxy collection install --offline -p "$tmp/collections" "$tarball" >"$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log" >&2; exit 1; }
test -f "$tmp/collections/ansible_collections/flaskstack/deploy/MANIFEST.json"

echo "==> Running a consumer project's playbook that uses the collection by FQCN"
cd "$tmp/consumer"
grep -q "$tmp/collections" <<<"$(ansible-galaxy collection list flaskstack.deploy 2>/dev/null)" \
    || { echo "ERROR: flaskstack.deploy does not resolve to the installed tarball" >&2; exit 1; }
ansible-doc flaskstack.deploy.nginx_validate >/dev/null \
    || { echo "ERROR: ansible-doc cannot read flaskstack.deploy.nginx_validate from the installed tarball" >&2; exit 1; }
ansible-doc -t filter flaskstack.deploy.upstream_servers >/dev/null \
    || { echo "ERROR: ansible-doc cannot read flaskstack.deploy.upstream_servers from the installed tarball" >&2; exit 1; }
ansible-playbook consumer.yml
echo "==> Resolving the collection's playbooks by FQCN (no host is contacted)"
for playbook in site rolling_update rollback; do
    ansible-playbook --syntax-check "flaskstack.deploy.$playbook" >/dev/null
    tasks=$(ansible-playbook --list-tasks "flaskstack.deploy.$playbook")
    grep -q "Gather the facts the stack uses" <<<"$tasks" \
        || { echo "ERROR: flaskstack.deploy.$playbook does not import its preflight" >&2; exit 1; }
done
echo "==> The installed collection works by FQCN"
