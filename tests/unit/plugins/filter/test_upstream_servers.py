# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""upstream_servers: inventory hosts -> one nginx upstream pool, on plain dicts and through real Ansible."""

from __future__ import absolute_import, division, print_function

import inspect
import json
import os
import pathlib
import random
import shutil
import subprocess
import time

import jinja2
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.flaskstack.deploy.plugins.filter.upstream_servers import FilterModule, upstream_servers
from ansible_collections.flaskstack.deploy.plugins.module_utils import upstreams

__metaclass__ = type

ROOT = pathlib.Path(__file__).resolve().parents[4]
NGINX_SPECS = ROOT / "roles" / "nginx" / "meta" / "argument_specs.yml"
UPSTREAMS_TEMPLATE = ROOT / "roles" / "nginx" / "templates" / "upstreams.conf.j2"
FILTER_DOCS = ROOT / "plugins" / "filter" / "upstream_servers.yml"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)), None
)
needs_nginx = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"), reason="no nginx binary; `make unit` installs one"
)


def pool(hostvars, hosts=None, **kwargs):
    return upstream_servers(list(hostvars) if hosts is None else hosts, hostvars, **kwargs)


def servers(hostvars, hosts=None, **kwargs):
    return pool(hostvars, hosts, **kwargs)["servers"]


def facts(arch, vcpus):
    return {"ansible_facts": {"architecture": arch, "processor_vcpus": vcpus}}


def test_registered_under_its_name():
    assert FilterModule().filters()["upstream_servers"] is upstream_servers


# --- Defaults and protocols ------------------------------------------------------------------------


def test_defaults_are_gunicorn_on_8000_over_http():
    assert pool({"app1": {}}) == {
        "name": "app",
        "protocol": "http",
        "servers": [{"address": "app1", "port": 8000, "backup": False, "down": False}],
    }


def test_uwsgi_only_pool_speaks_uwsgi():
    hv = {"app1": {"flask_app_server": "uwsgi"}, "app2": {"flask_app_server": "uwsgi", "uwsgi_protocol": "uwsgi"}}
    result = pool(hv, name="api")
    assert result["name"] == "api"
    assert result["protocol"] == "uwsgi"
    assert [s["address"] for s in result["servers"]] == ["app1", "app2"]


def test_gunicorn_with_uwsgi_in_http_mode_is_an_http_pool():
    hv = {"app1": {"flask_app_server": "uwsgi", "uwsgi_protocol": "http"}, "app2": {"flask_app_server": "gunicorn"}}
    assert pool(hv)["protocol"] == "http"


def test_gunicorn_with_uwsgi_default_protocol_names_the_uwsgi_hosts():
    hv = {
        "app1": {"flask_app_server": "uwsgi"},
        "app2": {},
        "app3": {"flask_app_server": "uwsgi"},
        "app4": {"flask_app_server": "uwsgi", "uwsgi_protocol": "http"},
    }
    with pytest.raises(AnsibleFilterError) as caught:
        pool(hv)
    message = str(caught.value)
    assert "pool 'app' mixes protocols" in message
    assert "a gunicorn host speaks only http, so set uwsgi_protocol: http on app1, app3 (or split the pool)" in (
        message.replace("A gunicorn", "a gunicorn")
    )
    assert "invalid request block size" in message


def test_forced_uwsgi_with_a_gunicorn_host_names_it():
    hv = {"app1": {"flask_app_server": "uwsgi"}, "app2": {}}
    with pytest.raises(AnsibleFilterError) as caught:
        pool(hv, protocol="uwsgi")
    assert "host app2 runs gunicorn, which speaks only http; it cannot be in the uwsgi-protocol pool 'app'" in str(
        caught.value
    )


def test_forced_uwsgi_with_uwsgi_in_http_mode_names_it():
    hv = {"app1": {"flask_app_server": "uwsgi"}, "app2": {"flask_app_server": "uwsgi", "uwsgi_protocol": "http"}}
    with pytest.raises(AnsibleFilterError, match="host app2 runs uwsgi with uwsgi_protocol: http"):
        pool(hv, protocol="uwsgi")


def test_forced_http_with_a_uwsgi_socket_host_explains_the_block_size_error():
    hv = {"app1": {}, "app2": {"flask_app_server": "uwsgi"}}
    with pytest.raises(AnsibleFilterError) as caught:
        pool(hv, protocol="http")
    message = str(caught.value)
    assert "host app2 runs uwsgi with uwsgi_protocol: uwsgi (the role's default; it is not set)" in message
    assert "invalid request block size" in message and "Set uwsgi_protocol: http on app2" in message


