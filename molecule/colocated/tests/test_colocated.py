"""nginx and uWSGI on one host: a unix socket only nginx's group can use, the app from git, static files
served by nginx from current/static, v1 → v2 under load with no failed request."""

import ast
import json
import os
import re

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

BASE = "/srv/flask_app"
SOCKET = BASE + "/run/uwsgi.sock"


def commits(host):
    v1, v2 = host.file("/root/commits").content_string.split()
    return v1, v2


def test_socket_is_for_the_app_and_nginx_only(host):
    sock = host.file(SOCKET)
    assert sock.is_socket
    assert (sock.user, sock.group, sock.mode) == ("flask_app", "www-data", 0o660)
    run_dir = host.file(BASE + "/run")
    assert (run_dir.user, run_dir.group, run_dir.mode) == ("flask_app", "www-data", 0o750)
    # Another unprivileged user can neither enter the directory nor use the socket.
    assert host.run("runuser -u nobody -- test -w %s", SOCKET).rc != 0


def test_uwsgi_serves_the_socket_and_no_public_port(host):
    assert "www-data" in host.user("flask_app").groups
    assert host.socket("unix://" + SOCKET).is_listening
    assert not host.socket("tcp://0.0.0.0:8000").is_listening
    assert host.socket("tcp://127.0.0.1:9000").is_listening  # health checks, loopback only
    master = host.run("pgrep -o -f 'uwsgi --ini'").stdout.strip()
    assert host.run("ps -o user= -p %s", master).stdout.strip() == "flask_app"


def test_nginx_passes_to_the_socket_with_the_uwsgi_protocol(host):
    upstreams = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert re.search(r"server unix:%s[ ;]" % re.escape(SOCKET), upstreams)
    assert "uwsgi_pass app;" in host.file("/etc/nginx/flaskstack.d/site-app.conf").content_string


def test_request_through_nginx_reaches_release_v2(host):
    v2 = commits(host)[1]
    body = json.loads(host.check_output("curl -sf http://localhost/"))
    assert body["release"] == v2[:12]


def test_release_from_git_records_its_commit(host):
    v1, v2 = commits(host)
    release = "%s/releases/%s" % (BASE, v2[:12])
    assert host.file(BASE + "/current").linked_to == release
    assert host.file(release + "/REVISION").content_string.strip() == v2
    assert host.file(release + "/RELEASE").content_string.strip() == v2[:12]
    assert not host.file(release + "/.git").exists  # an export, not a clone
    assert host.file(BASE + "/PREVIOUS_RELEASE").content_string.strip() == v1[:12]
    assert not host.exists("git")  # the app host needs no git


def test_static_files_come_from_nginx_and_the_new_release_at_once(host):
    before = host.file("/root/static-v1.css").content_string
    after = json.loads(host.file("/root/static-v2.json").content_string)
    assert ".release-v2" not in before
    assert ".release-v2" in after["body"]  # asked right after the switch: nginx's open file cache did not hold v1
    assert after["cache_control"] == "max-age=2592000"  # nginx's expires 30d: nginx, not the app, served it


def test_no_request_failed_during_the_switch(host):
    v1, v2 = commits(host)
    lines = host.file("/root/load.log").content_string.splitlines()
    assert len(lines) >= 3000
    failed = [line for line in lines if not line.startswith("200 ")]
    assert failed == [], failed[:5]
    releases = {line.split()[2] for line in lines}
    assert releases == {v1[:12], v2[:12]}  # the stream saw the switch


def test_gunicorn_app_on_its_own_unix_socket(host):
    shop_socket = "/srv/shop/run/gunicorn.sock"
    assert host.file(shop_socket).is_socket
    run_dir = host.file("/srv/shop/run")
    assert (run_dir.user, run_dir.group, run_dir.mode) == ("shop", "www-data", 0o750)
    assert host.run("runuser -u nobody -- test -e %s", shop_socket).rc != 0  # others cannot even see it
    assert host.socket("tcp://127.0.0.1:8001").is_listening  # health checks, loopback only
    assert not host.socket("tcp://0.0.0.0:8001").is_listening
    master = host.run("pgrep -o -f 'shop/current/venv/bin/gunicorn'").stdout.strip()
    assert host.run("ps -o user= -p %s", master).stdout.strip() == "shop"
    body = json.loads(host.check_output("curl -sf -H 'Host: shop.localhost' http://127.0.0.1/"))
    assert body["release"] == host.file("/srv/shop/current/RELEASE").content_string.strip()
    assert not host.file("/srv/shop/current/REVISION").exists  # from a directory, not git
    # gevent's workers: gevent is in the virtualenv (the role adds it to the app server's packages).
    conf = ast.parse(host.file("/etc/flaskstack/shop/gunicorn.conf.py").content_string)
    settings = {node.targets[0].id: node.value for node in conf.body if isinstance(node, ast.Assign)}
    assert ast.literal_eval(settings["worker_class"]) == "gevent"
    assert host.run("/srv/shop/current/venv/bin/python -c 'import gevent'").rc == 0


def test_two_apps_two_supervisor_programs(host):
    out = host.run("supervisorctl status").stdout
    assert sorted(line.split()[0] for line in out.splitlines()) == ["flask_app", "shop"]
    assert all(line.split()[1] == "RUNNING" for line in out.splitlines())
