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
# The development tool chain, the Docker test bed and whatever only runs from this checkout (galaxy.yml's
# build_ignore says why): none of it may reach a user.
forbidden=$(grep -E '^(\.venv|\.cache|\.ansible|\.git|\.ci|\.config|\.pytest_cache|molecule|build|tests|benchmarks|docs/benchmarks|inventory/lab)(/|$)|^(Makefile|ansible\.cfg|site\.yml|requirements[^/]*\.txt|docs/testbed\.md|docs/benchmarks\.md)$|(^|/)(__pycache__|\.pytest_cache)(/|$)|\.tar\.gz$' <<<"$listing" || true)
if [ -n "$forbidden" ]; then
    echo "ERROR: the tarball carries files it must not:" >&2
    echo "$forbidden" | head -n 20 >&2
    exit 1
fi
for required in MANIFEST.json FILES.json LICENSE meta/runtime.yml playbooks/site.yml playbooks/rolling_update.yml \
    playbooks/rollback.yml playbooks/preflight.yml playbooks/vars/stack.yml plugins/filter/upstream_servers.yml \
    docs/playbooks.md changelogs/changelog.yaml; do
    grep -qx "$required" <<<"$listing" || { echo "ERROR: the tarball lacks $required" >&2; exit 1; }
done

echo "==> Checking the READMEs a user of the collection reads"
# The README galaxy.yml names (MANIFEST.json's collection_info.readme), a top-level README.md if the
# tarball has one (Galaxy shows that file whatever MANIFEST.json says) and every role's README: they are
# for someone who installed the collection, who has neither our Makefile nor our test bed (what the
# scenarios check is in docs/testbed.md).
readme=$(tar -xzOf "$tarball" MANIFEST.json | python3 -c 'import json, sys; print(json.load(sys.stdin)["collection_info"]["readme"] or "")')
[ -n "$readme" ] || { echo "ERROR: MANIFEST.json names no readme" >&2; exit 1; }
grep -qx "$readme" <<<"$listing" || { echo "ERROR: the tarball lacks its readme $readme (MANIFEST.json)" >&2; exit 1; }
# Galaxy's importer shows the top-level README.md and refuses a tarball without one.
grep -qx README.md <<<"$listing" || { echo "ERROR: the tarball has no top-level README.md (build it with tests/galaxy/build.sh)" >&2; exit 1; }
readmes=$readme
if [ "$readme" != README.md ] && grep -qx README.md <<<"$listing"; then
    readmes="$readmes README.md"
fi
role_readmes=$(grep -E '^roles/[^/]+/README\.md$' <<<"$listing" || true)
[ -n "$role_readmes" ] || { echo "ERROR: the tarball carries no role README (roles/*/README.md)" >&2; exit 1; }
readmes="$readmes $(paste -sd' ' - <<<"$role_readmes")"
# The shipped docs/ pages are read the same way (docs/app_tier.md, docs/playbooks.md).
shipped_docs=$(grep -E '^docs/[^/]+\.md$' <<<"$listing" || true)
[ -z "$shipped_docs" ] || readmes="$readmes $(paste -sd' ' - <<<"$shipped_docs")"
# `make <target>` for every target of the Makefile, and `make` in a code span.
targets=$(sed -n 's/^\([a-z][a-z-]*\):.*/\1/p' "$here/../../Makefile" | sort -u | paste -sd'|' -)
[ -n "$targets" ] || { echo "ERROR: no target found in the Makefile" >&2; exit 1; }
for file in $readmes; do
    text=$(tar -xzOf "$tarball" "$file")
    found=$(grep -nE "(^|[^[:alnum:]_-])make +($targets)([^[:alnum:]_-]|$)|\`make[[:space:]\`]" <<<"$text" || true)
    if [ -n "$found" ]; then
        echo "ERROR: $file (in the tarball) speaks of make targets a user of the collection does not have:" >&2
        echo "$found" | head -n 10 >&2
        exit 1
    fi
    found=$(grep -niE 'test ?bed|molecule|docker|requirements-test|\.venv|inventory/lab|(^|[^[:alnum:]_/-])lab([^[:alnum:]_-]|$)' <<<"$text" || true)
    if [ -n "$found" ]; then
        echo "ERROR: $file (in the tarball) speaks of the test bed, which the collection does not ship:" >&2
        echo "$found" | head -n 10 >&2
        exit 1
    fi
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
# ansible-doc exits 0 with only a warning for a plugin it cannot find: a real answer documents the name.
documented() {
    local name=${*: -1} out
    out=$(ANSIBLE_NOCOLOR=1 ansible-doc "$@" 2>/dev/null || true)
    grep -qF "$name" <<<"$out" \
        || { echo "ERROR: 'ansible-doc $*' finds no documentation in the installed tarball" >&2; exit 1; }
}
documented flaskstack.deploy.nginx_validate
documented -t filter flaskstack.deploy.upstream_servers
# Every ansible-doc command the collection's README gives its user works on the installed copy.
while read -r -a doc; do
    documented "${doc[@]:1}"
done < <(tar -xzOf "$tarball" "$readme" | grep -oE 'ansible-doc( -t [a-z]+)? flaskstack\.deploy\.[a-z_]+' | sort -u)
ansible-playbook consumer.yml
echo "==> Resolving the collection's playbooks by FQCN (no host is contacted)"
for playbook in site rolling_update rollback preflight; do
    ansible-playbook --syntax-check "flaskstack.deploy.$playbook" >/dev/null
    tasks=$(ansible-playbook --list-tasks "flaskstack.deploy.$playbook")
    grep -q "Gather the facts the stack uses" <<<"$tasks" \
        || { echo "ERROR: flaskstack.deploy.$playbook does not import its preflight" >&2; exit 1; }
done
echo "==> The installed collection works by FQCN"
echo "==> Execution environment: ansible-builder reads the installed collection's controller dependencies"
deps=$(ansible-builder introspect --sanitize "$tmp/collections")
for want in git findutils coreutils; do
    grep -qE "^- '$want \[.*# from collection flaskstack\.deploy" <<<"$deps" \
        || { echo "ERROR: ansible-builder finds no '$want' in flaskstack.deploy's dependencies:" >&2; echo "$deps" >&2; exit 1; }
done
# The definition README.galaxy.md shows makes a build context (no image is built: that needs a registry).
tar -xzOf "$tarball" "$readme" | sed -n '/^# execution-environment.yml/,/^```$/p' | sed '$d' > "$tmp/execution-environment.yml"
grep -q 'flaskstack.deploy' "$tmp/execution-environment.yml" \
    || { echo "ERROR: $readme shows no execution-environment.yml with flaskstack.deploy" >&2; exit 1; }
ansible-builder create -f "$tmp/execution-environment.yml" -c "$tmp/ee-context" >/dev/null
grep -q 'flaskstack.deploy' "$tmp/ee-context/_build/requirements.yml" \
    || { echo "ERROR: ansible-builder's context does not install flaskstack.deploy" >&2; exit 1; }
echo "==> ansible-builder: $(grep -c 'flaskstack.deploy' <<<"$deps") system dependencies from flaskstack.deploy, definition accepted"
