"""The app tier's contract, for real: the app_server action and the server roles' `facts` entry points,
run by ansible-playbook on localhost (nothing on the host changes)."""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.flaskstack.deploy.plugins.module_utils import app_servers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

APP = {
    "name": "shop", "user": "shop", "socket_group": "www-data", "base_dir": "/srv/shop",
    "current": "/srv/shop/current", "wsgi_dir": "/srv/shop/wsgi", "env_file": "/srv/shop/shared/env",
    "wsgi_env": {"FLASKSTACK_WSGI_APP": "shop:create_app()"}, "module": "shop", "callable": "create_app()",
    "port": 8000, "bind_address": "0.0.0.0",
}
GUNICORN = {
    "name": "gunicorn", "packages": ["gunicorn==23.0.0"], "health_port": 8000,
    "program": {"command": "/srv/shop/current/venv/bin/gunicorn -c /etc/g.py", "stopwaitsecs": 40},
    "reload_config": {"signal": "HUP"}, "reload_code": {"signal": "HUP"},
}


@pytest.fixture()
def play(tmp_path):
    """Run tasks on localhost; return (exit code, output, the flaskstack_app_server fact or None)."""

    def run(tasks, **extra_vars):
        path = tmp_path / "play.yml"
        tasks = tasks + [{"name": "Show the fact", "ansible.builtin.debug": {"var": app_servers.CONTRACT_FACT}}]
        path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_CONFIG=str(tmp_path / "none.cfg"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
        proc = subprocess.run([PLAYBOOK, "-i", "localhost,", "-c", "local", str(path), "-e", json.dumps(extra_vars)],
                              capture_output=True, text=True, env=env, check=False, timeout=120)
        fact = None
        try:
            for result in json.loads(proc.stdout)["plays"][0]["tasks"][-1]["hosts"].values():
                fact = result.get(app_servers.CONTRACT_FACT)
        except (ValueError, KeyError, IndexError):
            pass
        return proc.returncode, proc.stdout + proc.stderr, fact

    return run


def describe(**args):
    return [{"name": "Describe", "flaskstack.deploy.app_server": args}]


def test_a_description_becomes_the_fact_with_defaults(play):
    rc, out, fact = play(describe(server=GUNICORN, config_changed=True))
    assert rc == 0, out
    assert fact["program"] == {"command": GUNICORN["program"]["command"], "startsecs": 3, "stopsignal": "TERM",
                               "stopwaitsecs": 40}
    assert fact["config_changed"] is True and fact["restart_needed"] is False
    assert fact["build_packages"] == [] and fact["unix_socket"] is False and fact["health_port"] == 8000


@pytest.mark.parametrize("change, message", [
    ({"health_port": None}, "health_port"),
    ({"health_port": 70000}, "server.health_port: 70000 is not a port"),
    ({"reload_code": {"signal": "HUP", "fifo": "/f", "write": "c"}}, "mutually exclusive: signal|fifo"),
    ({"reload_config": {"fifo": "/srv/shop/shared/uwsgi.fifo"}}, "fifo, write"),
    ({"name": "waitress"}, "waitress"),
])
def test_a_broken_description_fails_naming_the_key(play, change, message):
    server = {k: v for k, v in dict(GUNICORN, **change).items() if v is not None}
    rc, out, fact = play(describe(server=server))
    assert rc != 0 and fact is None
    assert "breaks the app tier's contract" in out and message in out, out


def facts(role, **role_vars):
    return [{"name": "Describe the server", "ansible.builtin.include_role": {
        "name": "flaskstack.deploy.%s" % role, "tasks_from": "facts"}, "vars": dict({"flaskstack_app": APP}, **role_vars)}]


@pytest.mark.parametrize("role, role_vars, expected", [
    ("gunicorn", {}, {"packages": ["gunicorn==23.0.0"], "health_port": 8000, "unix_socket": False,
                      "reload_code": {"signal": "HUP", "fifo": None, "write": None}}),
    ("gunicorn", {"gunicorn_worker_class": "gevent", "gunicorn_bind": "unix:/srv/shop/run/g.sock"},
     {"packages": ["gunicorn==23.0.0", "gevent==25.9.1"], "unix_socket": True, "health_port": 8000}),
    ("uwsgi", {}, {"packages": ["uwsgi==2.0.31"], "build_packages": ["build-essential", "python3-dev"],
                   "health_port": 9000, "unix_socket": False,
                   "reload_config": {"fifo": "/srv/shop/shared/uwsgi.fifo", "write": "r", "signal": None},
                   "reload_code": {"fifo": "/srv/shop/shared/uwsgi.fifo", "write": "c", "signal": None}}),
    ("uwsgi", {"uwsgi_protocol": "http", "uwsgi_install_method": "apt"},
     {"packages": [], "build_packages": [], "health_port": 8000,
      "program": {"command": "/usr/bin/uwsgi --ini /etc/flaskstack/shop/uwsgi.ini", "startsecs": 3,
                  "stopsignal": "TERM", "stopwaitsecs": 40}}),
    ("uwsgi", {"uwsgi_socket": "/srv/shop/run/uwsgi.sock", "uwsgi_protocol": "http"},
     {"unix_socket": True, "health_port": 9000}),
])
def test_the_server_roles_describe_themselves(play, role, role_vars, expected):
    rc, out, fact = play(facts(role, **role_vars))
    assert rc == 0, out
    for key, value in expected.items():
        assert fact[key] == value, (key, fact)


def test_a_server_role_needs_the_apps_description(play):
    tasks = facts("uwsgi")
    del tasks[0]["vars"]["flaskstack_app"]
    rc, out, fact = play(tasks)
    assert rc != 0 and "flaskstack_app" in out, out