def test_forced_protocol_that_matches_is_kept():
    assert pool({"app1": {"flask_app_server": "uwsgi"}}, protocol="uwsgi")["protocol"] == "uwsgi"
    assert pool({"app1": {}}, protocol="http")["protocol"] == "http"


@pytest.mark.parametrize(
    "hostvars, kwargs, match",
    [
        ({"app1": {}}, {"protocol": "fastcgi"}, "protocol='fastcgi' is unknown"),
        ({"app1": {"flask_app_server": "waitress"}}, {}, "host app1 has flask_app_server: 'waitress'"),
        ({"app1": {"flask_app_server": "uwsgi", "uwsgi_protocol": "fastcgi"}}, {}, "host app1 has uwsgi_protocol"),
    ],
)
def test_unknown_protocols_and_servers(hostvars, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        pool(hostvars, **kwargs)


# --- Addresses and ports -----------------------------------------------------------------------------


def test_unix_sockets_in_both_spellings():
    hv = {
        "app1": {"gunicorn_bind": "unix:/run/flask_app/gunicorn.sock"},
        "app2": {"flask_app_server": "uwsgi", "uwsgi_protocol": "http", "uwsgi_socket": "/run/flask_app/uwsgi.sock"},
    }
    assert servers(hv) == [
        {"address": "unix:/run/flask_app/gunicorn.sock", "backup": False, "down": False},
        {"address": "unix:/run/flask_app/uwsgi.sock", "backup": False, "down": False},
    ]


def test_port_comes_from_the_bind_and_its_host_part_is_ignored():
    hv = {
        "app1": {"gunicorn_bind": "0.0.0.0:8001", "ansible_host": "10.0.0.1"},
        "app2": {"gunicorn_bind": "[::]:8002", "ansible_host": "10.0.0.2"},
        "app3": {"flask_app_server": "uwsgi", "uwsgi_protocol": "http", "uwsgi_socket": ":8003"},
        "app4": {"flask_app_port": "8004"},
    }
    assert [(s["address"], s["port"]) for s in servers(hv)] == [
        ("10.0.0.1", 8001),
        ("10.0.0.2", 8002),
        ("app3", 8003),
        ("app4", 8004),
    ]


def test_ipv6_address_is_returned_plain_for_the_nginx_role_to_bracket():
    hv = {
        "app1": {"ansible_host": "2001:db8::1", "gunicorn_bind": "[::]:8000"},
        "app2": {"flaskstack_upstream_address": "[2001:db8::2]"},
    }
    assert [(s["address"], s["port"]) for s in servers(hv)] == [("2001:db8::1", 8000), ("2001:db8::2", 8000)]


def test_address_precedence_override_then_ansible_host_then_name():
    hv = {
        "app1": {"flaskstack_upstream_address": "10.1.0.1", "ansible_host": "203.0.113.1"},
        "app2": {"ansible_host": "203.0.113.2"},
        "app3": {},
        "app4": {"ansible_host": None},
    }
    assert [s["address"] for s in servers(hv)] == ["10.1.0.1", "203.0.113.2", "app3", "app4"]


@pytest.mark.parametrize(
    "variables",
    [
        {"flask_app_port": 0},
        {"flask_app_port": 65536},
        {"flask_app_port": -1},
        {"flask_app_port": "80a"},
        {"flask_app_port": True},
        {"flask_app_port": 80.5},
        {"gunicorn_bind": "0.0.0.0:0"},
        {"gunicorn_bind": "[::]:65536"},
        {"flask_app_server": "uwsgi", "uwsgi_protocol": "http", "uwsgi_socket": ":99999"},
    ],
)
def test_bad_port(variables):
    with pytest.raises(AnsibleFilterError, match="host app1: the port from .* is not an integer from 1 to 65535"):
        pool({"app1": variables})


@pytest.mark.parametrize(
    "bind", ["0.0.0.0", "0.0.0.0:", "0.0.0.0:http", "::1:8000", "[::1]8000", "unix:relative.sock", "fd://3", ["0.0.0.0:1"]]
)
def test_bad_bind(bind):
    with pytest.raises(AnsibleFilterError, match="host app1 has gunicorn_bind: .* is not HOST:PORT"):
        pool({"app1": {"gunicorn_bind": bind}})


@pytest.mark.parametrize(
    "hostvars, match",
    [
        ({"app1": {"ansible_host": ""}}, "host app1: ansible_host is empty"),
        ({"app1": {"flaskstack_upstream_address": "  "}}, "host app1: flaskstack_upstream_address is empty"),
        ({"app1": {"flaskstack_upstream_address": "a b"}}, "not a host name or IP address nginx can use"),
        ({"app1": {"ansible_host": "x;include /etc/passwd"}}, "ansible_host 'x;include /etc/passwd' is not"),
        ({"app1": {"ansible_host": 10}}, "host app1: ansible_host is 10, not a host name"),
        ({"app 1": {}}, "host app 1: the inventory name 'app 1' is not a host name or IP address"),
    ],
)
def test_bad_server_name(hostvars, match):
    with pytest.raises(AnsibleFilterError, match=match):
        pool(hostvars)


# --- Addresses nginx accepts in a server line ----------------------------------------------------------


@pytest.mark.parametrize(
    "address, expected",
    [
        ("10.0.0.1", "10.0.0.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("app1", "app1"),
        ("app-1.example.com", "app-1.example.com"),
        ("app1.example.com.", "app1.example.com."),
        ("1app.example", "1app.example"),
        ("a" * 63, "a" * 63),
        (".".join(["a" * 63] * 3) + "." + "a" * 61, ".".join(["a" * 63] * 3) + "." + "a" * 61),  # 253
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("fe80::1", "fe80::1"),
        (" 10.0.0.9 ", "10.0.0.9"),
    ],
)
def test_accepted_addresses(address, expected):
    assert servers({"app1": {"ansible_host": address}})[0]["address"] == expected


@pytest.mark.parametrize(
    "variables, match",
    [
        ({"ansible_host": "10.0.0.1:2222"}, r"host app1: ansible_host '10\.0\.0\.1:2222' includes a port.* the port "
         r"comes from flask_app_port, or from the port of gunicorn_bind when it is set \(this host: flask_app_port\)"
         r"\. Put the port there, or set flaskstack_upstream_address to the address alone"),
        ({"ansible_host": "app1.example:2222", "flask_app_server": "uwsgi", "uwsgi_socket": ":8001"},
         r"ansible_host 'app1\.example:2222' includes a port.*from the port of uwsgi_socket when it is set "
         r"\(this host: uwsgi_socket\)"),
        ({"flaskstack_upstream_address": "[2001:db8::1]:2222"},
         r"flaskstack_upstream_address '\[2001:db8::1\]:2222' includes a port"),
        ({"ansible_host": "fe80::1%eth0"}, r"ansible_host 'fe80::1%eth0' has an IPv6 zone id .*nginx cannot use"),
        ({"ansible_host": "[fe80::1%eth0]"}, r"ansible_host 'fe80::1%eth0' has an IPv6 zone id"),
        ({"ansible_host": "999.1.1.1"}, r"'999\.1\.1\.1' is not a host name or IP address nginx can use: it is not a "
         r"valid IPv4 address"),
        ({"ansible_host": "1.2.3"}, "not a valid IPv4 address"),
        ({"ansible_host": "010.0.0.1"}, "not a valid IPv4 address .*without leading zeros"),
        ({"ansible_host": "10.0.0.1."}, "not a valid IPv4 address"),
        ({"ansible_host": "123"}, "not a valid IPv4 address"),
        ({"ansible_host": "[10.0.0.1]"}, "brackets only go around a whole IPv6 address"),
        ({"ansible_host": "[app1]"}, "brackets only go around a whole IPv6 address"),
        ({"ansible_host": "2001:db8::g"}, "'2001:db8::g' is not .*: it is not a valid IPv6 address"),
        ({"ansible_host": "a:b"}, "it is not a valid IPv6 address"),
        ({"ansible_host": "app_1"}, "'_' is not allowed in a host name"),
        ({"ansible_host": "-app"}, "not at either end"),
        ({"ansible_host": "app-"}, "not at either end"),
        ({"ansible_host": "app..example"}, "dot-separated labels"),
        ({"ansible_host": ".app"}, "dot-separated labels"),
        ({"ansible_host": "a" * 64}, "1 to 63 characters each"),
        ({"ansible_host": ".".join(["a" * 63] * 4)}, "a host name has at most 253 characters"),
        ({"ansible_host": "app.10"}, "the last one not all digits"),
        ({"ansible_host": "app1.exämple"}, "dot-separated labels"),
        ({"ansible_host": "unix:/run/app.sock"}, "for a unix socket set gunicorn_bind to unix:/path.sock instead"),
        ({"flaskstack_upstream_address": "app_1"}, r"'_' is not allowed in a host name \(RFC 1123: letters, digits "
         r"and '-'\)$"),
    ],
)
def test_refused_addresses_name_the_variable(variables, match):
    with pytest.raises(AnsibleFilterError, match=match):
        pool({"app1": variables})


def test_a_bad_address_is_found_among_many_good_ones():
    hv = {"app%d" % i: {"ansible_host": "10.0.%d.%d" % (i >> 8, i & 255)} for i in range(1, 500)}
    hv["app250"]["ansible_host"] = "10.0.0.250:22"
    with pytest.raises(AnsibleFilterError, match="host app250: ansible_host '10.0.0.250:22' includes a port"):
        pool(hv)


def render_upstreams(pools):
    """roles/nginx/templates/upstreams.conf.j2 rendered as the role does (trim_blocks, as Ansible's template)."""
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["comment"] = lambda text: "# " + text
    return env.from_string(UPSTREAMS_TEMPLATE.read_text()).render(ansible_managed="test", nginx_upstreams=pools)


def nginx_test(tmp_path, upstreams_conf):
    """nginx -t of a main config that includes upstreams_conf; (accepted, nginx's output)."""
    (tmp_path / "upstreams.conf").write_text(upstreams_conf)
    (tmp_path / "nginx.conf").write_text(
        "pid %s/nginx.pid;\nerror_log %s/error.log;\nevents { worker_connections 64; }\n"
        "http { access_log off; include %s/upstreams.conf; }\n" % (tmp_path, tmp_path, tmp_path)
    )
    proc = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, check=False, timeout=30,
    )
    return proc.returncode == 0, proc.stderr + proc.stdout


@needs_nginx
def test_accepted_addresses_pass_the_real_nginx_test(tmp_path):
    hv = {
        "app1": {"ansible_host": "10.0.0.1"},
        "app2": {"ansible_host": "2001:db8::2", "gunicorn_bind": "[::]:8002"},
        "app3": {"flaskstack_upstream_address": "[::ffff:10.0.0.3]"},
        "app4": {"ansible_host": "fe80::4"},
        "app5": {"ansible_host": "localhost", "flask_app_port": 8005},  # resolved by nginx -t from /etc/hosts
        "app6": {"ansible_host": "127.0.0.6"},
    }
    conf = render_upstreams([pool(hv)])
    assert "server [2001:db8::2]:8002;" in conf and "server localhost:8005;" in conf
    accepted, output = nginx_test(tmp_path, conf)
    assert accepted, output + conf


@needs_nginx
@pytest.mark.parametrize(
    "address, nginx_says",
    [
        ("fe80::1%eth0", "invalid IPv6 address"),
        ("fe80::1%lo", "invalid IPv6 address"),
        ("10.0.0.1:2222", "invalid IPv6 address"),  # the template brackets anything with ':'
        ("999.1.1.1", "host not found"),
        ("10.0.0.1.", "host not found"),
    ],
)
def test_what_the_filter_refuses_nginx_rejects(tmp_path, address, nginx_says):
    """The refusals are nginx's own: the same address rendered without the filter fails nginx -t."""
    with pytest.raises(AnsibleFilterError):
        pool({"app1": {"ansible_host": address}})
    unchecked = {"name": "app", "servers": [{"address": address, "port": 8000}]}
    accepted, output = nginx_test(tmp_path, render_upstreams([unchecked]))
    assert not accepted
    assert nginx_says in output


@needs_nginx
def test_host_and_port_in_one_line_is_rejected_by_nginx_too(tmp_path):
    accepted, output = nginx_test(tmp_path, "upstream app { server 10.0.0.1:2222:8000; }\n")
    assert not accepted and "invalid port in upstream" in output


def test_a_variable_referring_to_an_undefined_one_is_named():
    hv = {"app1": {"gunicorn_bind": jinja2.Undefined(name="flask_app_bind_address")}}
    with pytest.raises(AnsibleFilterError, match="cannot read gunicorn_bind of host app1: .flask_app_bind_address"):
        pool(hv)


def test_two_hosts_on_one_address_and_port():
    hv = {"app1": {"ansible_host": "10.0.0.1"}, "app2": {"ansible_host": "10.0.0.1"}}
    with pytest.raises(AnsibleFilterError, match="hosts app1 and app2 both resolve to 10.0.0.1:8000"):
        pool(hv)
    hv["app2"]["flask_app_port"] = 8001  # same machine, two apps: fine
    assert [s["port"] for s in servers(hv)] == [8000, 8001]


# --- Weights -----------------------------------------------------------------------------------------


def test_explicit_weight_wins_over_facts():
    hv = {"app1": dict(facts("x86_64", 4), flaskstack_upstream_weight="3"), "app2": facts("aarch64", 4)}
    assert [s["weight"] for s in servers(hv)] == [3, 4]


def test_weight_from_cores_and_architecture():
    hv = {
        "app1": facts("x86_64", 4),
        "app2": facts("aarch64", 4),
        "app3": facts("armv7l", 4),
        "app4": facts("riscv64", 3),  # unknown architecture: factor 1
        "app5": {"ansible_facts": {"architecture": "amd64", "processor_nproc": 2, "processor_count": 1}},
        "app6": {"ansible_facts": {"architecture": "x86_64", "processor_count": 1}},
        "app7": {"ansible_architecture": "x86_64", "ansible_processor_vcpus": 8},  # injected fact vars
    }
    assert [s["weight"] for s in servers(hv)] == [8, 4, 4, 3, 4, 2, 16]


def test_arch_weights_override_and_extend_the_defaults():
    hv = {"app1": facts("x86_64", 4), "app2": facts("aarch64", 4), "app3": facts("riscv64", 4)}
    weights = [s["weight"] for s in servers(hv, arch_weights={"x86_64": 3, "RISCV64": 2})]
    assert weights == [12, 4, 8]


@pytest.mark.parametrize("factor", [0, "two", None, True])
def test_bad_arch_weight(factor):
    with pytest.raises(AnsibleFilterError, match="arch_weights"):
        pool({"app1": {}}, arch_weights={"x86_64": factor})


def test_no_facts_no_weight():
    assert all("weight" not in s for s in servers({"app1": {}, "app2": {"ansible_facts": {}}}))


def test_facts_of_only_some_hosts_give_no_derived_weights():
    # app2's facts are missing (--limit, not gathered): 8 against 1 would starve it, so nobody gets a derived weight.
    hv = {"app1": facts("x86_64", 4), "app2": {}, "app3": dict(flaskstack_upstream_weight=5)}
    assert [s.get("weight") for s in servers(hv)] == [None, None, 5]


@pytest.mark.parametrize("weight", [0, -1, "heavy", 1.5, True])
def test_bad_weight(weight):
    with pytest.raises(AnsibleFilterError, match="host app1 has flaskstack_upstream_weight: .* integer >= 1"):
        pool({"app1": {"flaskstack_upstream_weight": weight}})


# --- backup, down, failure accounting ----------------------------------------------------------------


def test_backup_from_hostvars_even_as_strings():
    hv = {"app1": {}, "app2": {"flaskstack_upstream_backup": "yes"}, "app3": {"flaskstack_upstream_backup": "false"}}
    assert [s["backup"] for s in servers(hv)] == [False, True, False]


def test_bad_bool():
    with pytest.raises(AnsibleFilterError, match="host app1 has flaskstack_upstream_down: 'maybe'; it must be true"):
        pool({"app1": {"flaskstack_upstream_down": "maybe"}, "app2": {}})


def test_down_from_kwarg_and_hostvar():
    hv = {"app1": {}, "app2": {"flaskstack_upstream_down": "true"}, "app3": {}, "app4": {}}
    assert [s["down"] for s in servers(hv, down=["app3"])] == [False, True, True, False]


def test_down_typo_is_an_error():
    with pytest.raises(AnsibleFilterError, match="down names app9, which is not in the pool \\(a typo\\?\\)"):
        pool({"app1": {}, "app2": {}}, down=["app9"])
    for bad in ("app1", ["app1", None], {"app1": True}):
        with pytest.raises(AnsibleFilterError, match="down must be a list"):
            pool({"app1": {}, "app2": {}}, down=bad)


def test_all_down_is_an_error():
    hv = {"app1": {"flaskstack_upstream_down": True}, "app2": {}}
    with pytest.raises(AnsibleFilterError, match="every server of pool 'app' is down .*nginx would answer 502"):
        pool(hv, down=["app2"])
    # A live backup is enough: nginx falls back to it.
    hv["app2"]["flaskstack_upstream_backup"] = True
    assert [(s["down"], s["backup"]) for s in servers(hv)] == [(True, False), (False, True)]


def test_all_backup_is_an_error():
    with pytest.raises(AnsibleFilterError, match="every server of pool 'app' is a backup"):
        pool({"app1": {"flaskstack_upstream_backup": True}})


def test_ip_hash_with_a_backup_is_an_error():
    hv = {"app1": {}, "app2": {"flaskstack_upstream_backup": True}}
    with pytest.raises(AnsibleFilterError, match="balance ip_hash does not support backup servers.*app2 has"):
        pool(hv, balance="ip_hash")
    assert pool(hv, balance="least_conn")["balance"] == "least_conn"


def test_max_fails_and_fail_timeout_for_all_with_per_host_overrides():
    hv = {
        "app1": {},
        "app2": {"flaskstack_upstream_max_fails": 0, "flaskstack_upstream_fail_timeout": "1m30s"},
        "app3": {"flaskstack_upstream_fail_timeout": 5},
    }
    result = servers(hv, max_fails="3", fail_timeout="10s")
    assert [(s["max_fails"], s["fail_timeout"]) for s in result] == [(3, "10s"), (0, "1m30s"), (3, "5")]
    assert all("max_fails" not in s and "fail_timeout" not in s for s in servers(hv, hosts=["app1"]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_fails": -1}, "max_fails=-1 must be an integer >= 0"),
        ({"fail_timeout": "10 s"}, "fail_timeout='10 s' is not an nginx time"),
        ({"balance": "random"}, "balance='random' is unknown"),
        ({"keepalive": "many"}, "keepalive='many' must be an integer >= 0"),
        ({"name": "my app"}, "name='my app' is not a usable pool name"),
        ({"name": ""}, "is not a usable pool name"),
    ],
)
def test_bad_keyword_arguments(kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        pool({"app1": {}}, **kwargs)


def test_balance_and_keepalive_only_when_given():
    assert set(pool({"app1": {}})) == {"name", "protocol", "servers"}
    result = pool({"app1": {}}, balance="round_robin", keepalive="0")
    assert (result["balance"], result["keepalive"]) == ("round_robin", 0)


# --- Input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hosts", ["app", None, {"app1": 1}, ["app1", 3], ["app1", ""]])
def test_input_must_be_a_list_of_host_names(hosts):
    with pytest.raises(AnsibleFilterError, match="list of inventory host names"):
        upstream_servers(hosts, {"app1": {}})


def test_empty_list():
    with pytest.raises(AnsibleFilterError, match="the host list is empty"):
        upstream_servers([], {"app1": {}})


def test_unknown_host():
    with pytest.raises(AnsibleFilterError, match="pool 'app': unknown host app2: hostvars has no such host"):
        upstream_servers(["app1", "app2"], {"app1": {}})


@pytest.mark.parametrize("hostvars", [None, ["app1"], "hostvars"])
def test_hostvars_missing_or_not_a_mapping(hostvars):
    with pytest.raises(AnsibleFilterError, match="hostvars"):
        upstream_servers(["app1"], hostvars)


def test_per_host_vars_not_a_mapping():
    with pytest.raises(AnsibleFilterError, match="hostvars\\['app1'\\] is str"):
        upstream_servers(["app1"], {"app1": "vars"})


def test_duplicates_are_dropped():
    assert [s["address"] for s in servers({"app1": {}, "app2": {}}, hosts=["app2", "app1", "app2"])] == ["app1", "app2"]


def test_natural_order_whatever_the_input_order():
    names = ["app10", "app2", "app1", "db1", "App3", "app1b", "app01"]
    hv = {name: {} for name in names}
    expected = ["app01", "app1", "app1b", "app2", "App3", "app10", "db1"]
    for seed in range(5):
        shuffled = list(names)
        random.Random(seed).shuffle(shuffled)
        assert [s["address"] for s in servers(hv, hosts=shuffled)] == expected


# --- Fits the nginx role -----------------------------------------------------------------------------


def test_output_keys_are_what_the_nginx_role_accepts():
    specs = yaml.safe_load(NGINX_SPECS.read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]
    pool_spec = specs["nginx_upstreams"]["options"]
    server_spec = pool_spec["servers"]["options"]
    hv = {
        "app1": dict(facts("x86_64", 2), flaskstack_upstream_fail_timeout="5s"),
        "app2": {"flaskstack_upstream_weight": 2, "flaskstack_upstream_backup": True, "ansible_host": "::1"},
        "app3": {"gunicorn_bind": "unix:/run/app.sock", "flaskstack_upstream_max_fails": 1},
    }
    result = pool(hv, down=["app1"], max_fails=2, fail_timeout="9s", balance="least_conn", keepalive=8)
    assert set(result) <= set(pool_spec)
    assert {"name", "protocol", "servers", "balance", "keepalive"} == set(result)
    assert result["protocol"] in pool_spec["protocol"]["choices"]
    assert result["balance"] in pool_spec["balance"]["choices"]
    types = {"str": str, "int": int, "bool": bool}
    for server in result["servers"]:
        assert set(server) <= set(server_spec)
        for key, value in server.items():
            # The exact type, not isinstance(): a bool must not pass for an int.
            assert type(value) is types[server_spec[key]["type"]], (key, value)  # pylint: disable=unidiomatic-typecheck
    required = {k for k, v in server_spec.items() if v.get("required")}
    assert all(required <= set(s) for s in result["servers"])
    # Every optional key shows up somewhere here, so a renamed key in the role cannot pass unnoticed.
    assert set().union(*result["servers"]) == set(server_spec)


# --- At scale ----------------------------------------------------------------------------------------


def test_ten_thousand_hosts():
    arches = ["x86_64", "aarch64", "armv7l"]
    names = ["app%d" % i for i in range(1, 10001)]
    hv = {}
    for i, name in enumerate(names, 1):
        hv[name] = dict(facts(arches[i % 3], 1 + i % 8), ansible_host="10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255))
        if i % 2:
            hv[name].update(flask_app_server="uwsgi", uwsgi_protocol="http")
    shuffled = list(names)
    random.Random(1).shuffle(shuffled)
    start = time.perf_counter()
    result = pool(hv, hosts=shuffled, down=["app5000"])
    elapsed = time.perf_counter() - start
    assert result["protocol"] == "http"
    assert len(result["servers"]) == 10000
    assert [s["address"] for s in result["servers"][:3]] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert result["servers"][-1]["address"] == "10.0.39.16"  # app10000
    assert result["servers"][4999]["down"] and sum(s["down"] for s in result["servers"]) == 1
    assert [s["weight"] for s in result["servers"][:3]] == [2, 3, 8]  # aarch64 2 cores, armv7l 3, x86_64 4 × 2
    assert elapsed < 10, "10,000 hosts took %.1f s" % elapsed  # a sanity bound, not a benchmark


# --- Through Ansible, with real hostvars -------------------------------------------------------------

INVENTORY = """
all:
  children:
    app:
      hosts:
        app10:
          flask_app_server: uwsgi
          uwsgi_protocol: http
          uwsgi_socket: "0.0.0.0:{{ 8000 + 10 }}"
        app2:
          flaskstack_upstream_weight: "{{ 1 + 1 }}"
        app1:
          flaskstack_upstream_down: "yes"
      vars:
        ansible_host: "{{ inventory_hostname }}.example"
    mixed:
      hosts:
        m1: {flask_app_server: uwsgi}
        m2: {}
    undefined:
      hosts:
        u1:
          # flask_app_bind_address is a role default: not in another host's hostvars.
          gunicorn_bind: "{{ flask_app_bind_address }}:9000"
"""

PLAYBOOK = """
- name: Render the pool
  hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: Pool of the app group
      ansible.builtin.copy:
        content: "{{ groups['app'] | flaskstack.deploy.upstream_servers(hostvars, keepalive=16) | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
    - name: A mixed pool fails with the filter's message
      ansible.builtin.debug:
        msg: "{{ groups['mixed'] | flaskstack.deploy.upstream_servers(hostvars, name='mixed') }}"
      ignore_errors: true
    - name: A variable that refers to an undefined one is named
      ansible.builtin.debug:
        msg: "{{ groups['undefined'] | flaskstack.deploy.upstream_servers(hostvars, name='undefined') }}"
"""


def test_through_ansible_with_real_hostvars_and_no_facts(tmp_path, ansible_playbook):
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    out = tmp_path / "pool.json"
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    proc = ansible_playbook(
        "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "playbook.yml"), "-e", "out=%s" % out,
        config=tmp_path / "ansible.cfg", cwd=tmp_path,
    )
    assert out.exists(), proc.stdout + proc.stderr
    assert json.loads(out.read_text()) == {
        "name": "app",
        "protocol": "http",
        "keepalive": 16,
        "servers": [
            {"address": "app1.example", "port": 8000, "backup": False, "down": True},
            {"address": "app2.example", "port": 8000, "weight": 2, "backup": False, "down": False},
            {"address": "app10.example", "port": 8010, "backup": False, "down": False},
        ],
    }
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0  # the last task
    assert "pool 'mixed' mixes protocols: m1 speaks uwsgi, m2 speaks http" in output
    assert "cannot read gunicorn_bind of host u1: 'flask_app_bind_address' is undefined" in output


# --- The filter around module_utils/upstreams.py -------------------------------------------------------


def test_an_undefined_variable_is_named_with_its_cause_attached():
    hv = {"app1": {"ansible_facts": jinja2.Undefined(name="gathered")}}
    with pytest.raises(AnsibleFilterError) as caught:
        pool(hv)
    message = (
        "upstream_servers: pool 'app': cannot read ansible_facts of host app1: 'gathered' is undefined (a role's "
        "defaults are not in other hosts' hostvars: set what it refers to in the inventory)"
    )
    assert str(caught.value) == message + ": 'gathered' is undefined"  # AnsibleError adds its cause's message
    assert isinstance(caught.value.__cause__, jinja2.UndefinedError)
    assert caught.value.__suppress_context__  # what Ansible shows: the message, then its cause


def test_other_errors_have_no_cause():
    with pytest.raises(AnsibleFilterError, match="unknown host app2") as caught:
        upstream_servers(["app2"], {"app1": {}})
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("var", ["ansible_processor_vcpus", "ansible_architecture", "flaskstack_upstream_down"])
def test_an_undefined_variable_in_a_plain_dict_is_named(var):
    hv = {"app1": {"ansible_facts": {"processor_nproc": 2}}, "app2": {var: jinja2.StrictUndefined(name="x")}}
    if var == "ansible_architecture":
        hv["app2"]["ansible_facts"] = {"processor_vcpus": 2}
    with pytest.raises(AnsibleFilterError, match="cannot read %s of host app2: 'x' is undefined" % var):
        pool(hv)


def test_repeated_calls_give_the_same_pool(monkeypatch):
    hv = {"app%d" % i: dict(facts("x86_64", i % 3 + 1), ansible_host="10.0.0.%d" % i) for i in range(1, 40)}
    hv["app7"]["flaskstack_upstream_address"] = "2001:db8::7"
    first = pool(hv, hosts=list(reversed(list(hv))))
    assert pool(hv) == first
    monkeypatch.setattr(upstreams, "_NATURAL_KEYS", {})
    monkeypatch.setattr(upstreams, "_USABLE_ADDRESSES", set())
    assert pool(hv) == first
    assert [s["address"] for s in first["servers"][5:8]] == ["10.0.0.6", "2001:db8::7", "10.0.0.8"]


def test_a_bad_address_is_refused_on_every_call():
    hv = {"app1": {"ansible_host": "10.0.0.1"}, "app2": {"ansible_host": "10.0.0.2:22"}}
    for dummy in range(2):
        with pytest.raises(AnsibleFilterError, match="host app2: ansible_host '10.0.0.2:22' includes a port"):
            pool(hv)


def test_the_documentation_matches_the_filter():
    docs = yaml.safe_load(FILTER_DOCS.read_text(encoding="utf-8"))["DOCUMENTATION"]
    parameters = list(inspect.signature(upstream_servers).parameters)
    assert list(docs["options"]) == ["_input"] + parameters[1:]
    for option, spec in docs["options"].items():
        if "default" in spec and option != "down":
            assert inspect.signature(upstream_servers).parameters[option].default == spec["default"], option
    assert docs["options"]["protocol"]["choices"] == ["auto"] + list(upstreams.PROTOCOLS)
    assert docs["options"]["balance"]["choices"] == list(upstreams.BALANCES)
    arch_text = " ".join(docs["options"]["arch_weights"]["description"])
    assert "V(%s)" % upstreams.DEFAULT_ARCH_WEIGHTS in arch_text
