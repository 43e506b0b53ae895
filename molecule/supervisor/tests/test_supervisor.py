"""supervisor: each program applied alone, killed programs come back, closed control socket."""

import os
import time

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def read(host, path):
    return host.file(path).content_string.strip()


def status(host, name):
    return host.run("supervisorctl status %s", name).stdout.split()[1]


def test_supervisord_under_systemd(host):
    assert host.service("supervisor").is_running
    assert host.service("supervisor").is_enabled


def test_supervisord_was_not_restarted(host):
    assert read(host, "/run/supervisord.pid") == read(host, "/root/supervisord.pid")


def test_only_the_changed_program_restarted(host):
    assert read(host, "/root/web-b.after") != read(host, "/root/web-b.pid")  # changed: new process
    assert read(host, "/root/web-a.after") == read(host, "/root/web-a.pid")  # untouched: same process


def test_changed_environment_reached_the_program(host):
    pid = host.run("supervisorctl pid web-b").stdout.strip()
    environ = host.file("/proc/%s/environ" % pid).content_string
    assert "GREETING=changed" in environ.split("\x00")


def test_killed_program_comes_back(host):
    killed = read(host, "/root/web-a.after")
    for _ in range(30):
        pid = host.run("supervisorctl pid web-a").stdout.strip()
        if pid not in ("", "0", killed) and status(host, "web-a") == "RUNNING":
            break
        time.sleep(1)
    assert pid != killed and status(host, "web-a") == "RUNNING"
    assert host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8101/").stdout == "200"


def test_programs_run_as_their_user(host):
    pid = host.run("supervisorctl pid web-b").stdout.strip()
    assert host.run("ps -o user= -p %s", pid).stdout.strip() == "nobody"


def test_purged_program_is_gone(host):
    assert not host.file("/etc/supervisor/conf.d/web-extra.conf").exists
    assert "web-extra" not in host.run("supervisorctl status").stdout
    assert not host.socket("tcp://127.0.0.1:8103").is_listening


def test_control_socket_is_closed_and_no_inet_server(host):
    sock = host.file("/run/supervisor.sock")
    assert sock.is_socket and sock.mode == 0o700 and sock.user == "root"
    assert not host.socket("tcp://0.0.0.0:9001").is_listening
    assert not host.socket("tcp://127.0.0.1:9001").is_listening
    assert "inet_http_server" not in host.file("/etc/supervisor/supervisord.conf").content_string


def test_program_files_are_private(host):
    f = host.file("/etc/supervisor/conf.d/web-b.conf")
    assert f.mode == 0o600 and f.user == "root"


def test_environment_values_arrive_verbatim(host):
    pid = host.run("supervisorctl pid web-a").stdout.strip()
    environ = host.file("/proc/%s/environ" % pid).content_string.split("\x00")
    assert 'GREETING=hello "world" 100%' in environ
