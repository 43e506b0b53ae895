"""The long jobs that run in the background: flask_app's pip runs (tasks/pip.yml) and nginx's compile
(tasks/compile.yml). Each is started with async/poll 0 and waited for with a line per look; a job that
outlasts its timeout is stopped and the failure names the variable to raise; a failing job reports its own
error; a finished job leaves no job record behind. The real pip, make and async wrapper on the local
connection; pip is pointed at a local index that never answers, so nothing connects anywhere else."""

import json
import pathlib
import socket
import subprocess
import sys
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")


@pytest.fixture()
def run_role_tasks(tmp_path, ansible_env):
    """run_role_tasks(role, tasks_from, variables): (rc, output, job records left) of one include_role on
    localhost, with its own async directory."""
    async_dir = tmp_path / "async"

    def run(role, tasks_from, variables):
        playbook = tmp_path / "play.yml"
        playbook.write_text(json.dumps([{
            "hosts": "localhost", "gather_facts": False,
            "vars": {"ansible_async_dir": str(async_dir), **variables},
            "tasks": [{"ansible.builtin.include_role": {"name": "flaskstack.deploy." + role, "tasks_from": tasks_from}}],
        }]))
        env = ansible_env(ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        proc = subprocess.run([str(PLAYBOOK), "-i", "localhost,", "-c", "local", str(playbook)],
                              capture_output=True, text=True, env=env, check=False, timeout=240, cwd=ROOT)
        records = sorted(p.name for p in async_dir.iterdir()) if async_dir.exists() else []
        return proc.returncode, proc.stdout + proc.stderr, records

    return run


@pytest.fixture()
def silent_index():
    """A local 'package index' that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/simple" % server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def pip_vars(tmp_path, requirements, **extra):
    (tmp_path / "requirements.txt").write_text(requirements)
    return {"flask_app_venv": str(tmp_path / "venv"),
            "flask_app_pip_step": {"what": "installing requirements.txt",
                                   "requirements": str(tmp_path / "requirements.txt")},
            **extra}


def test_pip_finishes_in_the_background_and_leaves_no_job_record(tmp_path, run_role_tasks):
    rc, out, records = run_role_tasks("flask_app", "pip", pip_vars(tmp_path, "# nothing to install\n"))
    assert rc == 0, out
    assert (tmp_path / "venv" / "bin" / "python").exists()
    assert "Wait at most flask_app_pip_timeout seconds for pip installing requirements.txt" in out
    assert records == []


def test_pip_past_its_timeout_is_stopped_and_the_failure_names_the_variable(tmp_path, run_role_tasks, silent_index):
    variables = pip_vars(tmp_path, "--index-url %s\nflask\n" % silent_index, flask_app_pip_timeout=3)
    rc, out, records = run_role_tasks("flask_app", "pip", variables)
    assert rc != 0
    assert "FAILED - RETRYING: [localhost]: Wait at most flask_app_pip_timeout seconds for pip" in out  # the visible progress
    assert "within flask_app_pip_timeout (3 s) and was stopped" in out
    assert records == []


def test_a_failing_pip_reports_its_own_error(tmp_path, run_role_tasks):
    variables = pip_vars(tmp_path, "--no-index\nno-such-package-flaskstack==1.0\n")
    rc, out, records = run_role_tasks("flask_app", "pip", variables)
    assert rc != 0
    assert "pip failed installing requirements.txt:" in out
    assert "no-such-package-flaskstack" in out
    assert "flask_app_pip_timeout" not in out.split("pip failed installing requirements.txt:")[1]
    assert records == []


def make_vars(tmp_path, recipe, **extra):
    src = tmp_path / "work-test" / "src"  # the role's nginx_source_work: <build dir>/work-<key>
    src.mkdir(parents=True)
    (src / "Makefile").write_text("all:\n\t%s\n" % recipe)
    return {"nginx_source_build_dir": str(tmp_path), "nginx_source_key": "test", "nginx_version": "1.26.3", **extra}


def test_the_compile_finishes_in_the_background_and_leaves_no_job_record(tmp_path, run_role_tasks):
    rc, out, records = run_role_tasks("nginx", "compile", make_vars(tmp_path, "touch built"))
    assert rc == 0, out
    assert (tmp_path / "work-test" / "src" / "built").exists()
    assert records == []


def test_a_compile_past_its_timeout_is_stopped_and_the_failure_names_the_variable(tmp_path, run_role_tasks):
    variables = make_vars(tmp_path, "sleep 60 && touch built", nginx_source_build_timeout=3)
    rc, out, records = run_role_tasks("nginx", "compile", variables)
    assert rc != 0
    assert "FAILED - RETRYING: [localhost]: Wait for the compile" in out
    assert "within nginx_source_build_timeout (3 s) and was stopped" in out
    assert not (tmp_path / "work-test" / "src" / "built").exists()
    assert records == []


def test_a_failing_compile_reports_its_own_error(tmp_path, run_role_tasks):
    rc, out, records = run_role_tasks("nginx", "compile", make_vars(tmp_path, "echo broken-source >&2 && false"))
    assert rc != 0
    assert "make failed to compile nginx 1.26.3:" in out
    assert records == []
