"""The app tier roles refuse bad input before any change, naming the variable."""


def test_flask_app_needs_a_secret_key(run_role):
    rc, out = run_role("flask_app")
    assert rc != 0
    assert "flask_app_secret_key" in out


def test_flask_app_refuses_a_short_secret_key(run_role):
    rc, out = run_role("flask_app", flask_app_secret_key="short")
    assert rc != 0
    assert "flask_app_secret_key: is missing or shorter than 16 characters" in out
    assert "short" not in out.replace("shorter", "")  # the key itself is never printed


def test_flask_app_unknown_server(run_role):
    rc, out = run_role("flask_app", flask_app_secret_key="x" * 32, flask_app_server="waitress")
    assert rc != 0
    assert "flask_app_server" in out and "waitress" in out


def test_supervisor_inet_server_needs_a_password(run_role):
    rc, out = run_role("supervisor", supervisor_inet_http_server_enabled=True)
    assert rc != 0
    assert "supervisor_inet_http_server_password: is missing or empty" in out
    assert "no default password" in out


def test_supervisor_program_needs_a_command(run_role):
    rc, out = run_role("supervisor", supervisor_programs=[{"name": "web"}])
    assert rc != 0
    assert "command" in out


def test_supervisor_program_name_must_be_a_file_name(run_role):
    rc, out = run_role("supervisor", supervisor_programs=[{"name": "../etc/x", "command": "true"}])
    assert rc != 0
    assert "supervisor_programs[0].name: '../etc/x' is not a usable program name" in out


def test_supervisor_group_must_not_be_named_like_a_program_outside_it(run_role):
    programs = [{"name": "web", "command": "true"}, {"name": "worker", "command": "true", "group": "web"}]
    rc, out = run_role("supervisor", supervisor_programs=programs)
    assert rc != 0
    assert "supervisor_programs[1].group: 'web' is also the name of a program outside that group" in out


def test_supervisor_group_name_must_be_usable(run_role):
    rc, out = run_role("supervisor", supervisor_programs=[{"name": "w", "command": "true", "group": "a b"}])
    assert rc != 0
    assert "supervisor_programs[0].group: 'a b' is not a usable group name" in out


def test_supervisor_program_name_must_not_look_like_a_group_file(run_role):
    rc, out = run_role("supervisor", supervisor_programs=[{"name": "web.group", "command": "true"}])
    assert rc != 0
    assert "supervisor_programs[0].name: 'web.group' must not end in '.group'" in out


def test_supervisor_groups_pass_the_checks(run_role):
    programs = [
        {"name": "web", "command": "true"},
        {"name": "worker-1", "command": "true", "group": "workers"},
        {"name": "worker-2", "command": "true", "group": "workers"},
    ]
    rc, out = run_role("supervisor", supervisor_programs=programs)
    # Past every input check; the first change (apt) is what check mode on this controller stops or skips at.
    assert "Check the role's input" in out
    assert "bad input" not in out


def test_flask_app_git_source_needs_a_version(run_role):
    rc, out = run_role(
        "flask_app", flask_app_secret_key="x" * 32, flask_app_git_repo="file:///nowhere", flask_app_git_version=""
    )
    assert rc != 0
    assert "flask_app_git_version: is empty; name the branch, tag or commit" in out
