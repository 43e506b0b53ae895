"""Run a role of this collection against the controller in check mode and return what happened."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

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
