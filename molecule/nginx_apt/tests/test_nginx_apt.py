"""nginx from apt: running, serving the load-balancer site, hardened defaults."""

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def status_and_body(host, *args):
    out = host.run("curl -s -D /tmp/h -w '\\n%{http_code}' " + " ".join(args))
    body, dummy, code = out.stdout.rpartition("\n")
    headers = host.file("/tmp/h").content_string if host.file("/tmp/h").exists else ""
    return code, body, headers.lower()  # HTTP/2 header names are lower case


def test_nginx_runs_under_systemd(host):
    service = host.service("nginx")
    assert service.is_running
    assert service.is_enabled
    assert host.run("nginx -t").rc == 0


def test_site_proxies_to_the_upstream(host):
    code, body, headers = status_and_body(host, "-H 'Host: app.test' http://127.0.0.1/")
    assert code == "200"
    assert body.strip() == "upstream " + host.backend.get_hostname()
    assert "server: nginx\r\n" in headers  # server_tokens off: no version


def test_static_files_are_served_by_nginx_with_expiry(host):
    code, body, headers = status_and_body(host, "-H 'Host: app.test' http://127.0.0.1/static/app.css")
    assert code == "200"
    assert "color: #333" in body
    assert "cache-control: max-age=2592000" in headers


def test_unknown_host_gets_no_response(host):
    result = host.run("curl -s -o /dev/null -H 'Host: unknown.test' http://127.0.0.1/")
    assert result.rc == 52  # empty reply: return 444


def test_uwsgi_pool_uses_uwsgi_pass(host):
    conf = host.file("/etc/nginx/flaskstack.d/site-uwsgi.conf").content_string
    assert "uwsgi_pass uwsgi_backend;" in conf
    upstreams = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert "server 127.0.0.1:8002 weight=2;" in upstreams
    assert "server 127.0.0.1:8003 down;" in upstreams
    assert "server 127.0.0.1:8009 backup;" in upstreams
    # Nothing listens on 8002: nginx answers with the role's error page.
    code, body, dummy = status_and_body(host, "-H 'Host: uwsgi.test' http://127.0.0.1/")
    assert code == "502"
    assert "temporarily unavailable" in body


def test_tls_site(host):
    code, body, headers = status_and_body(
        host, "--cacert /etc/ssl/certs/tls.test.pem --resolve tls.test:443:127.0.0.1 https://tls.test/"
    )
    assert code == "200"
    assert body.startswith("upstream ")
    assert "strict-transport-security: max-age=63072000" in headers
    code, dummy, headers = status_and_body(host, "-H 'Host: tls.test' http://127.0.0.1/some/path")
    assert code == "301"
    assert "location: https://tls.test/some/path" in headers


def test_config_files_modes(host):
    for path in ("/etc/nginx/nginx.conf", "/etc/nginx/flaskstack.d/upstreams.conf"):
        f = host.file(path)
        assert f.user == "root" and f.mode == 0o644
    leftovers = host.run("find /etc/nginx -name '*~' -o -name '*.flaskstack-removed'").stdout.strip()
    assert leftovers == ""  # the transaction cleans its backups up


def test_globals_from_the_seeds(host):
    conf = host.file("/etc/nginx/nginx.conf").content_string
    for line in (
        "worker_processes auto;",
        "multi_accept on;",
        "use epoll;",
        "server_tokens off;",
        "tcp_nodelay on;",
        "sendfile on;",
        "open_file_cache max=10000 inactive=30s;",
        "client_max_body_size 10m;",
    ):
        assert line in conf
