"""The nginx role's check-mode test (roles/nginx/tasks/check_mode_test.yml) with nginx_validate and the real
nginx binary: a scratch copy of a configuration tree in tmp_path is tested, the live tree is never touched."""

import glob
import hashlib
import json
import os
import re
import shutil

import pytest

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)), None
)
pytestmark = [
    pytest.mark.skipif(NGINX is None and not os.environ.get("CI"), reason="no nginx binary; `make unit` installs one"),
    pytest.mark.skipif(os.geteuid() != 0, reason="nginx -t of a config with `user` needs root"),
]

PLAYBOOK = """
- name: Check-mode test of the nginx role's files
  hosts: localhost
  gather_facts: false
  tasks:
    # What the role's main entry point does first: check the inputs, keep the normalised ones (nginx_input).
    - name: Check the role's input
      flaskstack.deploy.check_inputs:
        roles: [nginx]

    - name: Run the shared check-mode test
      ansible.builtin.include_role:
        name: flaskstack.deploy.nginx
        tasks_from: check_mode_test
"""

SCRATCH = "/tmp/flaskstack-nginx-check.*"


def ran(output, task):
    """Whether the task ran (ok, changed or failed; not skipped), as the default callback shows it."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    for match in re.finditer(r"TASK \[[^\]\n]*%s\][^\n]*\n" % re.escape(task), plain):
        for line in plain[match.end():].splitlines():
            if line.strip() and not line.rstrip().endswith("*"):  # skip profile_tasks' timing line
                if line.startswith(("ok:", "changed:", "fatal:")):
                    return True
                break
    return False


def fingerprint(root):
    result = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                result[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return result


@pytest.fixture()
def live(tmp_path):
    """A 'live' source-layout tree: conf/nginx.conf including conf/flaskstack.d/*.conf, plus an old site."""
    conf = tmp_path / "nginx" / "conf"
    (conf / "flaskstack.d").mkdir(parents=True)
    for name in ("mime.types", "uwsgi_params"):
        src = "/etc/nginx/" + name
        if os.path.exists(src):
            shutil.copy(src, conf / name)
        else:
            (conf / name).write_text("types { text/html html; }\n" if name == "mime.types" else "\n")
    (conf / "nginx.conf").write_text(
        "pid /run/flaskstack-test-never.pid;\nerror_log %s/never.log;\nevents { worker_connections 64; }\n"
        "http { include %s/flaskstack.d/*.conf; }\n" % (tmp_path, conf)
    )
    # Not declared any more: a real run sets it aside, so the scratch copy must not include it.
    (conf / "flaskstack.d" / "old.conf").write_text("this is not nginx syntax\n")
    (conf / "flaskstack.d" / "upstreams.conf").write_text("upstream backend { server 127.0.0.1:8001; }\n")
    return tmp_path


def run_check(ansible_playbook, tmp_path, sites, prune=True, upstreams_only=False, binary=NGINX):
    conf = tmp_path / "nginx" / "conf"
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    files = [{"template": "upstreams.conf.j2", "dest": "%s/flaskstack.d/upstreams.conf" % conf}]
    if not upstreams_only:
        files.insert(0, {"template": "nginx.conf.j2", "dest": "%s/nginx.conf" % conf})
        files += [
            {"template": "site.conf.j2", "dest": "%s/flaskstack.d/site-%s.conf" % (conf, site["name"]), "site": site}
            for site in sites
        ]
    extra = {
        "nginx_install_method": "source",
        "nginx_source_prefix": str(tmp_path / "nginx"),
        "nginx_binary": binary,
        "nginx_user": "root",
        "nginx_access_log": str(tmp_path / "access.log"),
        "nginx_error_log": str(tmp_path / "never.log"),
        "nginx_pid_file": "/run/flaskstack-test-never.pid",
        "nginx_event_method": "",
        "nginx_upstreams": [{"name": "backend", "protocol": "http", "servers": [{"address": "127.0.0.1", "port": 8001}]}],
        "nginx_sites": sites,
        "nginx_check_files": files,
        "nginx_check_prune": prune,
    }
    before = set(glob.glob(SCRATCH))
    live_before = fingerprint(tmp_path / "nginx")
    proc = ansible_playbook(
        "-i", "localhost,", "-c", "local", "--check", str(tmp_path / "play.yml"), "-e", json.dumps(extra),
        config=tmp_path / "ansible.cfg", cwd=tmp_path,
    )
    assert set(glob.glob(SCRATCH)) == before, "the scratch directory was left behind"
    assert fingerprint(tmp_path / "nginx") == live_before, "the live tree changed"
    assert not os.path.exists("/run/flaskstack-test-never.pid")
    assert not (tmp_path / "never.log").exists()
    return proc.returncode, proc.stdout + proc.stderr


SITE = {"name": "app", "server_name": "app.test", "upstream": "backend"}


def test_valid_configuration_passes(live, ansible_playbook):
    rc, output = run_check(ansible_playbook, live, [SITE])
    assert rc == 0, output
    assert ran(output, "Test the scratch copy with nginx -t"), output


def test_rejected_configuration_fails_with_the_live_file_and_line(live, ansible_playbook):
    broken = dict(SITE, name="extra", server_name="extra.test", extra_directives=["frobnicate on;"])
    rc, output = run_check(ansible_playbook, live, [SITE, broken])
    assert rc != 0, output
    conf = live / "nginx" / "conf"
    assert "Check mode: nginx would reject the new configuration" in output
    assert 'nginx -t failed: unknown directive "frobnicate" in %s/flaskstack.d/site-extra.conf:' % conf in output
    assert "flaskstack-nginx-check." not in output.split("nginx -t failed:", 1)[1].split("\n", 1)[0]


def test_upstreams_only_keeps_the_other_live_files(live, ansible_playbook):
    """tasks_from upstreams: only upstreams.conf is rendered; the live copy's other files stay, so old.conf's
    bad syntax is tested too (it is live) and the live main file's include is pointed at the copy."""
    rc, output = run_check(ansible_playbook, live, [SITE], prune=False, upstreams_only=True)
    assert rc != 0, output
    assert "in %s/flaskstack.d/old.conf:" % (live / "nginx" / "conf") in output
    (live / "nginx" / "conf" / "flaskstack.d" / "old.conf").unlink()
    rc, output = run_check(ansible_playbook, live, [SITE], prune=False, upstreams_only=True)
    assert rc == 0, output
    assert ran(output, "Test the scratch copy with nginx -t"), output


def test_nginx_not_installed_is_skipped_with_a_message(live, ansible_playbook):
    rc, output = run_check(ansible_playbook, live, [SITE], binary=str(live / "no-such-nginx"))
    assert rc == 0, output
    assert "Check mode: nginx is not installed yet" in output
    assert not ran(output, "Create the scratch directory"), output
    assert not ran(output, "Test the scratch copy with nginx -t"), output
