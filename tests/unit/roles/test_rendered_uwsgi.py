"""uwsgi.ini holds the normalised values of the uwsgi role's inputs, one option per line.

Renders the role's real template with ansible-playbook on the local machine, after the role's input check
(which sets uwsgi_input), and reads the file back line by line as uWSGI's ini reader does (`key = value`,
the same key more than once allowed). Dangerous values are refused naming the variable, never written.
"""


import pytest


def render(render_templates, tmp_path, **variables):
    values = {
        "flask_app_server": "uwsgi", "uwsgi_process_count": 2, "uwsgi_unix_socket": True,
        "uwsgi_socket": "/srv/shop/run/uwsgi.sock", "uwsgi_fifo": "/srv/shop/shared/uwsgi.fifo",
        "flaskstack_app": {"name": "shop", "port": 8000, "base_dir": "/srv/shop", "current": "/srv/shop/current",
                           "wsgi_dir": "/srv/shop/wsgi", "env_file": "/srv/shop/shared/env", "user": "shop",
                           "socket_group": "www-data", "wsgi_env": {"FLASKSTACK_WSGI_APP": "shop:create_app()"},
                           "bind_address": "127.0.0.1"},
    }
    values.update(variables)
    run = render_templates("uwsgi", values, [{"name": "Write uwsgi.ini", "src": "uwsgi.ini.j2",
                                              "dest": str(tmp_path / "uwsgi.ini")}], defaults=True)
    ini = tmp_path / "uwsgi.ini"
    return run, (options(ini.read_text()) if ini.exists() else None)


def options(text):
    """[(key, value)] of the [uwsgi] section, as uWSGI's ini reader splits each line at its first '='."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith((";", "#", "[")):
            continue
        key, _sep, value = line.partition("=")
        found.append((key.strip(), value.strip()))
    return found


def first(found, key):
    return next(value for name, value in found if name == key)


@pytest.mark.parametrize("mode, written", [("0660", "660"), (0o660, "660"), ("770", "770"), (0o600, "600")])
def test_the_socket_mode_is_written_as_octal_digits_quoted_or_not(render_templates, tmp_path, mode, written):
    run, found = render(render_templates, tmp_path, uwsgi_socket_mode=mode)
    assert run.returncode == 0, run.stdout
    assert first(found, "chmod-socket") == written
    assert first(found, "chown-socket") == "shop:www-data"


@pytest.mark.parametrize("given, written", [("no", "false"), ("off", "false"), ("yes", "true"), (True, "true")])
def test_enable_threads_renders_what_the_boolean_means(render_templates, tmp_path, given, written):
    run, found = render(render_templates, tmp_path, uwsgi_enable_threads=given)
    assert run.returncode == 0, run.stdout
    assert first(found, "enable-threads") == written


def test_extra_options_one_line_per_value_with_magic_variables_kept(render_templates, tmp_path):
    run, found = render(render_templates, tmp_path, uwsgi_extra_options={
        "reload-on-rss": 256, "env": ["A=1", "B=2"], "procname-prefix": "%n-"})
    assert run.returncode == 0, run.stdout
    assert [(k, v) for k, v in found if k in ("reload-on-rss", "procname-prefix")] == [
        ("procname-prefix", "%n-"), ("reload-on-rss", "256")]
    assert [v for k, v in found if k == "env"][-2:] == ["A=1", "B=2"]


@pytest.mark.parametrize("name, value, why", [
    ("uwsgi_logto", "/var/log/uwsgi.log\nmaster-as-root = true", "uwsgi_logto: "),
    ("uwsgi_logto", "/var/log/%n.log", "uwsgi_logto: cannot hold \"%\""),
    ("uwsgi_stats", "127.0.0.1:9191\nuid = root", "uwsgi_stats"),
    ("uwsgi_extra_options", {"cron": "-1 -1 -1 -1 -1 id\nuid = root"}, "uwsgi_extra_options.cron: "),
    ("uwsgi_socket_mode", 660, "uwsgi_socket_mode: 660 is not a mode"),
    ("uwsgi_socket_mode", "rw", "uwsgi_socket_mode: 'rw' is not a mode"),
])
def test_what_uwsgi_ini_cannot_hold_is_refused_naming_the_variable(render_templates, tmp_path, name, value, why):
    run, found = render(render_templates, tmp_path, **{name: value})
    assert run.returncode != 0 and found is None
    assert why in run.stdout
