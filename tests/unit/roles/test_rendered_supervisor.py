"""What the supervisor role writes is what the user meant, read back by supervisor's own parser.

Each case runs the role's input check (flaskstack.deploy.check_inputs) and then renders the role's real
templates with ansible-playbook on the local machine, into a scratch directory; supervisor's ServerOptions
then reads supervisord.conf and the program files as supervisord would. Dangerous inputs are either
written so that supervisor reads the very value back, or refused by the check, naming the variable.
"""

import json
import pathlib

import pytest
import yaml
from supervisor.options import ServerOptions

ROOT = pathlib.Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "roles" / "supervisor" / "templates"
PASSWORD = "p%w;rd=\"x'"  # %, ; and both quotes: written so that supervisor reads it back


def render(ansible_playbook, tmp_path, **variables):
    """Run the check and the templates; (CompletedProcess, the parsed configuration or None)."""
    conf_dir, log_dir = tmp_path / "conf.d", tmp_path / "log"
    conf_dir.mkdir()
    log_dir.mkdir()
    values = {"supervisor_conf_file": str(tmp_path / "supervisord.conf"), "supervisor_conf_dir": str(conf_dir),
              "supervisor_log_dir": str(log_dir), "supervisor_socket_path": str(tmp_path / "supervisor.sock")}
    values.update(variables)
    # The values in a file of their own, as an inventory's would be: a failing task shows its playbook lines.
    (tmp_path / "values.yml").write_text(yaml.safe_dump(values))
    play = [{
        "hosts": "localhost", "connection": "local", "gather_facts": False, "vars_files": ["values.yml"],
        "tasks": [
            {"name": "Check", "flaskstack.deploy.check_inputs": {"roles": ["supervisor"]}},
            {"name": "Write supervisord.conf", "ansible.builtin.template": {
                "src": str(TEMPLATES / "supervisord.conf.j2"), "dest": "{{ supervisor_input.conf_file }}",
                "mode": "0600"}},
            {"name": "Write the programs", "ansible.builtin.template": {
                "src": str(TEMPLATES / "program.conf.j2"),
                "dest": "{{ supervisor_input.conf_dir }}/{{ supervisor_program.name }}.conf", "mode": "0600"},
             "loop": "{{ supervisor_input.programs }}",
             "loop_control": {"loop_var": "supervisor_program", "index_var": "supervisor_index"}},
        ],
    }]
    playbook = tmp_path / "render.yml"
    playbook.write_text(yaml.safe_dump(play))
    run = ansible_playbook("-i", "localhost,", str(playbook), cwd=tmp_path)
    if run.returncode:
        return run, None
    options = ServerOptions()
    options.configfile = values["supervisor_conf_file"]
    return run, options.read_config(values["supervisor_conf_file"])


def servers(section):
    return {config["family"].name: config for config in section.server_configs}


def programs(section):
    return {p.name: p for group in section.process_group_configs for p in group.process_configs}


@pytest.mark.parametrize("enabled", ["no", "false", "off", False, "0"])
def test_a_quoted_no_keeps_the_inet_server_off(ansible_playbook, tmp_path, enabled):
    run, section = render(ansible_playbook, tmp_path, supervisor_inet_http_server_enabled=enabled)
    assert run.returncode == 0, run.stdout
    assert list(servers(section)) == ["AF_UNIX"]
    assert "[inet_http_server]" not in (tmp_path / "supervisord.conf").read_text()


def test_the_password_is_read_back_as_given(ansible_playbook, tmp_path):
    run, section = render(ansible_playbook, tmp_path, supervisor_inet_http_server_enabled="yes",
                          supervisor_inet_http_server_password=PASSWORD)
    assert run.returncode == 0, run.stdout
    assert servers(section)["AF_INET"]["password"] == PASSWORD
    assert PASSWORD not in run.stdout


@pytest.mark.parametrize("password, why", [
    ("secret\n[program:evil]\ncommand=/bin/sh -c id\nuser=root", "cannot hold a line break"),
    ("secret ;rest", "cannot hold \";\" after a blank"),
])
def test_a_password_supervisor_would_misread_is_refused_unseen(ansible_playbook, tmp_path, password, why):
    run, dummy = render(ansible_playbook, tmp_path, supervisor_inet_http_server_enabled=True,
                        supervisor_inet_http_server_password=password)
    assert run.returncode != 0
    line = next(line for line in run.stdout.splitlines() if line.startswith("supervisor_inet_http_server_password:"))
    assert why in line and line.endswith("(the value is not shown)")
    assert "secret" not in run.stdout and "evil" not in run.stdout
    assert not (tmp_path / "supervisord.conf").exists()


def test_commands_and_environments_are_read_back_as_given(ansible_playbook, tmp_path):
    env = {"RATE": "50%", "QUOTE": 'say "hi" now', "LIST": "a,b c", "EMPTY": ""}
    program = {"name": "clock", "command": "/bin/date +%s", "environment": env,
               "autostart": "no", "autorestart": "unexpected", "killasgroup": "false"}
    run, section = render(ansible_playbook, tmp_path, supervisor_programs=[program])
    assert run.returncode == 0, run.stdout
    clock = programs(section)["clock"]
    assert clock.command == "/bin/date +%s"
    assert clock.environment == env
    assert clock.autostart is False and clock.killasgroup is False and clock.stopasgroup is False
    assert clock.stdout_logfile == str(tmp_path / "log" / "clock.log")


@pytest.mark.parametrize("field, value, why", [
    ("command", "/usr/bin/worker ; rm -rf /", "supervisor_programs[0].command: cannot hold \";\" after a blank"),
    ("command", "/usr/bin/worker\n[program:root]", "supervisor_programs[0].command: "),
    ("environment", {"A": "1\nB=2"}, "supervisor_programs[0].environment"),
    ("environment", {"A": 'ends with "quote"'}, "supervisor_programs[0].environment.A: begins or ends with a quote"),
])
def test_a_program_value_supervisor_would_misread_is_refused(ansible_playbook, tmp_path, field, value, why):
    program = {"name": "worker", "command": "/usr/bin/worker", field: value}
    run, dummy = render(ansible_playbook, tmp_path, supervisor_programs=[program])
    assert run.returncode != 0
    assert why in run.stdout
    assert not list((tmp_path / "conf.d").iterdir())


@pytest.mark.parametrize("mode, octal", [("0770", 0o770), (504, 0o770), (448, 0o700)])
def test_an_unquoted_mode_is_the_same_mode(ansible_playbook, tmp_path, mode, octal):
    run, section = render(ansible_playbook, tmp_path, supervisor_socket_mode=mode)
    assert run.returncode == 0, run.stdout
    assert servers(section)["AF_UNIX"]["chmod"] == octal


def test_a_mode_other_than_the_two_is_refused(ansible_playbook, tmp_path):
    run, dummy = render(ansible_playbook, tmp_path, supervisor_socket_mode="0777")
    assert run.returncode != 0 and "supervisor_socket_mode: " in run.stdout


def test_the_fact_holds_no_secret(ansible_playbook, tmp_path):
    run, dummy = render(ansible_playbook, tmp_path, supervisor_inet_http_server_enabled=True,
                        supervisor_inet_http_server_password=PASSWORD)
    facts = tmp_path / "facts.json"
    assert run.returncode == 0
    assert not facts.exists() or PASSWORD not in json.dumps(json.loads(facts.read_text()))
