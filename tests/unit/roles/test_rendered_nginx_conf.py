"""nginx.conf holds the normalised values of the nginx role's inputs, and the real nginx accepts it.

Renders the role's real nginx.conf.j2 with ansible-playbook on the local machine, after the role's input
check (which sets nginx_input), into a scratch directory, and runs this machine's nginx -t on it. Values
nginx would read otherwise (a quoted "no", a `;` in a log path, a syslog target carrying directives) are
refused naming the variable, or written as what they mean.
"""

import pathlib
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None or not pathlib.Path("/etc/nginx/mime.types").exists(),
                                reason="no nginx on this machine")


def render(render_templates, tmp_path, **variables):
    sites = tmp_path / "flaskstack.d"
    sites.mkdir()
    shutil.copy("/etc/nginx/mime.types", tmp_path / "mime.types")
    values = {"nginx_install_method": "source", "nginx_conf_dir": str(tmp_path), "nginx_sites_dir": str(sites),
              "nginx_pid_file": str(tmp_path / "nginx.pid"), "nginx_error_log": str(tmp_path / "error.log"),
              "nginx_access_log": str(tmp_path / "access.log")}
    values.update(variables)
    run = render_templates("nginx", values, [{"name": "Write nginx.conf", "src": "nginx.conf.j2",
                                              "dest": str(tmp_path / "nginx.conf")}], defaults=True)
    conf = tmp_path / "nginx.conf"
    return run, (conf.read_text() if conf.exists() else None)


def nginx_accepts(tmp_path):
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / name).mkdir(exist_ok=True)
    run = subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                          "-g", "error_log %s/t.log;" % tmp_path], capture_output=True, text=True, check=False)
    return run.returncode == 0, run.stderr


def directives(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_the_defaults_pass_nginx(render_templates, tmp_path):
    run, text = render(render_templates, tmp_path)
    assert run.returncode == 0, run.stdout
    ok, why = nginx_accepts(tmp_path)
    assert ok, why
    assert "gzip on;" in directives(text) and "multi_accept on;" in directives(text)


@pytest.mark.parametrize("off", ["no", "off", "false", False, "0"])
def test_a_quoted_no_turns_gzip_off(render_templates, tmp_path, off):
    run, text = render(render_templates, tmp_path, nginx_gzip=off, nginx_sendfile=off, nginx_listen_ipv6=off)
    assert run.returncode == 0, run.stdout
    assert "gzip on;" not in directives(text) and "sendfile off;" in directives(text)
    assert nginx_accepts(tmp_path)[0]


def test_times_and_sizes_are_written_as_nginx_reads_them(render_templates, tmp_path):
    run, text = render(render_templates, tmp_path, nginx_keepalive_timeout="75", nginx_client_max_body_size="8M",
                       nginx_open_file_cache_valid="1m30s",
                       nginx_open_file_cache="max=100  inactive=1m", nginx_access_log="off",
                       nginx_error_log="syslog:server=unix:/dev/log,tag=nginx,nohostname")
    assert run.returncode == 0, run.stdout
    found = directives(text)
    for line in ("keepalive_timeout 75;", "open_file_cache_valid 1m30s;", "client_max_body_size 8m;", "open_file_cache max=100 inactive=1m;",
                 "access_log off;", "error_log syslog:server=unix:/dev/log,tag=nginx,nohostname warn;"):
        assert line in found, line
    assert nginx_accepts(tmp_path)[0]


@pytest.mark.parametrize("name, value", [
    ("nginx_access_log", "/var/log/nginx/a.log;"),
    ("nginx_access_log", "syslog:server=127.0.0.1; autoindex on; #"),
    ("nginx_error_log", "syslog:server=unix:/dev/log;autoindex"),
    ("nginx_error_log", "/var/log/nginx/../../../etc/cron.d/x"),
    ("nginx_access_log", "/var/log/nginx/a#b.log"),
    ("nginx_open_file_cache_valid", "1m 30s"),
    ("nginx_client_max_body_size", "10 m"),
    ("nginx_large_client_header_buffers", "4 8k;"),
    ("nginx_user", "www-data;daemon off"),
])
def test_what_would_change_nginx_conf_is_refused_naming_the_variable(render_templates, tmp_path, name, value):
    run, text = render(render_templates, tmp_path, **{name: value})
    assert run.returncode != 0 and text is None
    assert "\n%s: " % name in run.stdout or " %s: " % name in run.stdout, run.stdout
