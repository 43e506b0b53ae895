"""After two rejected configurations: the same files, byte for byte, and nginx still answering."""

import os

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
    assert result.stdout == "good config\n"
    assert host.service("nginx").is_running
