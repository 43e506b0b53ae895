#!/usr/bin/env bash
# `make test`: everything CI runs. The Molecule scenarios take most of the time and leave a core idle
# whenever a scenario waits (a health check, a load phase, a rejoin), so the other checks (lint, unit,
# sanity, the Galaxy build-and-install check) run beside them at a lower CPU priority instead of before
# them. Their output is kept in build/checks.log and printed whole when they end; the Molecule scenarios
# print theirs as each ends (tests/testbed/molecule-all.sh). Exits non-zero if anything failed, after
# everything ran, with the summary last (CI keeps the end of the output).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
make --no-print-directory venv testbed
mkdir -p build/molecule
checks_log=build/checks.log
rm -f build/checks.rc
: > "$checks_log"

# The checks, one after the other, as a background job at nice 10; the first that fails ends them.
(
    rc=0
    for target in lint unit sanity galaxy-check; do
        began=$SECONDS
        if nice -n 10 make --no-print-directory "$target" >> "$checks_log" 2>&1; then
            echo "==> make $target passed in $((SECONDS - began)) s" >> "$checks_log"
        else
            rc=$?
            echo "==> make $target FAILED (exit $rc) after $((SECONDS - began)) s" >> "$checks_log"
            break
        fi
    done
    echo "$rc" > build/checks.rc
    # Printed whole, between two scenarios' logs (molecule-all.sh prints under the same lock).
    flock build/molecule/.print.lock cat "$checks_log"
) &
checks=$!

molecule_rc=0
make --no-print-directory molecule || molecule_rc=$?
wait "$checks" || true
checks_rc=$(cat build/checks.rc 2>/dev/null || echo 1)

if [ "$checks_rc" != 0 ]; then
    # Printed again at the end: CI keeps only the end of the output.
    echo "==> checks failed: $(grep -E '^==> make .* FAILED' "$checks_log" || echo 'see build/checks.log')"
    grep -n -B2 -A12 -iE '^(E  |FAILED|ERROR)|failure\(s\)|Traceback' "$checks_log" | tail -n 60 || true
fi
echo "==> checks: $(grep -E '^==> make ' "$checks_log" | sed 's/^==> make //' | paste -sd';' -)"
if [ "$checks_rc" = 0 ] && [ "$molecule_rc" = 0 ]; then
    echo "==> make test passed in $((SECONDS - start)) s"
else
    echo "==> make test FAILED after $((SECONDS - start)) s (checks exit $checks_rc, Molecule exit $molecule_rc)"
    exit 1
fi
