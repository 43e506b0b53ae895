"""The input rules (plugins/module_utils/inputs.py): each bad value is refused naming its variable, good ones pass."""

import pytest

from ansible_collections.flaskstack.deploy.plugins.module_utils import inputs
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import rules, check_stack


def errors(role, **values):
    return inputs.check(role, values)


def test_every_role_has_rules():
    for role in inputs.ROLES:
        assert inputs.check(role, {}) == []
    with pytest.raises(ValueError, match="unknown role 'apache'"):
        inputs.check("apache", {})


GOOD = [
    ("flask_app", {"flask_app_port": 8000, "flask_app_module": "shop.wsgi", "flask_app_callable": "create_app()",
                   "flask_app_secret_key": "x" * 16, "flask_app_base_dir": "/srv/shop",
                   "flask_app_static_dir": "shop/assets", "flask_app_health_path": "/", "flask_app_name": "shop",
                   "flask_app_health_status": [200, 204], "flask_app_health_text": "ok",
                   "flask_app_env": {"DATABASE_URL": "postgres://x"}, "flask_app_bind_address": "[::]"}),
    ("flask_app", {"flask_app_callable": "create_app('prod', debug=False)".replace(" ", "")}),
    ("flask_app", {"flask_app_callable": "app.wsgi_app"}),
    ("flask_app", {"flask_app_git_repo": "https://example.com/shop.git", "flask_app_git_version": "v1.2",
                   "flask_app_git_cache_dir": "/var/cache/shop", "flask_app_release_id": "2024-01-01_1"}),
    ("gunicorn", {"gunicorn_bind": "unix:/srv/app/run/gunicorn.sock", "gunicorn_workers": 0,
                  "gunicorn_access_log": "-", "gunicorn_error_log": "/var/log/app.log"}),
    ("gunicorn", {"gunicorn_bind": "[::1]:8000", "gunicorn_forwarded_allow_ips": "10.0.0.1,10.0.0.2"}),
    ("uwsgi", {"uwsgi_socket": "/srv/app/run/uwsgi.sock", "uwsgi_stats": "", "uwsgi_health_socket": "127.0.0.1:9000",
               "uwsgi_socket_mode": "0660", "uwsgi_extra_options": {"reload-on-rss": 200, "env": ["A=1", "B=2"]}}),
    ("uwsgi", {"uwsgi_protocol": "http", "uwsgi_socket": "0.0.0.0:8000", "uwsgi_health_socket": ""}),
    ("supervisor", {"supervisor_programs": [{"name": "web", "command": "/bin/web", "autorestart": "unexpected"},
                                            {"name": "w1", "command": "/bin/w", "group": "workers",
                                             "autorestart": False, "stdout_logfile": "/var/log/w1.log"}],
                    "supervisor_inet_http_server_enabled": True, "supervisor_inet_http_server_password": "pw",
                    "supervisor_inet_http_server_port": "9001", "supervisor_logfile_maxbytes": "50MB"}),
    ("nginx", {"nginx_version": "1.14.2", "nginx_install_method": "source", "nginx_worker_processes": "auto",
               "nginx_upstreams": [{"name": "app", "servers": [{"address": "10.0.0.1", "port": 8000, "weight": 2},
                                                               {"address": "unix:/run/app.sock"}]}],
               "nginx_sites": [{"name": "www", "server_name": ["www.example.com", "_"], "upstream": "app",
                                "static": [{"location": "/static/", "alias": "/srv/app/current/static/"}],
                                "locations": [{"path": "\\.php$", "match": "~", "extra_directives": ["return 404;"]}]}],
               "nginx_http_extra_directives": ["gzip_comp_level 5;"], "nginx_open_file_cache": ""},
     ),
    ("stack", {"flaskstack_serial": "30%", "flaskstack_pool_protocol": "auto", "flaskstack_pool_name": "shop",
               "flaskstack_extra_upstreams": [{"name": "api", "servers": [{"address": "api1", "port": 9000}]}],
               "flaskstack_sites": [{"name": "shop", "server_name": "shop.example.com", "upstream": "shop"},
                                    {"name": "api", "server_name": "api.example.com", "upstream": "api"}],
               "flaskstack_arch_weights": {"x86_64": 3}, "flaskstack_server_names": "www.example.com"}),
    ("stack", {"flaskstack_serial": [1, "50%"]}),
]


