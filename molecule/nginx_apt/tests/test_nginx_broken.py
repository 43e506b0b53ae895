"""After two rejected configurations: the same files, byte for byte, and nginx still answering."""

import os
import re

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def test_invalid_directive_failed_with_nginx_file_and_line(host):
    msg = host.file("/root/broken-directive.msg").content_string
    assert 'unknown directive "frobnicate" in /etc/nginx/flaskstack.d/site-extra.conf:' in msg
    assert "previous files are back in place" in msg


def test_bad_upstream_failed_with_nginx_file_and_line(host):
    msg = host.file("/root/broken-upstream.msg").content_string
    assert 'host not found in upstream "no-such-host.invalid:8001" in /etc/nginx/flaskstack.d/upstreams.conf:' in msg


def test_config_files_are_byte_identical(host):
    result = host.run("sha256sum --quiet --strict -c /root/nginx-before.sha256")
    assert result.rc == 0, result.stdout + result.stderr
    listing = host.run("find /etc/nginx -type f | sort").stdout.split()
    before = sorted(line.split("  ", 1)[1] for line in host.file("/root/nginx-before.sha256").content_string.splitlines())
    assert listing == before  # nothing added (the broken site's file was removed again), nothing lost


def test_nginx_still_serves_the_previous_config(host):
    result = host.run("curl -s -H 'Host: app.test' http://127.0.0.1/")
    assert result.stdout == "upstream %s\n" % host.backend.get_hostname()
    assert host.service("nginx").is_running


# --- Check mode: nginx's verdict from a scratch copy, nothing changed ---------------------------------


def check_run(host, variant):
    """(exit code, output) of `ansible-playbook --check` for one variant (side_effect.yml keeps them)."""
    text = host.file("/root/check-mode-%s.out" % variant).content_string
    first, dummy, output = text.partition("\n")
    return int(first.split("=", 1)[1]), output


def recap(output):
    """The host's PLAY RECAP counters, e.g. {'ok': '20', 'changed': '3', 'failed': '0', ...}."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    match = re.search(r"^nginx-apt-amd64\s*:\s*(ok=.*)$", plain, re.MULTILINE)
    assert match, output
    return dict(field.split("=") for field in match.group(1).split())


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


def test_check_mode_broken_directive_fails_with_nginx_message(host):
    rc, output = check_run(host, "broken_site")
    assert rc != 0, output
    assert "Check mode: nginx would reject the new configuration" in output
    # The file name is the live one, not the scratch copy's.
    assert 'nginx -t failed: unknown directive "frobnicate" in /etc/nginx/flaskstack.d/site-extra.conf:' in output
    assert "flaskstack-nginx-check." not in output.split("Check mode: nginx would reject", 1)[1].splitlines()[0]


def test_check_mode_valid_change_passes_and_reports_changed(host):
    rc, output = check_run(host, "valid_site")
    assert rc == 0, output
    assert ran(output, "Test the scratch copy with nginx -t"), output
    assert int(recap(output)["changed"]) > 0
    assert recap(output)["failed"] == "0"


def test_check_mode_broken_pools_fail_with_nginx_message(host):
    rc, output = check_run(host, "broken_pools")
    assert rc != 0, output
    assert 'host not found in upstream "no-such-host.invalid:8001" in /etc/nginx/flaskstack.d/upstreams.conf:' in output


def test_check_mode_valid_pools_pass_and_report_changed(host):
    rc, output = check_run(host, "valid_pools")
    assert rc == 0, output
    assert ran(output, "Test the scratch copy with nginx -t"), output
    assert int(recap(output)["changed"]) > 0


def test_check_mode_leaves_no_scratch_directory(host):
    assert host.run("ls -d /tmp/flaskstack-nginx-check.*").rc != 0
    assert not host.file("/etc/nginx/flaskstack.d/site-extra.conf").exists
    assert "127.0.0.2" not in host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
