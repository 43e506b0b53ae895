# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The upstream_servers filter's steps (plugins/module_utils/upstreams.py) one by one, and the app-server
constants (plugins/module_utils/app_servers.py) against the roles and playbooks that define them."""

from __future__ import absolute_import, division, print_function

import pathlib
import random
import re
from collections.abc import Mapping

import jinja2
import pytest
import yaml

from ansible_collections.flaskstack.deploy.plugins.module_utils import addresses, app_servers, upstreams
from ansible_collections.flaskstack.deploy.plugins.module_utils.upstreams import UpstreamError

__metaclass__ = type

ROOT = pathlib.Path(__file__).resolve().parents[4]


def load(*parts):
    return yaml.safe_load((ROOT.joinpath(*parts)).read_text(encoding="utf-8"))


def builder(**kwargs):
    options = upstreams.pool_options(
        kwargs.pop("name", "app"), kwargs.pop("protocol", "auto"), kwargs.pop("balance", None), None,
        kwargs.pop("max_fails", None), kwargs.pop("fail_timeout", None), kwargs.pop("arch_weights", None),
    )
    return upstreams.PoolBuilder(options, kwargs.pop("drained", set()))


# --- The constants are the roles' ------------------------------------------------------------------


def test_app_server_constants_are_the_role_defaults():
    flask_app = load("roles", "flask_app", "defaults", "main.yml")
    assert flask_app[app_servers.APP_SERVER_VAR] == app_servers.DEFAULT_APP_SERVER == "gunicorn"
    assert flask_app[app_servers.PORT_VAR] == app_servers.DEFAULT_PORT
    assert flask_app[app_servers.BIND_ADDRESS_VAR] == app_servers.DEFAULT_BIND_ADDRESS
    uwsgi = load("roles", "uwsgi", "defaults", "main.yml")
    assert uwsgi[app_servers.UWSGI_PROTOCOL_VAR] == app_servers.DEFAULT_UWSGI_PROTOCOL
    # Both binds default to flask_app_bind_address:flask_app_port, so an unset bind means flask_app_port.
    gunicorn = load("roles", "gunicorn", "defaults", "main.yml")
    assert gunicorn[app_servers.BIND_VARS["gunicorn"]] == app_servers.DEFAULT_BIND
    assert uwsgi[app_servers.BIND_VARS["uwsgi"]] == app_servers.DEFAULT_BIND


def test_app_server_constants_are_the_argument_specs():
    for role, var, default, choices in [
        ("flask_app", app_servers.APP_SERVER_VAR, app_servers.DEFAULT_APP_SERVER, app_servers.APP_SERVERS),
        ("flask_app", app_servers.PORT_VAR, app_servers.DEFAULT_PORT, None),
        ("flask_app", app_servers.BIND_ADDRESS_VAR, app_servers.DEFAULT_BIND_ADDRESS, None),
        ("uwsgi", app_servers.UWSGI_PROTOCOL_VAR, app_servers.DEFAULT_UWSGI_PROTOCOL, app_servers.PROTOCOLS),
    ]:
        specs = load("roles", role, "meta", "argument_specs.yml")["argument_specs"]
        entry_points = [spec["options"] for spec in specs.values() if var in spec.get("options", {})]
        assert entry_points, (role, var)
        for options in entry_points:
            assert options[var]["default"] == default, (role, var)
            if choices is not None:
                assert sorted(options[var]["choices"]) == sorted(choices), (role, var)


def test_group_and_pool_names_are_the_playbooks_defaults():
    stack = load("playbooks", "vars", "stack.yml")
    for var, constant in [
        ("flaskstack_stack_app_group", app_servers.DEFAULT_APP_GROUP),
        ("flaskstack_stack_lb_group", app_servers.DEFAULT_LB_GROUP),
        ("flaskstack_stack_pool_name", app_servers.DEFAULT_POOL_NAME),
    ]:
        assert re.fullmatch(r"\{\{ \w+ \| default\('(\w+)'\) \}\}", stack[var]).group(1) == constant, var


def test_the_pool_protocols_are_the_nginx_roles():
    specs = load("roles", "nginx", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(specs["nginx_upstreams"]["options"]["protocol"]["choices"]) == sorted(app_servers.PROTOCOLS)
    assert sorted(specs["nginx_upstreams"]["options"]["balance"]["choices"]) == sorted(upstreams.BALANCES)


# --- Small helpers ---------------------------------------------------------------------------------


def reference_key(host):
    """The filter's original key: the list of text / number parts, then the name."""
    parts = re.split(r"([0-9]+)", host)
    parts[1::2] = [int(p) for p in parts[1::2]]
    parts[0::2] = [p.lower() for p in parts[0::2]]
    return parts, host