@pytest.mark.parametrize("role,values", GOOD)
def test_good_values_pass(role, values):
    assert inputs.check(role, values) == []


BAD = [
    # (role, values, the start of the one message expected)
    ("flask_app", {"flask_app_port": 70000}, "flask_app_port: 70000 is not a port (1-65535)"),
    ("flask_app", {"flask_app_port": "eighty"}, "flask_app_port: 'eighty' is not a port"),
    ("flask_app", {"flask_app_module": ""}, "flask_app_module: '' is not a Python module"),
    ("flask_app", {"flask_app_module": "shop..wsgi"}, "flask_app_module:"),
    ("flask_app", {"flask_app_module": "1app"}, "flask_app_module:"),
    ("flask_app", {"flask_app_callable": "create app"}, "flask_app_callable: 'create app' is not a WSGI callable"),
    ("flask_app", {"flask_app_callable": "create_app(x)"}, "flask_app_callable:"),
    ("flask_app", {"flask_app_callable": "create_app(**kw)"}, "flask_app_callable:"),
    ("flask_app", {"flask_app_callable": "app()()"}, "flask_app_callable:"),
    ("flask_app", {"flask_app_callable": "app[0]"}, "flask_app_callable:"),
    ("flask_app", {"flask_app_callable": ""}, "flask_app_callable:"),
    ("flask_app", {"flask_app_base_dir": "srv/app"}, "flask_app_base_dir: 'srv/app' is not an absolute path"),
    ("flask_app", {"flask_app_health_path": "healthz"}, "flask_app_health_path: 'healthz' must be a URL path"),
    ("flask_app", {"flask_app_health_status": [99]}, "flask_app_health_status[0]: 99 must be an integer from 100"),
    ("flask_app", {"flask_app_static_dir": "a/../../etc"}, "flask_app_static_dir:"),
    ("flask_app", {"flask_app_static_dir": ""}, "flask_app_static_dir:"),
    ("flask_app", {"flask_app_requirements_file": "/etc/passwd"}, "flask_app_requirements_file:"),
    ("flask_app", {"flask_app_keep_releases": 1}, "flask_app_keep_releases: 1 must be an integer >= 2"),
    ("flask_app", {"flask_app_release_id": ".."}, "flask_app_release_id:"),
    ("flask_app", {"flask_app_name": "a/b"}, "flask_app_name: 'a/b' is not a usable app name"),
    ("flask_app", {"flask_app_source_dir": ""}, "flask_app_source_dir: is empty"),
    ("flask_app", {"flask_app_bind_address": "::"}, "flask_app_bind_address: '::': write an IPv6 address in brackets"),
    ("flask_app", {"flask_app_git_repo": "x", "flask_app_git_version": ""}, "flask_app_git_version: is empty"),
    ("flask_app", {"flaskstack_upstream_weight": 0}, "flaskstack_upstream_weight: 0 must be an integer >= 1"),
    ("flask_app", {"flaskstack_upstream_fail_timeout": "x"},
     "flaskstack_upstream_fail_timeout: 'x' is not an nginx time"),
    ("gunicorn", {"gunicorn_bind": "0.0.0.0:70000"}, "gunicorn_bind: '0.0.0.0:70000': 70000 is not a port"),
    ("gunicorn", {"gunicorn_bind": "/run/g.sock"}, "gunicorn_bind: '/run/g.sock' is not an address"),
    ("gunicorn", {"gunicorn_workers": -1}, "gunicorn_workers: -1 must be an integer >= 0"),
    ("gunicorn", {"gunicorn_conf_dir": "etc"}, "gunicorn_conf_dir:"),
    ("uwsgi", {"uwsgi_socket": "uwsgi.sock"}, "uwsgi_socket: 'uwsgi.sock' is not an address"),
    ("uwsgi", {"uwsgi_socket": "unix:/run/u.sock"}, "uwsgi_socket:"),
    ("uwsgi", {"uwsgi_health_socket": "/run/h.sock"}, "uwsgi_health_socket:"),
    ("uwsgi", {"uwsgi_health_socket": ""}, "uwsgi_health_socket: is empty, but uWSGI speaks the uwsgi protocol"),
    ("uwsgi", {"uwsgi_health_socket": "", "uwsgi_protocol": "http", "uwsgi_socket": "/srv/a/run/u.sock"},
     "uwsgi_health_socket: is empty, but uWSGI listens on a unix socket"),
    ("uwsgi", {"uwsgi_extra_options": {"env": "A=1\nB=2"}}, "uwsgi_extra_options.env:"),
    ("uwsgi", {"uwsgi_logto": "uwsgi.log"}, "uwsgi_logto:"),
    ("supervisor", {"supervisor_programs": [{"name": "w", "command": "x", "autorestart": "sometimes"}]},
     "supervisor_programs[0].autorestart: 'sometimes' is not true, false or unexpected"),
    ("supervisor", {"supervisor_programs": [{"name": "w", "command": ""}]}, "supervisor_programs[0].command: is empty"),
    ("supervisor", {"supervisor_programs": [{"name": "w", "command": "x", "startretries": -1}]},
     "supervisor_programs[0].startretries: -1 must be an integer >= 0"),
    ("supervisor", {"supervisor_programs": [{"name": "w", "command": "x"}, {"name": "w", "command": "y"}]},
     "supervisor_programs[1].name: 'w' is also supervisor_programs[0].name"),
    ("supervisor", {"supervisor_programs": [{"name": "w", "command": "x", "environment": {"A": "'\""}}]},
     "supervisor_programs[0].environment.A: holds both ' and \""),
    ("supervisor", {"supervisor_programs": ["web"]}, "supervisor_programs[0]: 'web' must be a mapping"),
    ("supervisor", {"supervisor_log_dir": "log"}, "supervisor_log_dir: 'log' is not an absolute path"),
    ("supervisor", {"supervisor_inet_http_server_port": "70000"},
     "supervisor_inet_http_server_port: '70000' is not a port"),
    ("supervisor", {"supervisor_logfile_maxbytes": "50 MB"}, "supervisor_logfile_maxbytes:"),
    ("nginx", {"nginx_version": "1.14"}, "nginx_version: '1.14' is not an nginx version"),
    ("nginx", {"nginx_version": "1.13.12"}, "nginx_version: '1.13.12' is older than 1.14.0"),
    ("nginx", {"nginx_source_checksum": "abc"}, "nginx_source_checksum: is not a sha256"),
    ("nginx", {"nginx_keepalive_timeout": -1}, "nginx_keepalive_timeout: -1 must be an integer >= 0"),
    ("nginx", {"nginx_error_page_root": "html"}, "nginx_error_page_root: 'html' is not an absolute path"),
    ("nginx", {"nginx_gzip_types": ["text"]}, "nginx_gzip_types[0]: 'text' is not a MIME type"),
    ("nginx", {"nginx_large_client_header_buffers": "4;8k"}, "nginx_large_client_header_buffers:"),
    ("nginx", {"nginx_next_upstream": "error; return 200"}, "nginx_next_upstream:"),
    ("nginx", {"nginx_upstreams": [{"name": "app", "servers": [{"address": "a", "port": 70000}]}]},
     "nginx_upstreams[0].servers[0].port: 70000 is not a port (1-65535)"),
    ("nginx", {"nginx_upstreams": [{"name": "app", "servers": [{"address": "a"}]}]},
     "nginx_upstreams[0].servers[0].port: is missing"),
    ("nginx", {"nginx_upstreams": [{"name": "a b", "servers": [{"address": "a", "port": 1}]}]},
     "nginx_upstreams[0].name: 'a b' is not a usable upstream name"),
    ("nginx", {"nginx_upstreams": [{"name": "app", "servers": [{"address": "a;b", "port": 1}]}]},
     "nginx_upstreams[0].servers[0].address:"),
    ("nginx", {"nginx_upstreams": [{"name": "app", "servers": [{"address": "unix:run.sock"}]}]},
     "nginx_upstreams[0].servers[0].address:"),
    ("nginx", {"nginx_upstreams": [{"name": "app", "servers": [{"address": "a", "port": 1}]}] * 2},
     "nginx_upstreams[1].name: 'app' is declared twice (also nginx_upstreams[0])"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a.example.com; return 200"}]},
     "nginx_sites[0].server_name: 'a.example.com; return 200' is not a usable server name"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": []}]}, "nginx_sites[0].server_name: is empty"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a", "listen": 70000}]}, "nginx_sites[0].listen: 70000"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a", "upstream": "ap"}]},
     "nginx_sites[0].upstream: 'ap' is not a declared upstream pool (declared: none)"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a", "locations": [{"path": "api"}]}]},
     "nginx_sites[0].locations[0].path: 'api' must start with /"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a", "static": [{"location": "/s/", "alias": "/srv/s"}]}]},
     "nginx_sites[0].static[0].alias: '/srv/s' must end with / like location '/s/'"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a", "extra_directives": ["return 200"]}]},
     "nginx_sites[0].extra_directives[0]:"),
    ("nginx", {"nginx_sites": [{"name": "w", "server_name": "a",
                                "tls": {"certificate": "/c", "certificate_key": "/k", "protocols": "TLSv1.2; x"}}]},
     "nginx_sites[0].tls.protocols:"),
    ("stack", {"flaskstack_serial": 0}, "flaskstack_serial: 0 is not a batch size"),
    ("stack", {"flaskstack_serial": "one"}, "flaskstack_serial: 'one' is not a batch size"),
    ("stack", {"flaskstack_serial": "0%"}, "flaskstack_serial: '0%' is not a batch size"),
    ("stack", {"flaskstack_serial": True}, "flaskstack_serial: True is not a batch size"),
    ("stack", {"flaskstack_serial": []}, "flaskstack_serial: is an empty list"),
    ("stack", {"flaskstack_pool_protocol": "fastcgi"}, "flaskstack_pool_protocol: 'fastcgi' is unknown"),
    ("stack", {"flaskstack_pool_balance": "random"}, "flaskstack_pool_balance: 'random' is unknown"),
    ("stack", {"flaskstack_pool_name": "a b"}, "flaskstack_pool_name: 'a b' is not a usable upstream name"),
    ("stack", {"flaskstack_arch_weights": {"x86_64": 0}}, "flaskstack_arch_weights.x86_64: 0 must be an integer >= 1"),
    ("stack", {"flaskstack_sites": [{"name": "w", "server_name": "a", "upstream": "api"}]},
     "flaskstack_sites[0].upstream: 'api' is not a declared upstream pool (declared: app)"),
    ("stack", {"flaskstack_sites": "www"}, "flaskstack_sites: 'www' must be a list"),
    ("stack", {"flaskstack_extra_upstreams": [{"name": "app", "servers": [{"address": "a", "port": 1}]}]},
     "flaskstack_extra_upstreams[0].name: 'app' is declared twice (it is the app pool's name)"),
    ("stack", {"flaskstack_app_group": "app servers"}, "flaskstack_app_group:"),
]


