"""Source builds: the asked version and arguments, one compile per kind, an upgrade nobody noticed."""

import os

import testinfra.utils.ansible_runner

runner = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = runner.get_hosts("all")


def nginx_v(host):
    return host.run("/usr/local/nginx/sbin/nginx -V").stderr


def test_upgraded_version_and_arguments(host):
    out = nginx_v(host)
    assert "nginx version: nginx/1.26.3" in out
    assert "--prefix=/usr/local/nginx" in out
    assert "--with-http_sub_module" in out
    assert "--with-cc-opt='-O2 -Wno-error'" in out


def test_running_under_systemd_with_the_new_master(host):
    service = host.service("nginx")
    assert service.is_running and service.is_enabled
    main_pid = host.run("systemctl show -p MainPID --value nginx").stdout.strip()
    assert main_pid == host.file("/run/nginx.pid").content_string.strip()
    assert main_pid != host.file("/root/master-before.pid").content_string.strip()  # upgraded, not kept
    assert host.run("readlink /proc/%s/exe" % main_pid).stdout.strip() == "/usr/local/nginx/sbin/nginx"


def test_no_request_failed_during_the_upgrade(host):
    codes = host.file("/root/load.log").content_string.split()
    assert len(codes) >= 100, "the request loop ran too briefly to cover the upgrade"
    assert set(codes) == {"200"}, {code: codes.count(code) for code in set(codes)}


def test_serves_the_site(host):
    assert host.run("curl -s -H 'Host: app.test' http://127.0.0.1/").stdout.startswith("upstream ")


def test_exactly_one_host_compiled():
    compilers = []
    for name in testinfra_hosts:
        other = runner.get_host(name)
        if other.run("command -v cc").rc == 0:
            compilers.append(name)
        assert other.run("ls -d /var/cache/flaskstack/nginx/build/work-* 2>/dev/null").stdout == ""
    assert compilers == ["nginx-src-a"], compilers


def test_nginx_before_pcre2_is_refused_before_any_change(host):
    task, msg = host.file("/root/pcre1.msg").content_string.split("\n", 1)
    assert task == "Check that this release of the distribution can build the asked nginx"
    assert "nginx_version 1.18.0 builds only with PCRE1 (libpcre3), which Debian 13 no longer ships" in msg
    assert not host.package("libpcre3").is_installed
    assert "nginx version: nginx/1.26.3" in nginx_v(host)  # the running build is untouched
