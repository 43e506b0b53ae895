"""The app's environment file holds one NAME=value line per variable, read back as the app servers read it.

Renders flask_app's real env.j2 with ansible-playbook on the local machine, after flask_app's input check,
and reads it back as gunicorn.conf.py's reader does (strip each line, skip comments, split at the first
'='). A value that would start another line is refused naming the variable, never shown.
"""


import pytest

KEY = "k3pt-in-vault=0123456789#abc;def"


def render(render_templates, tmp_path, **variables):
    values = {"flask_app_secret_key": KEY, "flask_app_env": {}}
    values.update(variables)
    run = render_templates("flask_app", values, [{"name": "Write the environment file", "src": "env.j2",
                                                  "dest": str(tmp_path / "env"), "no_log": True}])
    env = tmp_path / "env"
    return run, (read(env.read_text()) if env.exists() else None)


def read(text):
    lines = [line.strip() for line in text.splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#") and "=" in line)


def test_values_read_back_as_given(render_templates, tmp_path):
    env = {"DATABASE_URL": "postgres://u:p@db/shop?x=1", "QUOTED": "it's \"fine\"", "EMPTY": ""}
    run, found = render(render_templates, tmp_path, flask_app_env=env)
    assert run.returncode == 0, run.stdout
    assert found == dict(env, FLASK_SECRET_KEY=KEY)


@pytest.mark.parametrize("variables, var", [
    ({"flask_app_secret_key": KEY + "\nFLASK_DEBUG=1"}, "flask_app_secret_key"),
    ({"flask_app_env": {"A": "1\rFLASK_DEBUG=1"}}, "flask_app_env.A"),
    ({"flask_app_env": {"A": "trailing "}}, "flask_app_env.A"),
])
def test_a_value_that_would_change_the_file_is_refused_unseen(render_templates, tmp_path, variables, var):
    run, found = render(render_templates, tmp_path, **variables)
    assert run.returncode != 0 and found is None
    assert "%s: " % var in run.stdout and "(the value is not shown)" in run.stdout
    assert "FLASK_DEBUG" not in run.stdout and "trailing" not in run.stdout
