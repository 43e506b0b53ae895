"""The nginx role's configuration transaction (roles/nginx/tasks/transaction.yml) run for real with nginx_validate and
the real nginx binary on a configuration tree in tmp_path, through its two users: configure.yml (handler reload, stale
files set aside) and tasks_from upstreams (inline reload). systemctl is a stand-in that records what it is asked."""

import json
import os

import pytest

# The scratch tree (live), its fingerprint and the check of which tasks ran are the check-mode test's.
from test_nginx_check_mode import NGINX, SITE, fingerprint, live, ran  # pylint: disable=unused-import

pytestmark = [
    pytest.mark.skipif(NGINX is None and not os.environ.get("CI"), reason="no nginx binary; `make unit` installs one"),
    pytest.mark.skipif(os.geteuid() != 0, reason="nginx -t of a config with `user` needs root"),
]

PLAYBOOK = """
- name: The nginx role's configuration transaction
  hosts: localhost
  gather_facts: false
  tasks:
    # What the role's main entry point does first: check the inputs, keep the normalised ones (nginx_input).
    - name: Check the role's input
      flaskstack.deploy.check_inputs:
        roles: [nginx]

    - name: Run configure.yml or upstreams.yml
      ansible.builtin.include_role:
        name: flaskstack.deploy.nginx
        tasks_from: "{{ transaction_entry_point }}"
"""

SYSTEMCTL = """#!/bin/sh
echo "$*" >> "%(log)s"
case "$1" in
    show) printf 'Id=%%s.service\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\n' "$2" ;;
    reload) if [ -e "%(refuse)s" ]; then echo "Job for $2.service failed." >&2; exit 1; fi ;;
esac
"""

CONFIGURE = "nginx rejected the new configuration; the previous files are back in place and nginx still runs the previous configuration."
UPSTREAMS = ("The new upstream pools were not applied: the previous upstreams.conf is still in place and nginx still runs "
             "the previous configuration.")
BROKEN = dict(SITE, name="extra", server_name="extra.test", extra_directives=["frobnicate on;"])


