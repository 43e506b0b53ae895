"""rolling_update under load: nothing dropped, every host on v2; a broken v3 stops at the first host."""

import collections
import os
import pathlib
import subprocess

import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("lb")
APP_HOSTS = sorted(RUNNER.get_hosts("app"))
WORK = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "releases"


def load(host, phase):
    lines = host.file("/root/load-%s.log" % phase).content_string.splitlines()
    return [line.split() for line in lines]


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


def test_rolling_update_to_v2_dropped_nothing(host):
    answers = load(host, "v2")
    assert len(answers) >= 5000
    failures = [" ".join(answer) for answer in answers if answer[0] != "200"]
    assert not failures, failures[:20]
    # Every backend served during the update, and the answers moved from v1 to v2.
    assert {answer[1] for answer in answers} == set(APP_HOSTS)
    releases = [answer[2] for answer in answers]
    assert len(set(releases)) == 2 and releases[0] != releases[-1]


def test_every_host_ended_on_v2(host):
    v2 = load(host, "v2")[-1][2]
    assert v2 == release_id(WORK / "v2")
    assert {release_of(app) for app in APP_HOSTS} == {v2}


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
    v2 = load(host, "v2")[-1][2]
    assert release_of(first) == v2
    assert release_of(second) == v2


def test_the_broken_release_was_never_served(host):
    answers = load(host, "v3")
    assert len(answers) >= 5000
    failures = [" ".join(answer) for answer in answers if answer[0] != "200"]
    assert not failures, failures[:20]
    v2 = load(host, "v2")[-1][2]
    assert {answer[2] for answer in answers} == {v2}
    assert {answer[1] for answer in answers} == set(APP_HOSTS)


def test_hosts_are_back_in_the_pool(host):
    conf = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert " down" not in conf
