"""The typed rules (module_utils/_inputs/values.py) and the writers (writers.py): normalised values, and
refusals that name the variable."""

import ast
import configparser
import shutil
import subprocess

import pytest

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values, writers
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.values import InputError


@pytest.mark.parametrize("given, wanted", [
    (True, True), (False, False), ("no", False), ("No", False), ("off", False), ("false", False), ("0", False),
    ("yes", True), ("on", True), ("TRUE", True), ("1", True), (1, True), (0, False),
])
def test_boolean_is_a_real_boolean(given, wanted):
    assert values.boolean("nginx_gzip", given) is wanted


@pytest.mark.parametrize("given", ["maybe", "", 2, None, [], "nein"])
def test_boolean_refuses_the_rest_naming_the_variable(given):
    with pytest.raises(InputError, match=r"^nginx_gzip: .* is not true or false$"):
        values.boolean("nginx_gzip", given)


def test_integers_and_ports():
    assert values.integer("w", "8") == 8 and values.integer("w", 8, 1, 8) == 8
    assert values.port("p", "8000") == 8000
    for bad, why in [(True, "not an integer"), ("8.0", "not an integer"), (0, "less than 1"), (65536, "more than")]:
        with pytest.raises(InputError, match="^flask_app_port: .*%s" % why):
            values.port("flask_app_port", bad)


@pytest.mark.parametrize("given, wanted", [("0660", "0660"), ("660", "0660"), (432, "0660"), (0o600, "0600"),
                                           ("0755", "0755"), (0, "0000")])
def test_octal_mode_is_a_four_digit_string(given, wanted):
    assert values.octal_mode("uwsgi_socket_mode", given) == wanted


@pytest.mark.parametrize("given", [660 * 10, "0880", "rw", True, "06600"])
def test_octal_mode_refuses_what_is_no_mode(given):
    with pytest.raises(InputError, match="^uwsgi_socket_mode: "):
        values.octal_mode("uwsgi_socket_mode", given)


@pytest.mark.parametrize("given, seconds, whole", [
    ("10s", 10, 10), ("1m30s", 90, 90), ("1m30", 90, 90), ("1h", 3600, 3600), ("1d", 86400, 86400), (30, 30, 30),
    ("45", 45, 45), ("1h1s", 3601, 3601), ("2w", 1209600, 1209600), ("1h 30m", 5400, 5400), ("1y", 31536000, 31536000),
])
def test_nginx_time_in_seconds_carries_its_seconds(given, seconds, whole):
    time = values.nginx_time("flaskstack_pool_fail_timeout", given, seconds=True)
    assert time == str(given) and time.seconds == pytest.approx(seconds) and time.whole_seconds == whole


def test_nginx_time_in_milliseconds():
    time = values.nginx_time("nginx_keepalive_timeout", "500ms")
    assert time.seconds == pytest.approx(0.5) and time.whole_seconds == 1
    assert values.nginx_time("nginx_keepalive_timeout", "1m30s500ms").seconds == pytest.approx(90.5)
    for bad in ("1M", "1y"):
        with pytest.raises(InputError, match="^nginx_keepalive_timeout: "):
            values.nginx_time("nginx_keepalive_timeout", bad)


def test_nginx_time_in_seconds_refuses_milliseconds_saying_so():
    with pytest.raises(InputError, match="^flaskstack_pool_fail_timeout: '500ms': nginx takes whole seconds here"):
        values.nginx_time("flaskstack_pool_fail_timeout", "500ms", seconds=True)


@pytest.mark.parametrize("given", ["30s1m", "1s1s", "10 s", "", "ten", "-1s", True, 1.5, "1x", "1m30m"])
def test_nginx_time_refuses_what_nginx_refuses(given):
    with pytest.raises(InputError, match="^flaskstack_pool_fail_timeout: "):
        values.nginx_time("flaskstack_pool_fail_timeout", given, seconds=True)


def test_nginx_size():
    assert values.nginx_size("s", "1M") == "1m" and values.nginx_size("s", 1024) == "1024"
    with pytest.raises(InputError, match="^nginx_client_max_body_size: '1 m' is not an nginx size"):
        values.nginx_size("nginx_client_max_body_size", "1 m")


def test_absolute_paths_are_normalised_and_stay_under_their_root():
    assert values.absolute_path("d", "/srv//shop/./x/") == "/srv/shop/x"
    assert values.absolute_path("d", "/srv/shop/current/static", under="/srv/shop") == "/srv/shop/current/static"
    with pytest.raises(InputError, match=r"^alias: '/srv/flask_app/current/../../../etc/' is outside /srv/flask_app "
                                         r"\(it is /etc once '..' are resolved\)$"):
        values.absolute_path("alias", "/srv/flask_app/current/../../../etc/", under="/srv/flask_app")
    with pytest.raises(InputError, match="^flask_app_base_dir: 'srv/shop' is not an absolute path$"):
        values.absolute_path("flask_app_base_dir", "srv/shop")
    with pytest.raises(InputError, match="line break"):
        values.absolute_path("flask_app_base_dir", "/srv/shop\n[program:x]")


