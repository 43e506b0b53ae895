"""A user's own app, deployed from the installed tarball over SSH: first run, a no-op second run, and
five production events under load, over fresh and kept-alive connections, with nothing dropped."""

import os
import pathlib
import re
import subprocess

import pytest
import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("lb")
APP_HOSTS = sorted(RUNNER.get_hosts("app"))
PROJECT = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "project"
PHASES = ["rolling-v2", "rollback", "failing-v3", "kill", "broken-nginx"]
# Each phase ran two loads side by side: one client opening a new connection per request (load-), and 8
# clients each reusing one kept-alive connection without retrying (ka-).
LOADS = {"load": 3000, "ka": 20000}
# Over in seconds: at least 1,500 requests over fresh connections (paced, about 100 a second) and 3,000
# over kept-alive ones.
SHORT_PHASES = {"kill": {"load": 1500, "ka": 3000}, "broken-nginx": {"load": 1500, "ka": 3000}}


def output(run):
    return (PROJECT / ("%s.out" % run)).read_text()


def load(host, phase, kind="load"):
    return [line.split() for line in host.file("/root/%s-%s.log" % (kind, phase)).content_string.splitlines()]


def release_id(source):
    """The id flask_app gives the code in a directory (a hash of every file)."""
    script = (
        "set -o pipefail && cd %s && find . -type f ! -path '*/__pycache__/*' -print0"
        " | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum" % source
    )
    return subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout[:12]


def current_release(app_host):
    return RUNNER.get_host(app_host).check_output("readlink /srv/shop/current").rsplit("/", 1)[1]


def test_the_collection_came_from_the_tarball_only():
    installed = PROJECT / ".ansible" / "collections" / "ansible_collections" / "flaskstack" / "deploy"
    assert (installed / "MANIFEST.json").is_file()
    assert not (installed / "molecule").exists()
    config = (PROJECT / "ansible.cfg").read_text()
    assert "pipelining" not in config and "host_key_checking" not in config


def test_the_first_run_deployed_over_ssh_as_a_non_root_user():
    first = output("site-1")
    assert first.startswith("rc=0"), first[-3000:]
    inventory = (PROJECT / "inventory.yml").read_text()
    assert "ansible_user: deploy" in inventory and "ansible_user: pi" in inventory
    assert "ansible_connection" not in inventory  # ssh, Ansible's default


def test_the_second_run_changed_nothing():
    recap = re.findall(r"^(consumer-\S+)\s+: ok=\d+\s+changed=(\d+)", output("site-2"), re.M)
    assert sorted(recap) == sorted((host, "0") for host in ["consumer-lb1"] + APP_HOSTS)


def test_the_app_servers_load_the_users_callable():
    for app_host, target in zip(APP_HOSTS, ["wsgi:application", "shop:create_app()", "shop:create_app()"]):
        ini = RUNNER.get_host(app_host).file("/etc/flaskstack/shop/uwsgi.ini").content_string
        assert "module = flaskstack_wsgi:application" in ini
        assert "env = FLASKSTACK_WSGI_APP=%s" % target in ini
        assert re.search(r"^socket = 0\.0\.0\.0:8000$", ini, re.M)


def test_no_acl_is_needed_on_the_hosts():
    # become_user to the app user is never used, so Ansible's temporary files need no ACLs.
    for app_host in APP_HOSTS:
        assert not RUNNER.get_host(app_host).package("acl").is_installed


def test_nginx_speaks_uwsgi_to_the_pool(host):
    site = host.file("/etc/nginx/flaskstack.d/site-app.conf").content_string
    assert "uwsgi_pass app;" in site
    pool = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert len(re.findall(r"server \S+:8000", pool)) == 3
    assert " down" not in pool
    # The uWSGI hosts serve only the uwsgi protocol on the app port: plain HTTP there gets no valid answer.
    for app_host in APP_HOSTS:
        answer = RUNNER.get_host(app_host).run("curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/")
        assert answer.stdout != "200"


def test_the_shop_answers_with_its_static_files_and_environment(host):
    page = host.check_output("curl -sf -H 'Host: localhost' http://127.0.0.1/")
    assert "<h1>shop 1.0</h1>" in page and "prices in EUR" in page  # back on v1 after the rollback
    css = host.check_output("curl -sf -H 'Host: localhost' http://127.0.0.1/assets/shop.css")
    assert "color" in css


