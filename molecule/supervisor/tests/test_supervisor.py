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


def restarted(host, port):
    return read(host, "/root/%d.after" % port) != read(host, "/root/%d.pid" % port)


def test_only_the_changed_program_restarted(host):
    assert restarted(host, 8102)  # web-b changed: a new process
    assert not restarted(host, 8101)  # web-a untouched: the same process


def test_a_changed_member_restarts_its_group_only(host):
    # worker-2 changed: supervisor updates the group `workers` as a whole, worker-1 included.
    assert restarted(host, 8105) and restarted(host, 8104)
    # The group `jobs` and the programs outside any group kept their processes.
    assert not restarted(host, 8106)
    assert not restarted(host, 8101)


def test_groups_as_supervisorctl_sees_them(host):
    out = host.run("supervisorctl status").stdout
    names = sorted(line.split()[0] for line in out.splitlines())
    assert names == ["jobs:job-1", "web-a", "web-b", "workers:mover", "workers:worker-1", "workers:worker-2"]
    assert all(status(host, name) == "RUNNING" for name in names if name != "web-a")


def test_group_file_lists_its_members(host):
    f = host.file("/etc/supervisor/conf.d/workers.group.conf")
    assert f.mode == 0o644 and f.user == "root"
    assert "[group:workers]\nprograms=worker-1,worker-2,mover\n" in f.content_string


def test_a_program_moved_into_a_group_runs_once(host):
    # mover left its own group for `workers`: its old process is gone, one new one runs in the group.
    assert restarted(host, 8107)
    pids = host.run("pgrep -fx 'python3 -m http.server --bind 127.0.0.1 8107'").stdout.split()
    assert pids == [host.run("supervisorctl pid workers:mover").stdout.strip()]


def test_purged_group_is_gone(host):
    assert not host.file("/etc/supervisor/conf.d/old.group.conf").exists
    assert not host.file("/etc/supervisor/conf.d/old-1.conf").exists
    assert not host.socket("tcp://127.0.0.1:8108").is_listening


def test_changed_environment_reached_the_program(host):
    pid = host.run("supervisorctl pid web-b").stdout.strip()
    environ = host.file("/proc/%s/environ" % pid).content_string
    assert "GREETING=changed" in environ.split("\x00")


def test_killed_program_comes_back(host):
    killed = read(host, "/root/8101.after")
    for dummy in range(30):
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


def test_programs_stopped_by_hand_are_started_by_the_next_run(host):
    for name in ("web-b", "workers:worker-1"):
        assert status(host, name) == "RUNNING", name
    # The others were left alone: job-1 still runs the process recorded after the change.
    assert host.run("supervisorctl pid jobs:job-1").stdout.strip() == read(host, "/root/8106.after")
