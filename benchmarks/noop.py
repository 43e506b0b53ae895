# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Time no-op re-runs of site.yml on the running lab (make lab), variants side by side in one run.

Every variant runs `ansible-playbook site.yml` against a lab that is already deployed, so nothing should
change: the script reports changed tasks (it must be 0) next to the time. For each variant it prints the wall
time, the tasks that ran (not skipped) and the seconds they took, per role, from the json callback.

Variants (one after the other, the same lab):
  all          the four lab hosts (lb1, app1, app2 amd64; app3 arm64 under qemu), the repository's ansible.cfg
  amd64        --limit lb1,app1,app2 (the emulated host left out)
  nginx        --limit lb1 (the load balancer's play only does work there)
  mitogen      `all` with Mitogen's mitogen_linear strategy, when the mitogen package is importable
  mitogen-amd64  the same, amd64 hosts only

Usage (from the checkout root, lab running):
  .venv/bin/python benchmarks/noop.py [--variants all,amd64,mitogen] [--repeat 1]
Reports numbers and never fails on them; exits non-zero only if a run fails or changes something.
"""

import argparse
import collections
import datetime
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
AMD64 = "lb1,app1,app2"
VARIANTS = {
    "all": {},
    "amd64": {"limit": AMD64},
    "nginx": {"limit": "lb1"},
    "mitogen": {"mitogen": True},
    "mitogen-amd64": {"mitogen": True, "limit": AMD64},
}


def mitogen_strategy_dir():
    """The directory of Mitogen's strategy plugins, or None when mitogen is not installed."""
    try:
        import ansible_mitogen  # noqa: F401  pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return str(pathlib.Path(sys.modules["ansible_mitogen"].__file__).parent / "plugins" / "strategy")


def environment(variant):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    if variant.get("mitogen"):
        env["ANSIBLE_STRATEGY_PLUGINS"] = mitogen_strategy_dir()
        env["ANSIBLE_STRATEGY"] = "mitogen_linear"
        # Mitogen 0.3.54 with interpreter discovery (ansible.cfg: auto_silent) loses the connection ("EOF on
        # stream"); the lab's Debian hosts have /usr/bin/python3.
        env["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3"
    return env


def play(variant):
    """One no-op run: (seconds, the json callback's result)."""
    argv = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "site.yml"]
    if variant.get("limit"):
        argv += ["--limit", variant["limit"]]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=environment(variant), capture_output=True, text=True,
                          check=False, timeout=1800)
    seconds = time.monotonic() - start
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit("site.yml printed no JSON (rc %d): %s" % (proc.returncode, proc.stderr[-2000:]))
    if proc.returncode != 0:
        raise SystemExit("site.yml failed (rc %d); the lab must be deployed first (make lab)" % proc.returncode)
    return seconds, result


def _duration(task):
    """Seconds a task took (the json callback's UTC ISO timestamps, such as 2026-11-24T06:42:42.123456Z)."""
    start, end = (datetime.datetime.fromisoformat(task["task"]["duration"][k].rstrip("Z")) for k in ("start", "end"))
    return (end - start).total_seconds()


def per_role(result):
    """{role: [tasks that ran on some host, seconds]}, and the number of changed task results."""
    roles = collections.defaultdict(lambda: [0, 0.0])
    changed = 0
    for one_play in result["plays"]:
        for task in one_play["tasks"]:
            hosts = task["hosts"].values()
            changed += sum(1 for h in hosts if h.get("changed"))
            if all(h.get("skipped") for h in hosts):
                continue
            name = task["task"]["name"]
            role = name.split(" : ", 1)[0] if " : " in name else "(playbook)"
            role = role.rsplit(".", 1)[-1]
            roles[role][0] += 1
            roles[role][1] += _duration(task)
    return dict(roles), changed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="all,amd64,nginx,mitogen,mitogen-amd64")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    wanted = [v for v in args.variants.split(",") if v]
    unknown = [v for v in wanted if v not in VARIANTS]
    if unknown:
        parser.error("unknown variants %s; choose from %s" % (unknown, ", ".join(VARIANTS)))
    if any(VARIANTS[v].get("mitogen") for v in wanted) and mitogen_strategy_dir() is None:
        print("mitogen is not installed (pip install mitogen into .venv): its variants are left out")
        wanted = [v for v in wanted if not VARIANTS[v].get("mitogen")]
    rows, roles_by_variant, failed = [], {}, False
    for name in wanted:
        for dummy in range(args.repeat):
            seconds, result = play(VARIANTS[name])
            roles, changed = per_role(result)
            failed = failed or changed > 0
            rows.append((name, seconds, sum(r[0] for r in roles.values()), changed))
            roles_by_variant[name] = roles
    print("| variant | wall time | tasks run | changed |\n|---|---:|---:|---:|")
    for name, seconds, tasks, changed in rows:
        print("| %s | %.1f s | %d | %d |" % (name, seconds, tasks, changed))
    print("\nPer role (last run of each variant): tasks run / seconds summed over tasks\n")
    names = sorted({role for roles in roles_by_variant.values() for role in roles})
    print("| role | %s |\n|---|%s" % (" | ".join(roles_by_variant), "---:|" * len(roles_by_variant)))
    for role in names:
        cells = ["%d / %.1f s" % tuple(roles_by_variant[v].get(role, (0, 0.0))) for v in roles_by_variant]
        print("| %s | %s |" % (role, " | ".join(cells)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
