"""rolling_update and rollback under load, over fresh and kept-alive connections: nothing dropped, every
host on v2, then back on v1; a broken v3 stops at the first host and is never served."""

import os
import pathlib
import re
import subprocess

import pytest
import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("lb")
APP_HOSTS = sorted(RUNNER.get_hosts("app"))
WORK = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "releases"


# Each phase ran two loads side by side: one client opening a new connection per request (load-), and 8
# clients each reusing one kept-alive connection without retrying (ka-, the client that loses a request
# when nginx closes an idle connection under it).
LOADS = {"load": 5000, "ka": 20000}


def load(host, phase, kind="load"):
    lines = host.file("/root/%s-%s.log" % (kind, phase)).content_string.splitlines()
    return [line.split() for line in lines]


def no_failures(host, phase, kind):
    answers = load(host, phase, kind)
    assert len(answers) >= LOADS[kind]
    failures = [" ".join(answer) for answer in answers if answer[0] != "200"]
    assert not failures, failures[:20]
    if kind == "ka":  # the connections really were reused
        assert sum(1 for answer in answers if answer[-1] != "r0") > 0.9 * len(answers)
    return answers


def release_of(app_host):
    target = RUNNER.get_host(app_host).check_output("readlink /srv/flask_app/current")
    return target.rsplit("/", 1)[1]


def release_id(source):
    """The id flask_app gives the code in a directory (release_id.yml: a hash of every file)."""
    script = (
        "set -o pipefail && cd %s && find . -type f ! -path '*/__pycache__/*' -print0"
        " | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum" % source
    )
    return subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout[:12]


@pytest.mark.parametrize("kind", sorted(LOADS))
def test_rolling_update_to_v2_dropped_nothing(host, kind):
    answers = no_failures(host, "v2", kind)
    # Every backend served during the update, and the answers moved from v1 to v2.
    assert {answer[1] for answer in answers} == set(APP_HOSTS)
    releases = [answer[2] for answer in answers]
    assert len(set(releases)) == 2 and releases[0] != releases[-1]


def test_every_host_got_v2(host):
    v2 = load(host, "v2")[-1][2]
    assert v2 == release_id(WORK / "v2")
    assert all(RUNNER.get_host(app).file("/srv/flask_app/releases/%s" % v2).is_directory for app in APP_HOSTS)
    # The rollback (the next phase) found every host on v2.
    assert load(host, "rollback", "ka")[0][2] == v2


@pytest.mark.parametrize("kind", sorted(LOADS))
def test_rollback_to_v1_dropped_nothing(host, kind):
    answers = no_failures(host, "rollback", kind)
    v1, v2 = load(host, "v2")[0][2], load(host, "v2")[-1][2]
    assert answers[0][2] == v2 and answers[-1][2] == v1
    assert {answer[2] for answer in answers} == {v1, v2}
    assert {release_of(app) for app in APP_HOSTS} == {v1}


def test_broken_release_stopped_at_the_first_host(host):
    output = (WORK / "rolling-v3.out").read_text()
    assert output.startswith("rc=2"), output[:200]
    assert "did not pass its health check" in output
    assert "It was rolled back to the previous release" in output
    v3 = release_id(WORK / "v3")
    first, second = APP_HOSTS
    # The first host got v3, failed its health check and is back on v2; the second was never touched.
    assert RUNNER.get_host(first).file("/srv/flask_app/releases/%s" % v3).is_directory
    assert not RUNNER.get_host(second).file("/srv/flask_app/releases/%s" % v3).exists
    v1 = load(host, "v2")[0][2]
    assert release_of(first) == v1
    assert release_of(second) == v1


@pytest.mark.parametrize("kind", sorted(LOADS))
def test_the_broken_release_was_never_served(host, kind):
    answers = no_failures(host, "v3", kind)
    v1 = load(host, "v2")[0][2]
    assert {answer[2] for answer in answers} == {v1}
    assert {answer[1] for answer in answers} == set(APP_HOSTS)


def test_hosts_are_back_in_the_pool_and_nginx_was_never_reloaded(host):
    conf = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert " down" not in conf
    for app in APP_HOSTS:
        assert not RUNNER.get_host(app).file("/srv/flask_app/DRAIN").exists
    # Draining goes through the app hosts: no phase reloaded nginx (a reload would close kept-alive
    # connections), so its workers are the ones that ran before the first update.
    before = host.file("/root/nginx-workers-before").content_string.split()
    assert before and before == sorted(host.check_output("pgrep -f '^nginx: worker process'").split())


def check_refused(host, name, pattern):
    output = (WORK / ("site-%s.out" % name)).read_text()
    assert output.startswith("rc=2"), output[:300]
    assert re.search(pattern, output), output
    # Stopped in the preflight play: no play after it started and no host changed.
    assert "PLAY [App tier]" not in output
    for line in output.split("PLAY RECAP", 1)[1].splitlines():
        if ":" in line and "changed=" in line:
            assert "changed=0" in line, line
    before = host.file("/root/nginx-before").content_string
    assert before and host.file("/root/nginx-after-refused").content_string == before


def test_forced_protocol_mismatch_is_refused_naming_the_host(host):
    check_refused(host, "forced", r"rolling-app1.*gunicorn.*(only|speaks).*http")


def test_pool_with_no_common_protocol_is_refused_naming_the_host(host):
    check_refused(host, "mixed", r"uwsgi_protocol: http.*rolling-app2|rolling-app2.*uwsgi_protocol")
