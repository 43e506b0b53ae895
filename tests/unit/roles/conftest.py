"""Run a role of this collection against the controller in check mode and return what happened."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

COLLECTIONS = pathlib.Path(__file__).resolve().parents[3] / ".cache" / "collections"
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


@pytest.fixture()
def run_role(tmp_path):
    """Apply a role to localhost in check mode; bad input must stop it before any task runs."""

    def run(role, **role_vars):
        play = tmp_path / "play.yml"
        play.write_text(
            "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: flaskstack.deploy.%s\n" % role
        )
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_CONFIG=str(tmp_path / "none.cfg"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        proc = subprocess.run(
            [PLAYBOOK, "-i", "localhost,", "-c", "local", "--check", str(play), "-e", json.dumps(role_vars)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
        return proc.returncode, proc.stdout + proc.stderr

    return run


ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture()
def render_templates(ansible_playbook, tmp_path):
    """Check a role's inputs (check_inputs, which sets <role>_input) and render its real templates on the local
    machine, as the role does; returns the CompletedProcess. The values go into a vars file of their own, as
    an inventory's would, after the role's defaults when `defaults` is set; each template is a task of
    `templates`: {"name":, "src": (under roles/<role>/templates), "dest":, and the task's extra keys}."""

    def render(role, values, templates, defaults=False, check_roles=None):
        files = []
        if defaults:
            (tmp_path / "defaults.yml").write_text((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
            files.append("defaults.yml")
        (tmp_path / "values.yml").write_text(yaml.safe_dump(values))
        files.append("values.yml")
        tasks = [{"name": "Check", "flaskstack.deploy.check_inputs": {"roles": check_roles or [role]}}]
        for template in templates:
            task = {key: value for key, value in template.items() if key not in ("name", "src", "dest")}
            task["name"] = template["name"]
            task["ansible.builtin.template"] = {"src": str(ROOT / "roles" / role / "templates" / template["src"]),
                                                "dest": template["dest"], "mode": "0600"}
            tasks.append(task)
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "vars_files": files,
                 "tasks": tasks}]
        (tmp_path / "render.yml").write_text(yaml.safe_dump(play))
        return ansible_playbook("-i", "localhost,", str(tmp_path / "render.yml"), cwd=tmp_path)

    return render