def test_supervisor_value_reads_back_as_written():
    text = writers.supervisor_value("supervisor_inet_http_server_password", "p%w;rd=\"x'")
    # supervisor expands %(...)s like configparser's interpolation: %% is a literal %.
    interpolated = configparser.ConfigParser()
    interpolated.read_string("[inet_http_server]\npassword=%s\n" % text)
    assert interpolated.get("inet_http_server", "password") == "p%w;rd=\"x'"


@pytest.mark.parametrize("given, why", [
    ("secret\n[program:evil]\ncommand=/bin/sh", "line break"), ("pass ;word", "after a blank"),
    (" padded", "blank"), ("a\rb", "line break"),
])
def test_supervisor_value_refuses_what_ini_cannot_hold(given, why):
    with pytest.raises(InputError, match="^supervisor_inet_http_server_password: .*%s" % why):
        writers.supervisor_value("supervisor_inet_http_server_password", given)


def test_uwsgi_value_refuses_placeholders_and_line_breaks():
    assert writers.uwsgi_value("uwsgi_socket", "127.0.0.1:8000") == "127.0.0.1:8000"
    for bad in ("50%", "x\ny = 1", " x"):
        with pytest.raises(InputError, match="^uwsgi_socket: "):
            writers.uwsgi_value("uwsgi_socket", bad)


def test_env_file_value_keeps_the_line_and_refuses_a_new_one():
    assert writers.env_file_value("flask_app_secret_key", "a=b #c 'd\"") == "a=b #c 'd\""
    with pytest.raises(InputError, match="^flask_app_secret_key: cannot hold a line break"):
        writers.env_file_value("flask_app_secret_key", "key\nEVIL=1")


@pytest.mark.parametrize("value", ['/srv/a"); import os; os.system("id"); ("', "back\\slash", 8, True, None,
                                   ["a", 'b"'], {"K": 'v"'}, 1.5])
def test_python_literal_reads_back_as_the_same_value(value):
    assert ast.literal_eval(writers.python_literal(value)) == value


def test_nginx_string_keeps_separators_inside_quotes():
    assert writers.nginx_string("nginx_error_log", 'syslog:x; autoindex on; #"') == '"syslog:x; autoindex on; #\\""'
    with pytest.raises(InputError, match=r'^nginx_access_log: cannot hold "\$"'):
        writers.nginx_string("nginx_access_log", "/var/log/$host.log")
    assert writers.nginx_string("v", "/var/log/$host.log", variables=True) == '"/var/log/$host.log"'


TIMES = ["10s", "1m30s", "1m30", "1m 30", "1h 30m", "1h30m", "1d", "2w", "1M", "1y", "500ms", "1s500ms", "45",
         "30s1m", "1s1s", "10 s", "1hs", "1x", "s", "1m30m", "0", "1 h"]


@pytest.mark.skipif(shutil.which("nginx") is None, reason="no nginx binary on this machine")
@pytest.mark.parametrize("text", TIMES)
def test_nginx_time_accepts_exactly_what_nginx_accepts(tmp_path, text):
    """The rule against the real binary: fail_timeout reads whole seconds, keepalive_timeout milliseconds."""
    def accepted(directive):
        conf = tmp_path / "nginx.conf"
        temp = " ".join("%s_temp_path %s/%s;" % (n, tmp_path, n)
                        for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf.write_text("pid %s/pid; error_log %s/err; events {} http { access_log off; %s %s }\n"
                        % (tmp_path, tmp_path, temp, directive))
        run = subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(conf)], capture_output=True,
                             text=True, check=False)
        return run.returncode == 0

    for seconds, directive in ((True, 'upstream a { server 127.0.0.1:9 fail_timeout=%s; }' % text.replace(" ", "")),
                               (False, 'keepalive_timeout "%s";' % text)):
        if seconds and " " in text:
            continue  # a server's parameters cannot hold a blank
        try:
            values.nginx_time("t", text, seconds=seconds)
            ours = True
        except InputError:
            ours = False
        assert ours == accepted(directive), (text, seconds)


def test_uwsgi_inputs_are_normalised_or_refused_naming_the_variable():
    from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import uwsgi

    out, errors = uwsgi.normalise({"uwsgi_socket_mode": 0o660, "uwsgi_threads": "4", "uwsgi_enable_threads": "no",
                                   "uwsgi_logto": "", "uwsgi_extra_options": {"env": ["A=1", "B=2"], "x": True}})
    assert errors == []
    assert out == {"socket_mode": "0660", "threads": 4, "enable_threads": False, "logto": "",
                   "extra_options": [["env", "A=1"], ["env", "B=2"], ["x", "true"]]}
    out, errors = uwsgi.normalise({"uwsgi_socket_mode": "660x", "uwsgi_threads": 0, "uwsgi_stats": "a%b"})
    assert [e.split(":", 1)[0] for e in errors] == ["uwsgi_socket_mode", "uwsgi_threads", "uwsgi_stats"]


def test_the_env_file_holds_one_line_per_variable():
    assert writers.env_file_value("flask_app_env.A", "x=y;#z") == "x=y;#z"
    for bad in ("a\nB=1", "a\rb", " padded", "padded "):
        with pytest.raises(InputError, match="^flask_app_env.A: "):
            writers.env_file_value("flask_app_env.A", bad)
