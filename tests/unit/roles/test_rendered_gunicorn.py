"""gunicorn.conf.py holds every value as the Python literal of what the user set.

Renders the gunicorn role's real template with ansible-playbook on the local machine (after the role's input
check, as flask_app runs it) and reads the file back with Python's own parser: a quote, a backslash or a
line break in a path or a name stays inside its string, and nothing else than assignments, the worker
import and the environment reader is in the file.
"""

import ast

import pytest

EVIL = '/etc/flaskstack/x");__import__("os").system("id");("'


def render(render_templates, tmp_path, **variables):
    values = {
        "flask_app_server": "gunicorn", "gunicorn_worker_class": "gthread", "gunicorn_worker_count": 3,
        "flaskstack_app": {"name": "shop", "port": 8000, "base_dir": "/srv/shop", "current": "/srv/shop/current",
                           "wsgi_dir": "/srv/shop/wsgi", "env_file": "/srv/shop/shared/env",
                           "wsgi_env": {"FLASKSTACK_RELEASES": "/srv/shop/releases"}, "bind_address": "127.0.0.1"},
    }
    values.update(variables)
    run = render_templates("gunicorn", values, [{"name": "Write gunicorn.conf.py", "src": "gunicorn.conf.py.j2",
                                                 "dest": str(tmp_path / "gunicorn.conf.py")}], defaults=True)
    conf = tmp_path / "gunicorn.conf.py"
    return run, (conf.read_text() if conf.exists() else None)


def settings(text):
    """The module-level assignments of gunicorn.conf.py whose value is a literal, and every call made."""
    tree = ast.parse(text)
    found, calls = {}, []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                found[node.targets[0].id] = ast.unparse(node.value)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            calls.append(ast.unparse(node.value))
        else:
            assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign)), ast.dump(node)
    return found, calls


def test_the_default_file_reads_back_as_the_defaults(render_templates, tmp_path):
    run, text = render(render_templates, tmp_path)
    assert run.returncode == 0, run.stdout
    found, calls = settings(text)
    assert found["bind"] == ["127.0.0.1:8000"] and found["workers"] == 3 and found["threads"] == 2
    assert found["chdir"] == "/srv/shop" and found["pythonpath"] == "/srv/shop/wsgi,/srv/shop/current"
    assert found["raw_env"] == "_environment() + ['FLASKSTACK_RELEASES=/srv/shop/releases']"
    assert calls == ["sys.path.insert(0, '/etc/flaskstack/shop')"]


@pytest.mark.parametrize("name, value", [
    ("gunicorn_conf_dir", EVIL),
    ("gunicorn_access_log", '/var/log/a"b\\c.log'),
    ("gunicorn_error_log", "/var/log/it's.log"),
])
def test_quotes_and_backslashes_stay_inside_their_string(render_templates, tmp_path, name, value):
    run, text = render(render_templates, tmp_path, **{name: value})
    assert run.returncode == 0, run.stdout
    found, calls = settings(text)
    if name == "gunicorn_conf_dir":
        assert calls == ["sys.path.insert(0, %r)" % value]
    else:
        assert found[{"gunicorn_access_log": "accesslog", "gunicorn_error_log": "errorlog"}[name]] == value
    assert "system" not in "".join(c for c in calls if not c.startswith("sys.path.insert"))


def test_a_line_break_is_refused_naming_the_variable(render_templates, tmp_path):
    run, text = render(render_templates, tmp_path, gunicorn_forwarded_allow_ips="10.0.0.1\nimport os")
    assert run.returncode != 0 and text is None
    assert "gunicorn_forwarded_allow_ips: " in run.stdout


def test_a_bad_count_is_refused_when_the_role_checks_alone(render_templates, tmp_path):
    run, text = render(render_templates, tmp_path, gunicorn_workers=-5, gunicorn_threads="two")
    assert run.returncode != 0 and text is None
    assert "gunicorn_workers: -5" in run.stdout and "gunicorn_threads: " in run.stdout