def test_natural_key_orders_as_the_list_of_parts_would():
    atoms = ["app", "App", "web-", "x", "1", "01", "10", "2", ".", "é", "0"]
    rng = random.Random(7)
    for dummy in range(300):
        hosts = list({"".join(rng.choice(atoms) for dummy in range(rng.randint(1, 4))) for dummy in range(20)})
        assert sorted(hosts, key=upstreams.natural_key) == sorted(hosts, key=reference_key)


def test_sorted_hosts_drops_duplicates_and_remembers_keys(monkeypatch):
    monkeypatch.setattr(upstreams, "_NATURAL_KEYS", {})
    hosts = ["app10", "app2", "app1", "App3", "app01", "app2", "db1", "app"]
    expected = ["app", "app01", "app1", "app2", "App3", "app10", "db1"]
    assert upstreams.sorted_hosts(hosts) == expected
    assert set(upstreams._NATURAL_KEYS) == set(hosts)
    assert upstreams.sorted_hosts(list(reversed(hosts))) == expected  # from the memory


def test_the_memories_are_bounded(monkeypatch):
    monkeypatch.setattr(upstreams, "_MEMO_MAX", 4)
    monkeypatch.setattr(upstreams, "_NATURAL_KEYS", {})
    monkeypatch.setattr(upstreams, "_USABLE_ADDRESSES", set())
    for start in (1, 3, 5):
        hosts = ["app%d" % i for i in range(start, start + 3)]
        assert upstreams.sorted_hosts(hosts) == hosts
        assert len(upstreams._NATURAL_KEYS) <= 4
    assert upstreams.sorted_hosts(["app%d" % i for i in range(9, 0, -1)]) == ["app%d" % i for i in range(1, 10)]
    for i in range(10):
        upstreams.connect_address("app", {"ansible_host": "10.0.0.%d" % i}.get, "app", "flask_app_port", "gunicorn_bind")
        assert len(upstreams._USABLE_ADDRESSES) <= 4


def test_forget_empties_the_memories(monkeypatch):
    monkeypatch.setattr(upstreams, "_NATURAL_KEYS", {})
    monkeypatch.setattr(upstreams, "_USABLE_ADDRESSES", set())
    upstreams.upstream_pool(["app1"], {"app1": {"ansible_host": "10.0.0.1"}})
    assert upstreams._NATURAL_KEYS and upstreams._USABLE_ADDRESSES == {"10.0.0.1"}
    upstreams.forget()
    assert not upstreams._NATURAL_KEYS and not upstreams._USABLE_ADDRESSES


@pytest.mark.parametrize(
    "value, minimum, maximum, expected",
    [(8, 1, None, 8), (" 8 ", 1, None, 8), ("8a", 1, None, None), (True, 0, None, None), (0, 1, None, None),
     (65536, 1, 65535, None), (1.0, 1, None, None), ("٣", 0, None, None)],
)
def test_to_int(value, minimum, maximum, expected):
    assert upstreams.to_int(value, minimum, maximum) == expected


@pytest.mark.parametrize("value, expected", [("10s", "10s"), (" 1m30s ", "1m30s"), (5, "5"), (-1, None), ("10 s", None), (True, None)])
def test_nginx_time(value, expected):
    assert upstreams.nginx_time(value) == expected


def test_names_lists_ten_then_counts():
    assert upstreams.names(["a", "b"]) == "a, b"
    assert upstreams.names("h%d" % i for i in range(12)) == "h0, h1, h2, h3, h4, h5, h6, h7, h8, h9 and 2 more"


# --- 1. The call -----------------------------------------------------------------------------------


def test_pool_options_checks_and_converts():
    options = upstreams.pool_options("app", "http", "least_conn", "8", "3", 5, {"RISCV64": "2"})
    assert (options.protocol, options.balance, options.keepalive, options.max_fails, options.fail_timeout) == (
        "http", "least_conn", 8, 3, "5")
    assert options.factors == dict(upstreams.DEFAULT_ARCH_WEIGHTS, riscv64=2)
    with pytest.raises(UpstreamError, match="protocol='fastcgi' is unknown"):
        upstreams.pool_options("app", "fastcgi", None, None, None, None, None)
    with pytest.raises(UpstreamError, match=r"arch_weights\['x86_64'\] = 0"):
        upstreams.arch_factors("app", {"x86_64": 0})


