"""The nginx role refuses bad input before any change, naming the variable."""


def test_unknown_install_method(run_role):
    rc, out = run_role("nginx", nginx_install_method="yum")
    assert rc != 0
    assert "nginx_install_method" in out and "yum" in out
    assert "Install nginx" not in out  # stopped before the first real task


def test_source_version_without_known_checksum(run_role):
    rc, out = run_role("nginx", nginx_install_method="source", nginx_version="1.15.0")
    assert rc != 0
    assert "nginx_version: 1.15.0 is not in the role's table" in out
    assert "nginx_source_checksum" in out


def test_site_refers_to_an_undeclared_pool(run_role):
    rc, out = run_role(
        "nginx",
        nginx_upstreams=[{"name": "app", "servers": [{"address": "10.0.0.1", "port": 8000}]}],
        nginx_sites=[{"name": "www", "server_name": "www.test", "upstream": "ap"}],
    )
    assert rc != 0
    assert "nginx_sites[0].upstream: 'ap' is not a declared upstream pool (declared: app)" in out


def test_pool_without_servers(run_role):
    rc, out = run_role("nginx", nginx_upstreams=[{"name": "app", "servers": []}])
    assert rc != 0
    assert "nginx_upstreams[0].servers: pool 'app' has no servers" in out


def test_wrong_type_in_a_server_entry(run_role):
    rc, out = run_role("nginx", nginx_upstreams=[{"name": "app", "servers": [{"address": "a", "port": "eighty"}]}])
    assert rc != 0
    assert "port" in out and "eighty" in out


def test_unknown_protocol(run_role):
    rc, out = run_role(
        "nginx", nginx_upstreams=[{"name": "app", "protocol": "fastcgi", "servers": [{"address": "a", "port": 1}]}]
    )
    assert rc != 0
    assert "protocol" in out and "fastcgi" in out
