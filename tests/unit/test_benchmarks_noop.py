"""benchmarks/noop.py's parts that need no lab: counting the json callback's results, the baseline worktree,
the report."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))

import noop  # noqa: E402  pylint: disable=wrong-import-position


def task(name, hosts, start="2026-11-24T06:42:42.000000Z", end="2026-11-24T06:42:43.500000Z"):
    return {"task": {"name": name, "duration": {"start": start, "end": end}}, "hosts": hosts}


RESULT = {"plays": [{"tasks": [
    task("Gather the facts the stack uses", {"a": {}, "b": {}}),
    task("flaskstack.deploy.flask_app : Read the current release", {"a": {}, "b": {"skipped": True}}),
    task("flaskstack.deploy.flask_app : Copy the code", {"a": {"skipped": True}, "b": {"skipped": True}}),
    task("flaskstack.deploy.nginx : Write the configuration files", {"lb": {"changed": True}},
         end="2026-11-24T06:42:42.250000Z"),
]}]}


def test_per_role_counts_tasks_results_seconds_and_changes():
    roles, changed = noop.per_role(RESULT)
    assert roles == {"(playbook)": [1, 2, 1.5], "flask_app": [1, 1, 1.5], "nginx": [1, 1, 0.25]}
    assert changed == 1


def test_report_tables():
    roles, dummy = noop.per_role(RESULT)
    text = noop.report([("amd64", 12.34, 3, 4, 1), ("amd64@v1", 20.0, 5, 9, 0)], {"amd64": roles, "amd64@v1": {}})
    lines = text.splitlines()
    assert lines[2] == "| amd64 | 12.3 s | 3 | 4 | 1 |"
    assert lines[3] == "| amd64@v1 | 20.0 s | 5 | 9 | 0 |"
    assert "| flask_app | 1 / 1 / 1.5 s | 0 / 0 / 0.0 s |" in lines


def test_baseline_collections_is_a_worktree_of_the_ref(tmp_path):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    path = noop.baseline_collections(head, str(tmp_path))
    try:
        deploy = pathlib.Path(path, "ansible_collections", "flaskstack", "deploy")
        assert (deploy / "galaxy.yml").is_file()
        assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=deploy, capture_output=True, text=True,
                              check=True).stdout.strip() == head
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tmp_path / "tree")], cwd=ROOT, check=True)
    assert not os.path.exists(tmp_path / "tree")


def test_environment_points_ansible_at_the_baseline_and_a_fact_cache():
    env = noop.environment({}, "/tmp/x")
    assert env["ANSIBLE_COLLECTIONS_PATH"] == "/tmp/x"
    assert "ANSIBLE_CACHE_PLUGIN" not in env or os.environ.get("ANSIBLE_CACHE_PLUGIN")
    cached = noop.environment(noop.VARIANTS["amd64-factcache"], None, "/tmp/w")
    assert cached["ANSIBLE_CACHE_PLUGIN"] == "ansible.builtin.jsonfile"
    assert cached["ANSIBLE_CACHE_PLUGIN_CONNECTION"] == "/tmp/w/facts-checkout"
    assert noop.environment(noop.VARIANTS["amd64-factcache"], "/tmp/x", "/tmp/w")["ANSIBLE_CACHE_PLUGIN_CONNECTION"] == \
        "/tmp/w/facts-baseline"
    assert noop.environment({}).get("ANSIBLE_COLLECTIONS_PATH") == os.environ.get("ANSIBLE_COLLECTIONS_PATH")