def test_host_names_and_drained_hosts():
    upstreams.host_names("app", ["app1", "app2"])
    with pytest.raises(UpstreamError, match="' ' is not a host name"):
        upstreams.host_names("app", ["app1", " "])
    with pytest.raises(UpstreamError, match="the host list is empty"):
        upstreams.host_names("app", ())
    assert upstreams.drained_hosts("app", ["app2"], ["app1", "app2"]) == {"app2"}
    assert upstreams.drained_hosts("app", None, ["app1"]) == set()
    with pytest.raises(UpstreamError, match="down names app9, app10, which are not in the pool"):
        upstreams.drained_hosts("app", ["app9", "app10"], ["app1"])


# --- 2. Per host -----------------------------------------------------------------------------------


class Variables(Mapping):
    """A mapping that is not a dict, as Ansible's hostvars[host] is."""

    def __init__(self, values):
        self._values = values

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def test_host_variables():
    assert upstreams.host_variables("app", {"app1": {"a": 1}}, "app1") == {"a": 1}
    other = Variables({"a": 1})
    assert upstreams.host_variables("app", {"app1": other}, "app1") is other
    with pytest.raises(UpstreamError, match="unknown host app2"):
        upstreams.host_variables("app", {"app1": {}}, "app2")
    with pytest.raises(UpstreamError, match=r"hostvars\['app1'\] is list"):
        upstreams.host_variables("app", {"app1": []}, "app1")


def test_host_variables_name_what_cannot_be_read():
    get = upstreams.HostVariables({"gunicorn_bind": jinja2.Undefined(name="flask_app_bind_address")}, "app1", "app",
                                  jinja2.Undefined).get
    assert get("ansible_host") is None
    with pytest.raises(UpstreamError, match="cannot read gunicorn_bind of host app1: 'flask_app_bind_address' is undefined") as caught:
        get("gunicorn_bind")
    assert isinstance(caught.value.__cause__, jinja2.UndefinedError)


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({}, upstreams.GUNICORN_HOST),
        ({"flask_app_server": "gunicorn", "uwsgi_protocol": "uwsgi"}, upstreams.GUNICORN_HOST),
        ({"flask_app_server": "uwsgi"}, upstreams.UWSGI_DEFAULT_HOST),
        ({"flask_app_server": "uwsgi", "uwsgi_protocol": "uwsgi"}, upstreams.UWSGI_HOST),
        ({"flask_app_server": "uwsgi", "uwsgi_protocol": "http"}, upstreams.UWSGI_HTTP_HOST),
    ],
)
def test_app_server(variables, expected):
    assert upstreams.app_server("app", variables.get, "app1") is expected


def test_app_server_kinds():
    assert upstreams.GUNICORN_HOST == ("gunicorn", "http", "gunicorn_bind", False)
    assert upstreams.UWSGI_DEFAULT_HOST == ("uwsgi", "uwsgi", "uwsgi_socket", True)
    with pytest.raises(UpstreamError, match="host app1 has flask_app_server: 'waitress'"):
        upstreams.app_server("app", {"flask_app_server": "waitress"}.get, "app1")
    with pytest.raises(UpstreamError, match="host app1 has uwsgi_protocol: 'fastcgi'"):
        upstreams.app_server("app", {"flask_app_server": "uwsgi", "uwsgi_protocol": "fastcgi"}.get, "app1")


@pytest.mark.parametrize(
    "bind, expected",
    [("0.0.0.0:8001", ("tcp", "8001", 8001)), ("[::]:8002", ("tcp", "8002", 8002)), (":0", ("tcp", "0", None)),
     ("unix:/run/a.sock", ("unix", "/run/a.sock", None)), ("/run/b.sock", ("unix", "/run/b.sock", None)),
     ("0.0.0.0", False), ("::1:8000", False), (8000, False)],
)
def test_parsed_bind(bind, expected):
    assert upstreams.parsed_bind(bind) == expected


