"""The preflight with a fact cache: hosts whose facts the stack reads are cached are not asked again, also by
delegation for app hosts a --limit leaves out; --flush-cache asks them again. Fake hosts on the local
connection: nothing here connects anywhere."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")
GATHER = "Gather the facts the stack uses"
GATHER_LEFT_OUT = "Gather the facts of app hosts this run leaves out (--limit)"
HOST = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "flask_app_secret_key": "kept-in-vault-0123456789abcdef"}


@pytest.fixture()
def preflight(tmp_path, ansible_env):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"vars": HOST, "children": {
        "app": {"hosts": {"app1": {}, "app2": {"flaskstack_upstream_weight": 2}}}, "lb": {"hosts": {"lb1": {}}}}}}))
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CACHE_PLUGIN="ansible.builtin.jsonfile",
                      ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp_path / "facts"), ANSIBLE_CACHE_PLUGIN_TIMEOUT="86400")

    def run(*args):
        proc = subprocess.run([str(PLAYBOOK), "-i", str(inventory), "flaskstack.deploy.preflight", "--check", *args],
                              capture_output=True, text=True, env=env, check=False, timeout=300, cwd=ROOT)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
        return {t["task"]["name"]: t["hosts"] for p in report["plays"] for t in p["tasks"]}

    return run


def asked(hosts):
    """The hosts a task ran on (a loop: those with an item that was not skipped)."""
    return sorted(h for h, r in hosts.items()
                  if not r.get("skipped") and not all(i.get("skipped") for i in r.get("results", [{}])))


def test_cached_facts_are_not_gathered_again(preflight):
    assert asked(preflight()[GATHER]) == ["app1", "app2", "lb1"]
    tasks = preflight()
    assert asked(tasks[GATHER]) == []
    # The pool still comes out of the cached facts.
    assert "app1" in json.dumps(tasks["Check the app pool before changing anything"])
    assert asked(preflight("--flush-cache")[GATHER]) == ["app1", "app2", "lb1"]


def test_a_limited_run_asks_a_left_out_host_only_when_its_facts_are_not_cached(preflight):
    tasks = preflight("--flush-cache", "--limit", "app1,lb1")
    assert asked(tasks[GATHER]) == ["app1", "lb1"]
    assert asked(tasks[GATHER_LEFT_OUT]) != []  # app2, by delegation, run once
    tasks = preflight("--limit", "app1,lb1")
    assert asked(tasks[GATHER]) == []
    assert asked(tasks[GATHER_LEFT_OUT]) == []
