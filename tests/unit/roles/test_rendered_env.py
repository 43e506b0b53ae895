"""The app's environment file holds one NAME=value line per variable, read back as the app servers read it.

Renders flask_app's real env.j2 with ansible-playbook on the local machine, after flask_app's input check,
and reads it back as gunicorn.conf.py's reader does (strip each line, skip comments, split at the first
'='). A value that would start another line is refused naming the variable, never shown.
"""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "roles" / "flask_app" / "templates" / "env.j2"
KEY = "k3pt-in-vault=0123456789#abc;def"


def render(ansible_playbook, tmp_path, **variables):
    values = {"flask_app_secret_key": KEY, "flask_app_env": {}}
    values.update(variables)
    (tmp_path / "values.yml").write_text(yaml.safe_dump(values))
    play = [{
        "hosts": "localhost", "connection": "local", "gather_facts": False, "vars_files": ["values.yml"],
        "tasks": [
            {"name": "Check", "flaskstack.deploy.check_inputs": {"roles": ["flask_app"]}},
            {"name": "Write the environment file", "ansible.builtin.template": {
                "src": str(TEMPLATE), "dest": str(tmp_path / "env"), "mode": "0600"}, "no_log": True},
        ],
    }]
    (tmp_path / "render.yml").write_text(yaml.safe_dump(play))
    run = ansible_playbook("-i", "localhost,", str(tmp_path / "render.yml"), cwd=tmp_path)
    env = tmp_path / "env"
    return run, (read(env.read_text()) if env.exists() else None)


def read(text):
    lines = [line.strip() for line in text.splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#") and "=" in line)


def test_values_read_back_as_given(ansible_playbook, tmp_path):
    env = {"DATABASE_URL": "postgres://u:p@db/shop?x=1", "QUOTED": "it's \"fine\"", "EMPTY": ""}
    run, found = render(ansible_playbook, tmp_path, flask_app_env=env)
    assert run.returncode == 0, run.stdout
    assert found == dict(env, FLASK_SECRET_KEY=KEY)


@pytest.mark.parametrize("variables, var", [
    ({"flask_app_secret_key": KEY + "\nFLASK_DEBUG=1"}, "flask_app_secret_key"),
    ({"flask_app_env": {"A": "1\rFLASK_DEBUG=1"}}, "flask_app_env.A"),
    ({"flask_app_env": {"A": "trailing "}}, "flask_app_env.A"),
])
def test_a_value_that_would_change_the_file_is_refused_unseen(ansible_playbook, tmp_path, variables, var):
    run, found = render(ansible_playbook, tmp_path, **variables)
    assert run.returncode != 0 and found is None
    assert "%s: " % var in run.stdout and "(the value is not shown)" in run.stdout
    assert "FLASK_DEBUG" not in run.stdout and "trailing" not in run.stdout
