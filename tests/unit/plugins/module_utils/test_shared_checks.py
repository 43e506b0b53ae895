"""The helpers that several checks share (upstreams.pool_option, rules.quantity, check_app.listen_address) and the
upstream_servers filter's arguments, taken from module_utils: each says exactly what the code it replaced said."""

import inspect

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.flaskstack.deploy.plugins.filter.upstream_servers import upstream_servers
from ansible_collections.flaskstack.deploy.plugins.module_utils import inputs, upstreams
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import rules, check_app


# --- upstreams.pool_option ------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, value, expected", [
    ("keepalive", None, None),
    ("keepalive", "0", 0),
    ("max_fails", 3, 3),
    ("fail_timeout", " 1m30s ", "1m30s"),
    ("fail_timeout", 10, "10"),
])
def test_pool_options_are_converted_or_left_unset(option, value, expected):
    options = upstreams.pool_options("app", "auto", None, None, None, None, None)
    assert (options.keepalive, options.max_fails, options.fail_timeout) == (None, None, None)
    options = upstreams.pool_options("app", "auto", None, *[value if name == option else None
                                                            for name in ("keepalive", "max_fails", "fail_timeout")], None)
    assert getattr(options, option) == expected


@pytest.mark.parametrize("option, value, message", [
    ("keepalive", "many", "upstream_servers: pool 'app': keepalive='many' must be an integer >= 0 (0 turns it off)"),
    ("keepalive", True, "upstream_servers: pool 'app': keepalive=True must be an integer >= 0 (0 turns it off)"),
    ("max_fails", -1, "upstream_servers: pool 'app': max_fails=-1 must be an integer >= 0"),
    ("fail_timeout", "10 s", "upstream_servers: pool 'app': fail_timeout='10 s' is not an nginx time such as 10s, 1m or 1m30s"),
    ("fail_timeout", -5, "upstream_servers: pool 'app': fail_timeout=-5 is not an nginx time such as 10s, 1m or 1m30s"),
])
def test_a_bad_pool_option_is_named_with_its_value(option, value, message):
    with pytest.raises(upstreams.UpstreamError) as caught:
        upstreams.pool_options("app", "auto", None, *[value if name == option else None
                                                      for name in ("keepalive", "max_fails", "fail_timeout")], None)
    assert str(caught.value) == message


def test_pool_option_keeps_none_and_refuses_what_convert_cannot_read():
    assert upstreams.pool_option("p", "x", None, int, "is wrong") is None
    assert upstreams.pool_option("p", "x", "7", upstreams.nginx_time, "is wrong") == "7"
    with pytest.raises(upstreams.UpstreamError, match=r"^upstream_servers: pool 'p': x=\[\] is wrong$"):
        upstreams.pool_option("p", "x", [], upstreams.nginx_time, "is wrong")


# --- rules.quantity -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, seconds, message", [
    ("10 s", False, "'10 s' is not an nginx time such as 10s or 1m30s"), (-1, False, "-1 is not an nginx time"),
    (True, False, "true is not an nginx time"), ("1x", False, "'1x' is not an nginx time"),
    ("1m 30s", False, "'1m 30s': write it without blanks, such as 1m30s"),
    ("500ms", True, "'500ms': nginx takes whole seconds here, not milliseconds"),
])
def test_nginx_times_are_read_as_nginx_reads_them_in_one_word(value, seconds, message):
    for good in ("10s", " 1m30s ", 0, 60, "1d"):
        errors = rules.Errors()
        assert rules.nginx_time(errors, "v", good, seconds=seconds) is True and not errors, good
    assert rules.nginx_time(rules.Errors(), "v", "500ms") is True
    errors = rules.Errors()
    assert rules.nginx_time(errors, "v", value, seconds=seconds) is False
    assert len(errors) == 1 and errors[0].startswith("v: " + message)


@pytest.mark.parametrize("check, good, bad, message", [
    (rules.nginx_size, ["16k", "10m", 0, 1024], ["16 k", -1, "1t", None],
     "is not an nginx size; use a number with an optional k, m or g, such as 16k or 10m"),
    (rules.supervisor_size, ["50MB", "1GB", 0], ["50 MB", -2, "50mb!"],
     "is not a supervisor size; use a number with an optional KB, MB or GB, such as 50MB"),
])
def test_quantities_take_a_whole_number_or_a_number_with_a_unit(check, good, bad, message):
    for value in good:
        errors = rules.Errors()
        assert check(errors, "v", value) is True and not errors, value
    for value in bad:
        errors = rules.Errors()
        assert check(errors, "v", value) is False, value
        assert errors == ["v: %s %s" % (rules.show(value), message)]


# --- check_app.listen_address ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role, var, value, start", [
    ("gunicorn", "gunicorn_bind", None, None),
    ("gunicorn", "gunicorn_bind", "unix:/srv/app/run/gunicorn.sock", None),
    ("gunicorn", "gunicorn_bind", "/run/g.sock", "gunicorn_bind: '/run/g.sock' is not an address"),
    ("uwsgi", "uwsgi_socket", "/srv/app/run/uwsgi.sock", None),
    ("uwsgi", "uwsgi_socket", "127.0.0.1:70000", "uwsgi_socket: '127.0.0.1:70000': 70000 is not a port"),
])
def test_the_app_servers_listen_address_is_checked_when_given(role, var, value, start):
    for errors in (inputs.check(role, {var: value}), listen_address_alone(var, value, role)):
        if start is None:
            assert list(errors) == []
        else:
            assert len(errors) == 1 and errors[0].startswith(start), errors


def listen_address_alone(var, value, role):
    errors = rules.Errors()
    check_app.listen_address(errors, {var: value}, var, unix="prefix" if role == "gunicorn" else "path")
    return list(errors)


# --- the upstream_servers filter's arguments --------------------------------------------------------------------


def test_the_filter_takes_upstream_pools_arguments_but_undefined():
    pool = inspect.signature(upstreams.upstream_pool)
    assert list(inspect.signature(upstream_servers).parameters) == [name for name in pool.parameters if name != "undefined"]
    hostvars = {"app1": {"ansible_host": "10.0.0.1"}}
    assert upstream_servers(["app1"], hostvars, "web", "http") == upstreams.upstream_pool(["app1"], hostvars, "web", "http")


@pytest.mark.parametrize("args, kwargs, problem", [
    ((), {"nmae": "app"}, "got an unexpected keyword argument 'nmae'"),
    ((), {"undefined": None}, "got an unexpected keyword argument 'undefined'"),
    (("app", "auto", None, None, None, None, None, None, None), {}, "too many positional arguments"),
])
def test_a_wrong_argument_is_named_with_the_filters_arguments(args, kwargs, problem):
    with pytest.raises(AnsibleFilterError) as caught:
        upstream_servers(["app1"], {"app1": {}}, *args, **kwargs)
    assert str(caught.value) == (
        "upstream_servers: %s; its arguments are hostvars, name, protocol, down, max_fails, fail_timeout, arch_weights, "
        "balance, keepalive (ansible-doc -t filter flaskstack.deploy.upstream_servers)" % problem
    )