def test_connect_address_precedence_and_form():
    def address(**variables):
        return upstreams.connect_address("app", variables.get, "app1", "flask_app_port", "gunicorn_bind")

    assert address(flaskstack_upstream_address="10.0.0.1", ansible_host="10.0.0.2") == "10.0.0.1"
    assert address(ansible_host=" 10.0.0.2 ") == "10.0.0.2"
    assert address() == "app1"
    assert address(ansible_host="[2001:db8::1]") == "2001:db8::1"
    # overrides=False: flaskstack_upstream_address is known to be unset and not read.
    assert upstreams.connect_address("app", {"ansible_host": "h.example"}.get, "app1", "flask_app_port",
                                     "gunicorn_bind", overrides=False) == "h.example"
    with pytest.raises(UpstreamError, match="host app1: ansible_host '10.0.0.1:22' includes a port"):
        address(ansible_host="10.0.0.1:22")
    with pytest.raises(UpstreamError, match="host app1: ansible_host is empty"):
        address(ansible_host=" ")


def test_server_address():
    binds = {}

    def where(**variables):
        return upstreams.server_address("app", variables.get, "app1", "gunicorn_bind", binds)

    assert where() == ("app1", 8000)
    assert where(flask_app_port="8004", ansible_host="h.example") == ("h.example", 8004)
    assert where(gunicorn_bind="0.0.0.0:8001", flask_app_port=9000) == ("app1", 8001)
    assert where(gunicorn_bind="unix:/run/app.sock", ansible_host="10.0.0.1:22") == ("unix:/run/app.sock", None)
    assert set(binds) == {"0.0.0.0:8001", "unix:/run/app.sock"}
    # The address is checked before the port, as it always was.
    with pytest.raises(UpstreamError, match="ansible_host 'a b' is not a host name"):
        where(flask_app_port=0, ansible_host="a b")
    with pytest.raises(UpstreamError, match=r"the port from flask_app_port \(0\) is not an integer from 1 to 65535"):
        where(flask_app_port=0)
    with pytest.raises(UpstreamError, match="host app1 has gunicorn_bind: '0.0.0.0', which is not HOST:PORT"):
        where(gunicorn_bind="0.0.0.0")


def test_duplicate_error():
    assert str(upstreams.duplicate_error("app", "app1", "app2", "10.0.0.1", 8000)).endswith(
        "hosts app1 and app2 both resolve to 10.0.0.1:8000, so nginx would list one server twice "
        "(set flaskstack_upstream_address or different ports)")
    assert "a unix socket only serves an nginx on that same host" in str(
        upstreams.duplicate_error("app", "app1", "app2", "unix:/run/a.sock", None))


def test_explicit_weight():
    assert upstreams.explicit_weight("app", "app1", "3") == 3
    with pytest.raises(UpstreamError, match="host app1 has flaskstack_upstream_weight: 0; it must be an integer >= 1"):
        upstreams.explicit_weight("app", "app1", 0)


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({"ansible_facts": {"architecture": "x86_64", "processor_vcpus": 4}}, 8),
        ({"ansible_facts": {"architecture": "X86_64", "processor_vcpus": 4}}, 8),
        ({"ansible_facts": {"architecture": "aarch64", "processor_vcpus": 4}}, 4),
        ({"ansible_facts": {"architecture": "riscv64", "processor_vcpus": 3}}, 3),
        ({"ansible_facts": {"architecture": "amd64", "processor_nproc": 2, "processor_count": 1}}, 4),
        ({"ansible_facts": {"architecture": "x86_64", "processor_vcpus": 0, "processor_count": 3}}, 6),
        ({"ansible_facts": {"processor_vcpus": 2}, "ansible_architecture": "x86_64"}, 4),
        ({"ansible_architecture": "x86_64", "ansible_processor_vcpus": 8}, 16),
        ({"ansible_facts": {"architecture": "x86_64"}}, None),
        ({"ansible_facts": "not gathered"}, None),
        ({}, None),
    ],
)
def test_weight_from_facts(variables, expected):
    assert upstreams.weight_from_facts(variables.get, upstreams.arch_factors("app", None)) == expected


def test_weight_from_facts_does_not_pass_over_an_undefined_value():
    undefined = jinja2.Undefined(name="x")
    factors = upstreams.arch_factors("app", None)
    for variables in (
        {"ansible_facts": undefined},
        {"ansible_processor_vcpus": undefined},
        {"ansible_facts": {"processor_vcpus": 2}, "ansible_architecture": undefined},
    ):
        with pytest.raises(upstreams.Reread):
            upstreams.weight_from_facts(variables.get, factors, jinja2.Undefined)
        upstreams.weight_from_facts(variables.get, factors)  # without unread it passes over it, as it always did


