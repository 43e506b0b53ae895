#!/usr/bin/env bash
# Builds the collection's tarball into OUTDIR (default build/) and prints its path. It builds from a copy
# of the tree in which README.galaxy.md is the README.md: Galaxy shows a collection's top-level README.md
# (and refuses a tarball without one), and the contributors' README (make targets, the test bed) is not
# for a user of the collection.
# Usage: build.sh [OUTDIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$(realpath -m "${1:-$root/build}")
stage=$(mktemp -d "${TMPDIR:-/tmp}/flaskstack-build.XXXXXX")
trap 'rm -rf "$stage"' EXIT
tar -C "$root" --exclude=./.git --exclude=./.venv --exclude=./.cache --exclude=./build -cf - . | tar -C "$stage" -xf -
mv "$stage/README.galaxy.md" "$stage/README.md"
mkdir -p "$out"
ansible-galaxy collection build --force --output-path "$out" "$stage" | grep -oE '/\S+\.tar\.gz'