@pytest.mark.parametrize("kind", sorted(LOADS))
@pytest.mark.parametrize("phase", PHASES)
def test_nothing_failed_under_load(host, phase, kind):
    answers = load(host, phase, kind)
    assert len(answers) >= SHORT_PHASES.get(phase, LOADS)[kind]
    failures = [" ".join(answer) for answer in answers if answer[0] != "200"]
    assert not failures, failures[:20]
    if kind == "ka":  # the connections really were reused
        assert sum(1 for answer in answers if answer[-1] != "r0") > 0.9 * len(answers)


def test_the_rolling_update_moved_every_host_to_v2(host):
    assert output("rolling-v2").startswith("rc=0")
    versions = [answer[2] for answer in load(host, "rolling-v2")]
    assert versions[0] == "shop_1.0" and versions[-1] == "shop_2.0"
    assert set(versions) == {"shop_1.0", "shop_2.0"}
    v2 = release_id(PROJECT / "shop-v2")
    assert all(RUNNER.get_host(app).file("/srv/shop/releases/%s" % v2).is_directory for app in APP_HOSTS)
    # The rollback (the next step) found every host on v2.
    assert load(host, "rollback")[0][2] == "shop_2.0"


def test_the_rollback_moved_every_host_back_to_v1(host):
    assert output("rollback").startswith("rc=0")
    versions = [answer[2] for answer in load(host, "rollback", "ka")]
    assert versions[0] == "shop_2.0" and versions[-1] == "shop_1.0"
    assert {current_release(app) for app in APP_HOSTS} == {release_id(PROJECT / "shop-v1")}


def test_the_failing_release_stopped_at_the_first_host_and_was_never_served(host):
    result = output("failing-v3")
    assert not result.startswith("rc=0")
    assert "did not pass its health check" in result and "status 503" in result
    assert "It was rolled back to the previous release" in result
    v3 = release_id(PROJECT / "shop-v3")
    first, *others = APP_HOSTS
    assert RUNNER.get_host(first).file("/srv/shop/releases/%s" % v3).is_directory
    assert all(not RUNNER.get_host(other).file("/srv/shop/releases/%s" % v3).exists for other in others)
    assert {current_release(app) for app in APP_HOSTS} == {release_id(PROJECT / "shop-v1")}
    for kind in LOADS:
        assert {answer[2] for answer in load(host, "failing-v3", kind)} == {"shop_1.0"}
    # A later rollback returns to v2 (as before the failed deploy), never to the failed v3.
    v2 = release_id(PROJECT / "shop-v2")
    for app in APP_HOSTS:
        assert RUNNER.get_host(app).file("/srv/shop/PREVIOUS_RELEASE").content_string.strip() == v2, app


def test_the_hooks_ran_at_their_moments_for_each_new_release_only():
    v1, v2, v3 = (release_id(PROJECT / ("shop-v%d" % n)) for n in (1, 2, 3))
    first, *others = APP_HOSTS

    def deploy(release, previous, switched=True):
        notes = ["before_install %s current=%s code=no" % (release, previous),
                 "before_switch %s current=%s venv=yes" % (release, previous)]
        return notes + (["after_switch %s current=%s code=yes" % (release, release)] if switched else [])

    # site-1 deployed v1, site-2 (the same release) ran no hook, the rollback runs none, and v3 failed its
    # health check after the switch on the first host only.
    expected = {app: deploy(v1, "") + deploy(v2, v1) for app in APP_HOSTS}
    expected[first] += deploy(v3, v1, switched=False)
    for app in APP_HOSTS:
        notes = RUNNER.get_host(app).file("/var/tmp/shop-hooks.log").content_string.splitlines()
        assert notes == expected[app], app
    # The migration ran once per deploy, on the first host, through the release's flask command with the
    # app's environment (SHOP_CURRENCY from flask_app_env).
    assert RUNNER.get_host(first).file("/var/tmp/shop-db.log").content_string.splitlines() == [
        "shop_1.0 EUR", "shop_2.0 EUR", "shop_2.0 EUR"]
    assert all(not RUNNER.get_host(other).file("/var/tmp/shop-db.log").exists for other in others)


def test_the_killed_master_came_back():
    app1 = RUNNER.get_host(APP_HOSTS[0])
    before = app1.file("/root/pid-before").content_string.strip()
    after = app1.file("/root/pid-after").content_string.strip()
    assert before.isdigit() and after.isdigit() and before != after
    assert "RUNNING" in app1.check_output("supervisorctl status shop")


def test_the_broken_directive_never_went_live(host):
    result = output("broken-nginx")
    assert not result.startswith("rc=0")
    assert 'unknown directive "frobnicate"' in result
    assert "frobnicate" not in host.check_output("cat /etc/nginx/flaskstack.d/*.conf")
    assert {answer[2] for answer in load(host, "broken-nginx")} == {"shop_1.0"}