def test_host_settings():
    assert upstreams.host_max_fails("app", "app1", "2") == 2
    assert upstreams.host_fail_timeout("app", "app1", 5) == "5"
    assert upstreams.host_flag("app", "app1", "flaskstack_upstream_backup", "yes") is True
    assert upstreams.host_flag("app", "app1", "flaskstack_upstream_backup", False) is False
    with pytest.raises(UpstreamError, match="host app1 has flaskstack_upstream_down: 'maybe'; it must be true or false"):
        upstreams.host_flag("app", "app1", "flaskstack_upstream_down", "maybe")
    with pytest.raises(UpstreamError, match="flaskstack_upstream_max_fails: -1"):
        upstreams.host_max_fails("app", "app1", -1)
    with pytest.raises(UpstreamError, match="flaskstack_upstream_fail_timeout: '1 m'"):
        upstreams.host_fail_timeout("app", "app1", "1 m")


def test_build_server_leaves_out_what_is_unset():
    assert list(upstreams.build_server("10.0.0.1", 8000, None, None, None, False, False).items()) == [
        ("address", "10.0.0.1"), ("port", 8000), ("backup", False), ("down", False)]
    assert list(upstreams.build_server("unix:/run/a.sock", None, 2, 0, "5s", True, False)) == [
        "address", "weight", "max_fails", "fail_timeout", "backup", "down"]


def test_pool_builder_reads_a_host_and_records_it():
    pool = builder(max_fails=3, drained={"app2"})
    pool.add_host({"ansible_facts": {"architecture": "x86_64", "processor_vcpus": 2}}.get, "app1", overrides=False)
    pool.add_host({"flask_app_server": "uwsgi", "uwsgi_protocol": "http", "flaskstack_upstream_weight": "5"}.get, "app2")
    assert pool.servers == [
        {"address": "app1", "port": 8000, "max_fails": 3, "backup": False, "down": False, "weight": 4},
        {"address": "app2", "port": 8000, "weight": 5, "max_fails": 3, "backup": False, "down": True},
    ]
    assert pool.kinds == [upstreams.GUNICORN_HOST, upstreams.UWSGI_HTTP_HOST]
    assert pool.finish()["protocol"] == "http"


def test_pool_builder_records_nothing_for_a_host_that_fails():
    pool = builder()
    with pytest.raises(UpstreamError):
        pool.add_host({"flaskstack_upstream_backup": "maybe"}.get, "app1")
    assert (pool.hosts, pool.kinds, pool.servers, pool.derived, pool.weighted) == ([], [], [], [], 0)
    pool.add_host({}.get, "app1")  # read again: its own earlier address is no duplicate
    assert pool.servers == [{"address": "app1", "port": 8000, "backup": False, "down": False}]


# --- 3. The pool -----------------------------------------------------------------------------------


def test_drop_partial_derived_weights():
    derived = [{"weight": 8}, {"weight": 4}]
    upstreams.drop_partial_derived_weights(derived, 2)
    assert derived == [{"weight": 8}, {"weight": 4}]
    upstreams.drop_partial_derived_weights(derived, 3)
    assert derived == [{}, {}]


def test_pool_protocol():
    g, u, ud, uh = upstreams.GUNICORN_HOST, upstreams.UWSGI_HOST, upstreams.UWSGI_DEFAULT_HOST, upstreams.UWSGI_HTTP_HOST
    assert upstreams.pool_protocol("app", "auto", ["a", "b"], [g, uh]) == "http"
    assert upstreams.pool_protocol("app", "auto", ["a", "b"], [u, ud]) == "uwsgi"
    assert upstreams.pool_protocol("app", "uwsgi", ["a"], [u]) == "uwsgi"
    with pytest.raises(UpstreamError, match="pool 'app' mixes protocols: a speaks uwsgi, b, c speak http, .*A gunicorn host"):
        upstreams.pool_protocol("app", "auto", ["a", "b", "c"], [ud, g, uh])
    with pytest.raises(UpstreamError, match="host b runs gunicorn, .*Also not speaking uwsgi: c$"):
        upstreams.pool_protocol("app", "uwsgi", ["a", "b", "c"], [u, g, uh])
    with pytest.raises(UpstreamError, match="host c runs uwsgi with uwsgi_protocol: http"):
        upstreams.pool_protocol("app", "uwsgi", ["a", "c"], [u, uh])
    with pytest.raises(UpstreamError, match=r"host a runs uwsgi with uwsgi_protocol: uwsgi \(the role's default"):
        upstreams.pool_protocol("app", "http", ["a", "b"], [ud, g])


