"""Parsing nginx's own output, as printed by real nginx versions."""

from ansible_collections.flaskstack.deploy.plugins.module_utils.nginx import (
    format_error,
    parse_messages,
    parse_test_output,
    parse_version_output,
)


def test_error_log_style_message_with_location():
    out = (
        '2026/11/22 00:27:30 [emerg] 9088#9088: unknown directive "foo" in /etc/nginx/conf.d/a.conf:3\n'
        "nginx: configuration file /etc/nginx/nginx.conf test failed\n"
    )
    parsed = parse_test_output(1, out)
    assert parsed["valid"] is False
    assert parsed["error"] == {
        "level": "emerg",
        "message": 'unknown directive "foo"',
        "file": "/etc/nginx/conf.d/a.conf",
        "line": 3,
    }


def test_message_containing_in_keeps_only_the_trailing_location():
    out = 'nginx: [emerg] host not found in upstream "app1:8000" in /etc/nginx/sites/lb.conf:7\n'
    error = parse_test_output(1, out)["error"]
    assert error["message"] == 'host not found in upstream "app1:8000"'
    assert (error["file"], error["line"]) == ("/etc/nginx/sites/lb.conf", 7)
    assert format_error(error) == 'host not found in upstream "app1:8000" in /etc/nginx/sites/lb.conf:7'


def test_error_without_location():
    out = 'nginx: [emerg] open() "/etc/nginx/missing.conf" failed (2: No such file or directory)\n'
    error = parse_test_output(1, out)["error"]
    assert error["file"] is None and error["line"] is None
    assert format_error(error) == 'open() "/etc/nginx/missing.conf" failed (2: No such file or directory)'


def test_emerg_wins_over_an_earlier_alert():
    out = (
        'nginx: [alert] could not open error log file: open() "/var/log/nginx/error.log" failed (13: Permission denied)\n'
        '2026/01/01 00:00:00 [emerg] 1#1: invalid number of arguments in "listen" directive in /x/n.conf:4\n'
    )
    error = parse_test_output(1, out)["error"]
    assert error["level"] == "emerg"
    assert error["line"] == 4


def test_warnings_are_collected_on_success():
    out = 'nginx: [warn] conflicting server name "a" on 0.0.0.0:80, ignored\n'
    parsed = parse_test_output(0, out)
    assert parsed["valid"] is True and parsed["error"] is None
    assert [w["message"] for w in parsed["warnings"]] == ['conflicting server name "a" on 0.0.0.0:80, ignored']


def test_unrecognised_failure_output_is_still_reported():
    assert parse_test_output(1, "Segmentation fault\n")["error"]["message"] == "Segmentation fault"
    assert "printed nothing" in parse_test_output(1, "")["error"]["message"]


def test_unrelated_lines_are_not_messages():
    assert parse_messages("nginx: the configuration file /x syntax is ok\nTLS SNI support enabled\n") == []


def test_version_and_configure_arguments():
    out = (
        "nginx version: nginx/1.14.2\n"
        "built by gcc 12.2.0 (Debian 12.2.0-14)\n"
        "configure arguments: --prefix=/usr/local/nginx --with-http_ssl_module "
        "--with-cc-opt='-O2 -Wno-error' --with-ld-opt=-Wl,-z,relro\n"
    )
    assert parse_version_output(out) == {
        "name": "nginx",
        "version": "1.14.2",
        "configure_arguments": [
            "--prefix=/usr/local/nginx",
            "--with-http_ssl_module",
            "--with-cc-opt=-O2 -Wno-error",
            "--with-ld-opt=-Wl,-z,relro",
        ],
    }


def test_version_without_configure_line_and_garbage():
    assert parse_version_output("nginx version: openresty/1.21.4.1\n")["configure_arguments"] == []
    assert parse_version_output("bash: nginx: command not found") is None