@pytest.mark.parametrize("role,values,message", BAD, ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_values_are_named(role, values, message):
    found = inputs.check(role, values)
    assert len(found) == 1, found
    assert found[0].startswith(message), found
    variable = message.split(":", 1)[0]
    assert found[0].startswith(variable + ":")


def test_every_error_at_once():
    found = errors("flask_app", flask_app_port=0, flask_app_module="", flask_app_health_path="x")
    assert [m.split(":")[0] for m in found] == ["flask_app_module", "flask_app_port", "flask_app_health_path"]


@pytest.mark.parametrize("key", ["", "short", "x" * 15, None, 12345678901234567890])
def test_secret_key_is_named_never_shown(key):
    found = errors("flask_app", flask_app_secret_key=key)
    assert found == [
        "flask_app_secret_key: is missing or shorter than 16 characters; set it (from vault), the same on every "
        "host, or sessions break across nodes. There is no default"
    ]


def test_secret_env_values_are_never_shown():
    found = errors("flask_app", flask_app_env={"TOKEN": "line1\nhunter2", "OK": "x", "NESTED": {"a": "hunter3"}})
    assert [m.split(":")[0] for m in found] == ["flask_app_env.TOKEN", "flask_app_env.NESTED"]
    assert "hunter2" not in "".join(found) and "hunter3" not in "".join(found)


def test_supervisor_password_is_named_never_shown():
    found = errors("supervisor", supervisor_inet_http_server_enabled=True, supervisor_inet_http_server_password="")
    assert found[0].startswith("supervisor_inet_http_server_password: is missing or empty")
    assert errors("supervisor", supervisor_inet_http_server_enabled=False,
                  supervisor_inet_http_server_password="") == []


def test_supervisor_group_named_like_a_program_outside_it():
    programs = [{"name": "web", "command": "x"}, {"name": "w", "command": "x", "group": "web"}]
    found = errors("supervisor", supervisor_programs=programs)
    assert found == ["supervisor_programs[1].group: 'web' is also the name of a program outside that group "
                     "(supervisor_programs[0]); supervisor names both process groups, so rename one"]


def test_nginx_source_build_needs_a_known_version_or_checksum():
    known = {"1.26.3"}
    assert inputs.check("nginx", {"nginx_install_method": "source", "nginx_version": "1.26.3"},
                        known_checksums=known) == []
    assert inputs.check("nginx", {"nginx_install_method": "source", "nginx_version": "1.27.0",
                                  "nginx_source_checksum": "a" * 64}, known_checksums=known) == []
    found = inputs.check("nginx", {"nginx_install_method": "source", "nginx_version": "1.27.0"},
                         known_checksums=known)
    assert found[0].startswith("nginx_version: 1.27.0 is not in the role's table of known tarball checksums (1.26.3)")
    assert inputs.check("nginx", {"nginx_install_method": "apt", "nginx_version": "1.27.0"},
                        known_checksums=known) == []


def test_nginx_duplicate_servers_in_a_pool():
    servers = [{"address": "10.0.0.1", "port": 8000}, {"address": "10.0.0.2", "port": 8000},
               {"address": "10.0.0.1", "port": 8000}]
    found = errors("nginx", nginx_upstreams=[{"name": "app", "servers": servers}])
    assert found == ["nginx_upstreams[0].servers[2]: 10.0.0.1:8000 is also nginx_upstreams[0].servers[0]; "
                     "a pool lists each server once"]


def test_nginx_duplicate_sites():
    site = {"name": "www", "server_name": "a"}
    assert errors("nginx", nginx_sites=[site, dict(site)]) == [
        "nginx_sites[1].name: 'www' is also nginx_sites[0].name; site names must be unique (each is a file)"
    ]


def test_drained_hosts_must_be_app_hosts():
    found = inputs.check("stack", {"flaskstack_drained": ["app1", "app9"]}, app_hosts=["app1", "app2"])
    assert found == ["flaskstack_drained: app9 not in the app group (app1, app2)"]


@pytest.mark.parametrize("value,ok", [
    ("127.0.0.1:8000", True), ("[::]:8000", True), ("app.example.com:1", True), ("0.0.0.0:65535", True),
    ("0.0.0.0:65536", False), ("0.0.0.0:0", False), (":8000", True), ("::1:8000", False), ("host", False),
    ("[::1]8000", False), ("a b:80", False), ("", False), (8000, False),
])
def test_host_port(value, ok):
    found = rules.Errors()
    assert rules.host_port(found, "x", value) is ok
    assert bool(found) is not ok


# --- The action's use of the roles' argument specs (plugins/action/check_inputs.py) --------------------

def _spec_errors(role, values, entry_point="main"):
    from ansible_collections.flaskstack.deploy.plugins.action import check_inputs

    options = check_inputs.role_spec(role, entry_point)
    found = []
    converted = check_inputs.validate_spec("", {n: o for n, o in options.items() if n in values}, values, found,
                                           top=True)
    return found, converted


def test_every_role_spec_loads_from_the_collection():
    from ansible_collections.flaskstack.deploy.plugins.action import check_inputs

    for role in ("flask_app", "supervisor", "gunicorn", "uwsgi", "nginx"):
        assert check_inputs.role_spec(role), role
        assert check_inputs.role_defaults(role), role
    assert "gunicorn_worker_class" in check_inputs.role_spec("gunicorn", "app")
    assert "flask_app_health_status" in check_inputs.role_spec("flask_app", "rollback")


def test_spec_errors_name_the_nested_variable():
    found, dummy = _spec_errors("nginx", {"nginx_upstreams": [
        {"name": "app", "protocol": "fastcgi", "servers": [{"address": "a", "port": "eighty"}]}]})
    assert found == [
        "nginx_upstreams[0].protocol: 'fastcgi' is not one of: uwsgi, http",
        "nginx_upstreams[0].servers[0].port: 'eighty' is not an integer",
    ]


def test_spec_errors_name_unknown_and_missing_keys():
    found, dummy = _spec_errors("supervisor", {"supervisor_programs": [{"name": "web", "comand": "x"}]})
    assert found[0].startswith("supervisor_programs[0]: unknown key comand; known keys: name, command")
    assert found[1] == "supervisor_programs[0].command: is required; set it"


def test_spec_converts_types_for_the_rules():
    found, converted = _spec_errors("gunicorn", {"gunicorn_workers": "4", "gunicorn_worker_class": "gevent"})
    assert found == []
    assert converted == {"gunicorn_workers": 4, "gunicorn_worker_class": "gevent"}
    found, dummy = _spec_errors("gunicorn", {"gunicorn_worker_class": "eventlet"}, entry_point="app")
    assert found == ["gunicorn_worker_class: 'eventlet' is not one of: sync, gthread, gevent"]


def test_spec_errors_hide_secret_values():
    found, dummy = _spec_errors("flask_app", {"flask_app_secret_key": None})
    assert found == ["flask_app_secret_key: is missing; set it"]


def test_spec_errors_hide_secret_env_values():
    found, dummy = _spec_errors("flask_app", {"flask_app_env": ["TOKEN", "hunter2"]})
    assert found == ["flask_app_env: the value is not a mapping"]


@pytest.mark.parametrize(
    "name, address, words",
    [
        ("ansible_host", "10.0.0.1:2222", "includes a port"),
        ("ansible_host", "fe80::1%eth0", "zone id"),
        ("flaskstack_upstream_address", "app_1.example.com", "'_' is not allowed"),
        ("flaskstack_upstream_address", "unix:/srv/app/run/app.sock", "for a unix socket set gunicorn_bind"),
    ],
)
def test_the_address_nginx_connects_to_is_checked(name, address, words):
    (message,) = inputs.check("flask_app", {name: address})
    assert message.startswith(name + ": ") and words in message


@pytest.mark.parametrize("address", ["10.0.0.1", "app1.example.com", "2001:db8::1", "[2001:db8::1]", "localhost"])
def test_addresses_nginx_can_use_pass(address):
    assert inputs.check("flask_app", {"ansible_host": address}) == []


def test_flaskstack_upstream_address_wins_over_ansible_host():
    values = {"flaskstack_upstream_address": "10.0.0.5", "ansible_host": "fe80::1%eth0"}
    assert inputs.check("flask_app", values) == []


def test_a_percent_sign_in_the_callable_is_refused():
    # uwsgi.ini carries the callable in `env = FLASKSTACK_WSGI_APP=...`, where %(...) is a placeholder.
    (message,) = inputs.check("flask_app", {"flask_app_callable": "create_app('100%(x)s')"})
    assert message.startswith("flask_app_callable: ") and "placeholder" in message


@pytest.mark.parametrize(
    "serial_value, total, batch",
    [(1, 3, 1), (2, 3, 2), (3, 3, 0), ("50%", 4, 2), ("10%", 4, 1), ("100%", 4, 0), ([1, 2, "50%"], 5, 2), (5, 3, 0)],
)
def test_drained_batch_is_the_largest_batch_short_of_the_pool(serial_value, total, batch):
    assert check_stack.drained_batch(serial_value, total) == batch


@pytest.mark.parametrize(
    "values, tries, refused",
    [
        ({}, 2, False),  # serial 1: nginx tries the drained host, then another
        ({}, 1, True),
        ({}, 0, False),  # 0: no limit
        ({"flaskstack_serial": 2}, 2, True),
        ({"flaskstack_serial": 2}, 3, False),
        ({"flaskstack_serial": 3}, 2, False),  # the whole pool is one batch: not drained
        ({"flaskstack_serial": "70%"}, 2, True),
    ],
)
def test_nginx_must_be_able_to_try_past_a_drained_batch(values, tries, refused):
    found = inputs.check("stack", values, app_hosts=["app1", "app2", "app3"], next_upstream_tries=tries)
    assert bool(found) == refused, found
    if refused:
        assert found[0].startswith("nginx_next_upstream_tries: %d lets nginx try" % tries)


@pytest.mark.parametrize("value,message", [
    ("/p/hooks/migrate.yml", "flask_app_hooks: '/p/hooks/migrate.yml' must be a mapping"),
    ({"before_deploy": ["/p/a.yml"]}, "flask_app_hooks: 'before_deploy' is not a moment of a deploy"),
    ({"before_switch": "/p/a.yml"}, "flask_app_hooks.before_switch: '/p/a.yml' must be a list of task files"),
    ({"after_switch": ["/p/a.yml", ""]}, "flask_app_hooks.after_switch[1]: '' must be the path of a task file"),
    ({"before_install": ["/p/a\nb.yml"]}, "flask_app_hooks.before_install[0]:"),
    ({"before_switch": ["hooks/migrate.yml"]},
     "flask_app_hooks.before_switch[0]: 'hooks/migrate.yml' must be an absolute path on the controller, such as "
     "'{{ inventory_dir }}/hooks/migrate.yml'"),
])
def test_bad_hooks_are_named(value, message):
    found = inputs.check("flask_app", {"flask_app_hooks": value})
    assert len(found) == 1, found
    assert found[0].startswith(message), found


def test_hook_files_must_exist_on_the_controller(tmp_path):
    migrate = tmp_path / "migrate.yml"
    migrate.write_text("---\n[]\n")
    good = {"before_switch": [str(migrate)], "after_switch": []}
    assert inputs.check("flask_app", {"flask_app_hooks": good}, on_controller=True) == []
    missing = {"after_switch": [str(tmp_path / "warm.yml")]}
    assert inputs.check("flask_app", {"flask_app_hooks": missing}) == []
    assert inputs.check("flask_app", {"flask_app_hooks": missing}, on_controller=True) == [
        "flask_app_hooks.after_switch[0]: '%s' is not a file on the controller" % (tmp_path / "warm.yml")]