def test_check_pool_and_make_pool():
    up = {"down": False, "backup": False}
    upstreams.check_pool("app", None, ["a"], [up])
    with pytest.raises(UpstreamError, match="every server of pool 'app' is down \\(a\\)"):
        upstreams.check_pool("app", None, ["a"], [{"down": True, "backup": False}])
    with pytest.raises(UpstreamError, match="every server of pool 'app' is a backup"):
        upstreams.check_pool("app", None, ["a"], [{"down": False, "backup": True}])
    with pytest.raises(UpstreamError, match="but b has flaskstack_upstream_backup: true"):
        upstreams.check_pool("app", "ip_hash", ["a", "b"], [up, {"down": False, "backup": True}])
    assert upstreams.make_pool("app", "http", [], None, 0) == {"name": "app", "protocol": "http", "servers": [], "keepalive": 0}


# --- All of it -------------------------------------------------------------------------------------


def test_upstream_pool_raises_its_own_error_without_ansible():
    with pytest.raises(UpstreamError, match="^upstream_servers: pool 'app': unknown host app2"):
        upstreams.upstream_pool(["app1", "app2"], {"app1": {}})


def test_a_plain_dict_and_a_mapping_give_the_same_pool():
    rng = random.Random(3)
    hostvars = {}
    for i in range(1, 200):
        variables = {"ansible_host": "10.0.%d.%d" % (i >> 8, i & 255),
                     "ansible_facts": {"architecture": rng.choice(["x86_64", "aarch64", "RISCV64"]), "processor_vcpus": 1 + i % 4}}
        if i % 7 == 0:
            variables["flaskstack_upstream_weight"] = 3
        if i % 11 == 0:
            variables["flaskstack_upstream_backup"] = "yes"
        hostvars["app%d" % i] = variables
    hosts = list(hostvars)
    rng.shuffle(hosts)
    plain = upstreams.upstream_pool(hosts, hostvars, down=["app5"], max_fails=2)
    mapped = upstreams.upstream_pool(hosts, {h: Variables(v) for h, v in hostvars.items()}, down=["app5"], max_fails=2)
    assert plain == mapped
    assert [s["address"] for s in plain["servers"][:3]] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def test_an_undefined_value_in_a_plain_dict_is_named_as_through_hostvars():
    undefined = jinja2.Undefined(name="nowhere")
    for var in ("ansible_facts", "ansible_processor_vcpus", "ansible_architecture", "flask_app_server", "ansible_host"):
        hostvars = {"app1": {}, "app2": {var: undefined}}
        if var == "ansible_architecture":
            hostvars["app2"]["ansible_facts"] = {"processor_vcpus": 2}
        with pytest.raises(UpstreamError, match="cannot read %s of host app2: 'nowhere' is undefined" % var):
            upstreams.upstream_pool(["app1", "app2"], hostvars, undefined=jinja2.Undefined)
    # Inside ansible_facts nothing is read through the guard, as before: an undefined core count is no count.
    hostvars = {"app1": {"ansible_facts": {"processor_vcpus": undefined, "processor_count": 2}}}
    assert upstreams.upstream_pool(["app1"], hostvars, undefined=jinja2.Undefined)["servers"][0]["weight"] == 2


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "01.0.0.1", "1.2.3", "1.2.3.4.", "app", "app-1.example.",
     "-app", "app-", "a..b", ".a", "a" * 63, "a" * 64, "app.10", "10.app", "app_1", "exämple", "", ".",
     ".".join(["a" * 63] * 3) + "." + "a" * 61, ".".join(["a" * 63] * 3) + "." + "a" * 62, "2001:db8::1"],
)
def test_is_plain_address_agrees_with_the_address_pattern(address):
    expected = len(address) <= addresses.HOST_NAME_MAX and addresses.ADDRESS.fullmatch(address) is not None
    assert addresses.is_plain_address(address) is expected
