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
  amd64-factcache  amd64 with a warm jsonfile fact cache (one untimed run fills it): preflight asks no host
  mitogen      `all` with Mitogen's mitogen_linear strategy, when the mitogen package is importable
  mitogen-amd64  the same, amd64 hosts only

With --baseline REF each variant also runs with the collection as it was at git revision REF (a worktree
under /tmp, used through ANSIBLE_COLLECTIONS_PATH), alternating with the checkout's: before and after,
side by side in one run.

Usage (from the checkout root, lab running):
  .venv/bin/python benchmarks/noop.py [--variants all,amd64,mitogen] [--repeat 1] [--baseline REF]
Reports numbers and never fails on them; exits non-zero only if a run fails or changes something.
"""

import argparse
import collections
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
AMD64 = "lb1,app1,app2"
VARIANTS = {
    "all": {},
    "amd64": {"limit": AMD64},
    "nginx": {"limit": "lb1"},
    "amd64-factcache": {"limit": AMD64, "fact_cache": True},
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


def environment(variant, collections=None, workdir=None):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    if collections:
        env["ANSIBLE_COLLECTIONS_PATH"] = collections
    if variant.get("fact_cache"):
        # One cache per collection, so that the baseline's runs fill their own.
        env.update(ANSIBLE_CACHE_PLUGIN="ansible.builtin.jsonfile", ANSIBLE_CACHE_PLUGIN_TIMEOUT="86400",
                   ANSIBLE_CACHE_PLUGIN_CONNECTION=os.path.join(workdir, "facts-" + ("baseline" if collections else "checkout")))
    if variant.get("mitogen"):
        env["ANSIBLE_STRATEGY_PLUGINS"] = mitogen_strategy_dir()
        env["ANSIBLE_STRATEGY"] = "mitogen_linear"
        # Mitogen 0.3.54 with interpreter discovery (ansible.cfg: auto_silent) loses the connection ("EOF on
        # stream"); the lab's Debian hosts have /usr/bin/python3.
        env["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3"
    return env


def baseline_collections(ref, workdir):
    """A collections path whose flaskstack.deploy is a worktree of this repository at ref."""
    tree = os.path.join(workdir, "tree")
    subprocess.run(["git", "worktree", "add", "--detach", tree, ref], cwd=ROOT, check=True, capture_output=True)
    link = pathlib.Path(workdir, "collections", "ansible_collections", "flaskstack", "deploy")
    link.parent.mkdir(parents=True)
    link.symlink_to(tree)
    return os.path.join(workdir, "collections")


def play(variant, collections=None, workdir=None):
    """One no-op run: (seconds, the json callback's result)."""
    argv = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "site.yml"]
    if variant.get("limit"):
        argv += ["--limit", variant["limit"]]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=environment(variant, collections, workdir), capture_output=True, text=True,
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
    """{role: [tasks that ran on some host, host results that ran, seconds]}, and the changed results."""
    roles = collections.defaultdict(lambda: [0, 0, 0.0])
    changed = 0
    for one_play in result["plays"]:
        for task in one_play["tasks"]:
            hosts = task["hosts"].values()
            changed += sum(1 for h in hosts if h.get("changed"))
            ran = sum(1 for h in hosts if not h.get("skipped"))
            if not ran:
                continue
            name = task["task"]["name"]
            role = name.split(" : ", 1)[0] if " : " in name else "(playbook)"
            role = role.rsplit(".", 1)[-1]
            roles[role][0] += 1
            roles[role][1] += ran
            roles[role][2] += _duration(task)
    return dict(roles), changed


def run_all(wanted, repeat, baseline, workdir):
    """Every wanted variant, repeat times, each followed by its baseline run when there is one."""
    rows, roles_by_variant, failed = [], {}, False
    for name in wanted:
        runs = [(name, None)] + ([(name + "@" + baseline[0], baseline[1])] if baseline else [])
        if VARIANTS[name].get("fact_cache"):
            for dummy, collections_path in runs:  # fill the caches, untimed
                play(VARIANTS[name], collections_path, workdir)
        for dummy in range(repeat):
            for label, collections_path in runs:
                seconds, result = play(VARIANTS[name], collections_path, workdir)
                roles, changed = per_role(result)
                failed = failed or changed > 0
                rows.append((label, seconds, sum(r[0] for r in roles.values()), sum(r[1] for r in roles.values()),
                             changed))
                roles_by_variant[label] = roles
    return rows, roles_by_variant, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="all,amd64,nginx,amd64-factcache,mitogen,mitogen-amd64")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline", metavar="REF", help="also run each variant with the collection at git REF")
    args = parser.parse_args()
    wanted = [v for v in args.variants.split(",") if v]
    unknown = [v for v in wanted if v not in VARIANTS]
    if unknown:
        parser.error("unknown variants %s; choose from %s" % (unknown, ", ".join(VARIANTS)))
    if any(VARIANTS[v].get("mitogen") for v in wanted) and mitogen_strategy_dir() is None:
        print("mitogen is not installed (pip install mitogen into .venv): its variants are left out")
        wanted = [v for v in wanted if not VARIANTS[v].get("mitogen")]
    workdir = tempfile.mkdtemp(prefix="flaskstack-noop-")
    try:
        baseline = (args.baseline, baseline_collections(args.baseline, workdir)) if args.baseline else None
        rows, roles_by_variant, failed = run_all(wanted, args.repeat, baseline, workdir)
    finally:
        if args.baseline:
            subprocess.run(["git", "worktree", "remove", "--force", os.path.join(workdir, "tree")], cwd=ROOT,
                           check=False, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print(report(rows, roles_by_variant))
    return 1 if failed else 0


def report(rows, roles_by_variant):
    """The Markdown tables: one row per run, then per role for the last run of each variant."""
    lines = ["| variant | wall time | tasks run | host results run | changed |", "|---|---:|---:|---:|---:|"]
    for name, seconds, tasks, results, changed in rows:
        lines.append("| %s | %.1f s | %d | %d | %d |" % (name, seconds, tasks, results, changed))
    lines += ["", "Per role (last run of each variant): tasks run / host results run / seconds summed over tasks", ""]
    names = sorted({role for roles in roles_by_variant.values() for role in roles})
    lines.append("| role | %s |" % " | ".join(roles_by_variant))
    lines.append("|---|%s" % ("---:|" * len(roles_by_variant)))
    for role in names:
        cells = ["%d / %d / %.1f s" % tuple(roles_by_variant[v].get(role, (0, 0, 0.0))) for v in roles_by_variant]
        lines.append("| %s | %s |" % (role, " | ".join(cells)))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