@pytest.fixture()
def systemctl(live, monkeypatch):
    """A systemctl on PATH that says every unit runs and logs each call; reload fails while `refuse` exists.

    The live main file's pid goes into tmp_path: tasks_from upstreams tests the live main file for real, and nginx -t
    creates the pid file it names (the check-mode test checks that its own never appears).
    """
    main = live / "nginx" / "conf" / "nginx.conf"
    main.write_text(main.read_text().replace("/run/flaskstack-test-never.pid", str(live / "nginx.pid")))
    bin_dir = live / "bin"
    bin_dir.mkdir()
    paths = {"log": live / "systemctl.log", "refuse": live / "refuse-reload"}
    (bin_dir / "systemctl").write_text(SYSTEMCTL % paths)
    (bin_dir / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    return paths


def reloads(paths):
    log = paths["log"]
    return [line for line in log.read_text().splitlines() if line.startswith("reload")] if log.exists() else []


def run(ansible_playbook, tmp_path, sites, entry_point, check=False, upstreams=None, installed=True, binary=NGINX):
    """Apply tasks_from configure (what the role's main entry point runs after installing) or upstreams."""
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    extra = {
        "transaction_entry_point": entry_point,
        "nginx_install_method": "source",
        "nginx_source_prefix": str(tmp_path / "nginx"),
        "nginx_binary": binary,
        "nginx_installed": installed,
        "nginx_installed_version": "1.22.1",
        "nginx_user": "root",
        "nginx_access_log": str(tmp_path / "access.log"),
        "nginx_error_log": str(tmp_path / "error.log"),
        "nginx_pid_file": str(tmp_path / "nginx.pid"),
        "nginx_error_page_root": str(tmp_path / "error-pages"),
        "nginx_event_method": "",
        "nginx_drain_timeout": 2,
        "nginx_upstreams": upstreams or [
            {"name": "backend", "protocol": "http", "servers": [{"address": "127.0.0.1", "port": 8001}]}],
        "nginx_sites": sites,
    }
    proc = ansible_playbook(
        "-i", "localhost,", "-c", "local", *(["--check"] if check else []), str(tmp_path / "play.yml"),
        "-e", json.dumps(extra), config=tmp_path / "ansible.cfg", cwd=tmp_path,
    )
    return proc.returncode, proc.stdout + proc.stderr


def leftovers(tmp_path):
    """Backups (template's name.PID.DATE~) and set-aside files anywhere in the tree."""
    return sorted(path.name for path in (tmp_path / "nginx").rglob("*") if path.name.endswith(("~", ".flaskstack-removed")))


def test_configure_writes_tests_sets_aside_and_the_handler_reloads(live, systemctl, ansible_playbook):
    rc, output = run(ansible_playbook, live, [SITE], "configure")
    assert rc == 0, output
    sites = live / "nginx" / "conf" / "flaskstack.d"
    assert sorted(path.name for path in sites.iterdir()) == ["default.conf", "site-app.conf", "upstreams.conf"]  # no old.conf
    assert "server_name app.test;" in (sites / "site-app.conf").read_text()
    assert leftovers(live) == []
    assert ran(output, "Test the new configuration with nginx -t"), output
    assert "RUNNING HANDLER [flaskstack.deploy.nginx : Test the nginx configuration before reloading]" in output
    assert reloads(systemctl) == ["reload nginx"]
    assert not ran(output, "Test the new configuration in a scratch copy (check mode)"), output

    # Again: nothing changes, nothing is tested or reloaded.
    rc, output = run(ansible_playbook, live, [SITE], "configure")
    assert rc == 0, output
    assert "changed=0" in output, output
    assert not ran(output, "Test the new configuration with nginx -t"), output
    assert reloads(systemctl) == ["reload nginx"]


def test_configure_refused_restores_every_file_and_does_not_reload(live, systemctl, ansible_playbook):
    before = fingerprint(live / "nginx")
    rc, output = run(ansible_playbook, live, [SITE, BROKEN], "configure")
    assert rc != 0, output
    conf = live / "nginx" / "conf"
    assert CONFIGURE + ' nginx -t failed: unknown directive "frobnicate" in %s/flaskstack.d/site-extra.conf:' % conf in output
    # nginx.conf and upstreams.conf restored, site-app.conf and site-extra.conf removed, old.conf put back:
    # byte for byte the tree before, without backups.
    assert fingerprint(live / "nginx") == before
    assert reloads(systemctl) == []


def test_upstreams_reloads_inline_and_only_when_they_change(live, systemctl, ansible_playbook):
    (live / "nginx" / "conf" / "flaskstack.d" / "old.conf").unlink()  # not pruned here: it would fail nginx -t
    (live / "nginx" / "conf" / "flaskstack.d" / "site-app.conf").write_text("server { server_name app.test; }\n")
    pool = [{"name": "backend", "protocol": "http",
             "servers": [{"address": "127.0.0.1", "port": 8001}, {"address": "127.0.0.2", "port": 8001, "down": True}]}]
    rc, output = run(ansible_playbook, live, [], "upstreams", upstreams=pool)
    assert rc == 0, output
    upstreams = (live / "nginx" / "conf" / "flaskstack.d" / "upstreams.conf").read_text()
    assert "server 127.0.0.2:8001 down;" in upstreams
    assert (live / "nginx" / "conf" / "flaskstack.d" / "site-app.conf").exists()  # only upstreams.conf changes
    assert reloads(systemctl) == ["reload nginx"]
    assert ran(output, "Wait until the old worker processes have finished their requests"), output
    assert leftovers(live) == []

    rc, output = run(ansible_playbook, live, [], "upstreams", upstreams=pool)
    assert rc == 0, output
    assert "changed=0" in output, output
    assert reloads(systemctl) == ["reload nginx"]


def test_upstreams_refused_by_nginx_or_by_the_reload_are_restored(live, systemctl, ansible_playbook):
    before = fingerprint(live / "nginx")
    # old.conf (not nginx syntax) is live and not pruned by this entry point: nginx -t refuses the whole.
    rc, output = run(ansible_playbook, live, [], "upstreams",
                     upstreams=[{"name": "backend", "servers": [{"address": "127.0.0.3", "port": 8001}]}])
    assert rc != 0, output
    assert UPSTREAMS + " nginx -t failed:" in output
    assert "in %s/flaskstack.d/old.conf:" % (live / "nginx" / "conf") in output
    assert fingerprint(live / "nginx") == before
    assert reloads(systemctl) == []

    (live / "nginx" / "conf" / "flaskstack.d" / "old.conf").unlink()
    before = fingerprint(live / "nginx")
    systemctl["refuse"].write_text("")
    rc, output = run(ansible_playbook, live, [], "upstreams",
                     upstreams=[{"name": "backend", "servers": [{"address": "127.0.0.3", "port": 8001}]}])
    assert rc != 0, output
    assert UPSTREAMS + " Unable to reload service nginx: Job for nginx.service failed." in output
    assert fingerprint(live / "nginx") == before


def test_check_mode_tests_a_scratch_copy_and_fails_with_its_own_message(live, systemctl, ansible_playbook):
    before = fingerprint(live / "nginx")
    rc, output = run(ansible_playbook, live, [SITE, BROKEN], "configure", check=True)
    assert rc != 0, output
    assert "Check mode: nginx would reject the new configuration" in output
    assert CONFIGURE not in output  # nothing was written, so nothing was restored
    # The live tree's old.conf is broken; the new configuration sets it aside: a check run passes (the
    # handler does not test the live configuration in check mode).
    rc, output = run(ansible_playbook, live, [SITE], "configure", check=True)
    assert rc == 0, output
    assert ran(output, "Test the scratch copy with nginx -t"), output
    assert "RUNNING HANDLER [flaskstack.deploy.nginx : Reload nginx]" in output
    assert fingerprint(live / "nginx") == before
    assert leftovers(live) == [] and reloads(systemctl) == []


def test_check_mode_before_nginx_is_installed_says_so(live, systemctl, ansible_playbook):
    before = fingerprint(live / "nginx")
    rc, output = run(ansible_playbook, live, [SITE], "configure", check=True, installed=False,
                     binary=str(live / "no-such-nginx"))
    assert rc == 0, output
    assert not ran(output, "Write the configuration files"), output
    assert "Check mode: nginx is not installed yet" in output
    assert fingerprint(live / "nginx") == before
