#!/usr/bin/env bash
# Runs Molecule scenarios, MOLECULE_JOBS at a time (default 2), the longest first, each into its own
# log (build/molecule/<scenario>.log) that is printed when the scenario ends. Scenarios use their own
# container and network names, so they can run side by side. Exits non-zero if any scenario failed,
# after all have run, listing them.
# Usage: molecule-all.sh SCENARIO...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
jobs=${MOLECULE_JOBS:-2}
logs=build/molecule
mkdir -p "$logs"
# Longest first (measured), so the two lanes finish close together; others follow in name order. Three
# lanes were slower: the emulated arm64 host (stack) is CPU-bound, and its converge took over 40 minutes.
order=(consumer stack rolling flask_app nginx_apt nginx_source colocated default supervisor)
scenarios=()
for s in "${order[@]}"; do
    for want in "$@"; do [ "$want" = "$s" ] && scenarios+=("$s"); done
done
for want in "$@"; do
    case " ${order[*]} " in *" $want "*) ;; *) scenarios+=("$want") ;; esac
done

run_one() {
    local s=$1 start=$SECONDS rc=0
    molecule test -s "$s" > "$logs/$s.log" 2>&1 || rc=$?
    {
        echo "==> molecule test -s $s (log: $logs/$s.log)"
        cat "$logs/$s.log"
        if [ "$rc" = 0 ]; then
            echo "==> scenario $s passed in $((SECONDS - start)) s"
        else
            echo "==> scenario $s FAILED (exit $rc) after $((SECONDS - start)) s"
        fi
    } | flock "$logs/.print.lock" cat
    echo "$s $((SECONDS - start)) s $([ "$rc" = 0 ] && echo passed || echo FAILED)" >> "$logs/.times"
    [ "$rc" = 0 ] || echo "$s" >> "$logs/.failed"
}
export -f run_one
export logs

rm -f "$logs/.failed" "$logs/.times"
start=$SECONDS
echo "==> ${#scenarios[@]} scenarios, $jobs at a time: ${scenarios[*]}"
printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
echo "==> scenario times:"
sed 's/^/    /' "$logs/.times"
if [ -s "$logs/.failed" ]; then
    # CI keeps only the end of the output: repeat what failed, from each failed scenario's log.
    while read -r s; do
        echo "==> what failed in $s ($logs/$s.log):"
        sed 's/\x1b\[[0-9;]*m//g; s/^[│ ]*//' "$logs/$s.log" |
            grep -n -B2 -A12 -E '^(fatal|failed): |FAILED!|^E  |Traceback|CRITICAL' | tail -n 80 || true
    done < "$logs/.failed"
    echo "==> failed scenarios: $(tr '\n' ' ' < "$logs/.failed")"
    exit 1
fi
echo "==> all ${#scenarios[@]} scenarios passed in $((SECONDS - start)) s"
