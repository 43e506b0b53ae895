"""The app tier roles refuse bad input before any change, naming the variable."""


def test_flask_app_needs_a_secret_key(run_role):
    rc, out = run_role("flask_app")
    assert rc != 0
    assert "flask_app_secret_key" in out


def test_flask_app_refuses_a_short_secret_key(run_role):
    rc, out = run_role("flask_app", flask_app_secret_key="short")
    assert rc != 0
    assert "flask_app_secret_key is empty or shorter than 16 characters" in out
    assert "short" not in out.replace("shorter", "")  # the key itself is never printed


def test_flask_app_unknown_server(run_role):
    rc, out = run_role("flask_app", flask_app_secret_key="x" * 32, flask_app_server="waitress")
    assert rc != 0
    assert "flask_app_server" in out and "waitress" in out


def test_supervisor_inet_server_needs_a_password(run_role):
    rc, out = run_role("supervisor", supervisor_inet_http_server_enabled=True)
    assert rc != 0
    assert "supervisor_inet_http_server_password is empty" in out
    assert "no default password" in out


def test_supervisor_program_needs_a_command(run_role):
    rc, out = run_role("supervisor", supervisor_programs=[{"name": "web"}])
    assert rc != 0
    assert "command" in out


def test_supervisor_program_name_must_be_a_file_name(run_role):
    rc, out = run_role("supervisor", supervisor_programs=[{"name": "../etc/x", "command": "true"}])
    assert rc != 0
    assert "supervisor_programs: names must be unique" in out
