"""site.yml on the lab topology: every backend answers through the load balancer, ARM included."""

import collections
import json
import os

import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("lb")
APP_HOSTS = sorted(RUNNER.get_hosts("app"))


def answers(host, count):
    seen = []
    for dummy in range(count):
        result = host.run("curl -s -m 5 -H 'Host: localhost' -w '\\n%{http_code}' http://127.0.0.1/")
        body, code = result.stdout.rsplit("\n", 1)
        assert code == "200", result.stdout
        seen.append(json.loads(body))
    return seen


def test_every_backend_answers_through_the_balancer(host):
    seen = answers(host, 30)
    by_host = collections.Counter(answer["hostname"] for answer in seen)
    assert sorted(by_host) == APP_HOSTS
    arch = {answer["hostname"]: answer["arch"] for answer in seen}
    assert arch["stack-app3"] == "armv7l"  # Debian armhf: a 32-bit Raspberry Pi OS
    assert arch["stack-app1"] == arch["stack-app2"] == "x86_64"
    # Weights from facts: an x86 core counts twice an ARM core, so the emulated Pi gets less.
    assert by_host["stack-app3"] < by_host["stack-app1"]
    assert len({answer["release"] for answer in seen}) == 1


def test_the_pool_is_http_with_weights_by_architecture(host):
    conf = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert "# app: http protocol" in conf
    for name in APP_HOSTS:
        assert "server %s:8000" % name in conf
    site = host.file("/etc/nginx/flaskstack.d/site-app.conf").content_string
    assert "proxy_pass http://app;" in site and "uwsgi_pass" not in site


def test_unknown_host_is_refused(host):
    assert host.run("curl -s -m 5 -H 'Host: other.test' -o /dev/null -w '%{http_code}' http://127.0.0.1/").stdout == "000"


def test_sessions_survive_a_change_of_backend(host):
    # The same secret key on every node: a session cookie from one backend is valid on the others.
    jar = "/tmp/stack-cookies"
    host.run("rm -f %s" % jar)
    visits = []
    for dummy in range(9):
        result = host.run("curl -s -m 5 -b %s -c %s -H 'Host: localhost' http://127.0.0.1/" % (jar, jar))
        visits.append(json.loads(result.stdout)["visits"])
    assert visits == list(range(1, 10))


def test_the_emulated_host_is_a_debian_13_test_bed_image():
    # The test bed's own checks (the default scenario's) for the armhf image, which only this scenario runs.
    other = RUNNER.get_host("stack-app3")
    assert other.file("/proc/1/comm").content_string.strip() == "systemd"
    state = other.run("systemctl is-system-running").stdout.strip()
    assert state == "running", other.run("systemctl --failed --no-legend").stdout
    assert other.system_info.arch == "armv7l"
    assert 'VERSION_ID="13"' in other.file("/etc/os-release").content_string
    assert other.run("/usr/bin/python3 -c 'import apt'").rc == 0
