"""Makes this checkout importable as ansible_collections.flaskstack.deploy and runs modules for real."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "flaskstack" / "deploy"

if not LINK.exists():  # `make venv` makes it; a bare `pytest` run should work too
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(os.path.relpath(ROOT, LINK.parent))
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


@pytest.fixture()
def run_module(tmp_path):
    """Run a module of this collection as Ansible would (a JSON args file, a fresh interpreter).

    Returns (exit code, result dict).
    """

    def run(name, check_mode=False, as_unprivileged=False, **args):
        """as_unprivileged: run without the capabilities that let root read any file (setpriv)."""
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        args_file = tmp_path / ("args-%s.json" % name)
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(COLLECTIONS), *sys.path]))
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if as_unprivileged else []
        proc = subprocess.run(
            prefix + [sys.executable, "-m", "ansible_collections.flaskstack.deploy.plugins.modules." + name, str(args_file)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("module printed no JSON: %r %r" % (proc.stdout, proc.stderr))
        return proc.returncode, result

    return run


def ansible_env(config=None, **extra):
    """The environment for the venv's ansible-* commands with this checkout as flaskstack.deploy (through
    .cache/collections), no colour and no localhost warning.

    config: the ansible.cfg to use (default the checkout's); extra: more variables, e.g. ANSIBLE_FORKS="10".
    """
    return dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_CONFIG=str(config or ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="false",
        **extra,
    )


@pytest.fixture(scope="session", name="ansible_env")
def ansible_env_fixture():
    """ansible_env() above, for the test files (a conftest is not for importing)."""
    return ansible_env


@pytest.fixture()
def ansible_playbook():
    """Run the venv's ansible-playbook with this checkout as flaskstack.deploy; returns the CompletedProcess.

    config: the ansible.cfg to use (default the checkout's); cwd: where to run (default the checkout).
    """

    def run(*args, config=None, cwd=None, timeout=120):
        env = ansible_env(config, ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        binary = pathlib.Path(sys.executable).with_name("ansible-playbook")
        return subprocess.run(
            [str(binary), *args], capture_output=True, text=True, env=env, check=False, timeout=timeout, cwd=cwd or ROOT
        )

    return run
