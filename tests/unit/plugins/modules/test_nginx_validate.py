"""nginx_validate against the real nginx binary (installed on the controller by `make unit`)."""

import os
import shutil
import textwrap

import pytest

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)), None
)
pytestmark = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="no nginx binary; `make unit` installs one",
)


@pytest.fixture()
def site(tmp_path):
    """A self-contained nginx prefix: main config including conf.d/*.conf, logs and pid under tmp_path."""
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        textwrap.dedent(
            f"""\
            pid {tmp_path}/nginx.pid;
            error_log {tmp_path}/logs/error.log;
            events {{ worker_connections 64; }}
            http {{
                access_log off;
                include {tmp_path}/conf.d/*.conf;
            }}
            """
        )
    )

    def write(name, text):
        path = tmp_path / "conf.d" / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    site.write = write
    site.config = str(tmp_path / "nginx.conf")
    site.prefix = str(tmp_path) + "/"
    return site


def test_binary_is_present_for_the_suite():
    assert NGINX, "the unit suite needs the nginx binary (make unit installs nginx-light)"


def test_valid_config(run_module, site):
    site.write("app.conf", "server { listen 127.0.0.1:18080; location / { return 200; } }\n")
    rc, result = run_module("nginx_validate", config=site.config, prefix=site.prefix, binary=NGINX)
    assert rc == 0, result
    assert result["valid"] is True
    assert result["changed"] is False
    assert result["version"][0].isdigit() and result["version"].count(".") == 2
    assert result["cmd"] == [NGINX, "-t", "-q", "-c", site.config, "-p", site.prefix]
    assert "message" not in result


def test_syntax_error_reports_file_and_line(run_module, site):
    path = site.write(
        "app.conf",
        """\
        server {
            listen 127.0.0.1:18080;
            location / {
                return 200
            }
        }
        """,
    )
    rc, result = run_module("nginx_validate", config=site.config, binary=NGINX)
    assert rc == 1
    assert result["failed"] is True
    assert result["valid"] is False
    assert result["file"] == path
    assert result["line"] == 5
    assert result["level"] == "emerg"
    assert 'unexpected "}"' in result["message"]
    assert result["msg"] == "nginx -t failed: %s in %s:5" % (result["message"], path)


def test_unknown_directive_in_included_file(run_module, site):
    site.write("a.conf", "server { listen 127.0.0.1:18080; }\n")
    path = site.write("b.conf", "\n\nserver {\n    listen 127.0.0.1:18081;\n    frobnicate on;\n}\n")
    rc, result = run_module("nginx_validate", config=site.config, binary=NGINX)
    assert rc == 1
    assert (result["file"], result["line"]) == (path, 5)
    assert result["message"] == 'unknown directive "frobnicate"'


def test_report_only(run_module, site):
    site.write("b.conf", "server { listen 127.0.0.1:18081; frobnicate on; }\n")
    rc, result = run_module("nginx_validate", config=site.config, binary=NGINX, fail_on_invalid=False)
    assert rc == 0
    assert "failed" not in result or result["failed"] is False
    assert result["valid"] is False
    assert result["message"] == 'unknown directive "frobnicate"'


def test_missing_binary(run_module, site, tmp_path):
    rc, result = run_module("nginx_validate", config=site.config, binary=str(tmp_path / "no-nginx"))
    assert rc == 1
    assert "does not exist" in result["msg"] and "binary" in result["msg"]


def test_binary_that_is_not_nginx(run_module, site):
    rc, result = run_module("nginx_validate", config=site.config, binary="/bin/true")
    assert rc == 1
    assert "did not report an nginx version" in result["msg"]


def test_default_binary_lookup(run_module, site):
    site.write("a.conf", "server { listen 127.0.0.1:18080; }\n")
    rc, result = run_module("nginx_validate", config=site.config)
    assert rc == 0, result
    assert result["cmd"][0] == os.path.realpath(NGINX) or result["cmd"][0] == NGINX


def test_missing_config(run_module, tmp_path):
    rc, result = run_module("nginx_validate", config=str(tmp_path / "nope.conf"), binary=NGINX)
    assert rc == 1
    assert "does not exist" in result["msg"] and "config" in result["msg"]


def test_unreadable_config(run_module, site):
    os.chmod(site.config, 0o000)
    try:
        # Without the capabilities that let root read anything, as an unprivileged user would run it.
        unprivileged = os.geteuid() == 0
        if unprivileged and not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to drop root's read-anything capabilities")
        rc, result = run_module("nginx_validate", as_unprivileged=unprivileged, config=site.config, binary=NGINX)
    finally:
        os.chmod(site.config, 0o644)
    assert rc == 1
    assert "not readable" in result["msg"] and site.config in result["msg"]


def test_check_mode_tests_for_real_and_changes_nothing(run_module, site, tmp_path):
    path = site.write("b.conf", "server { listen 127.0.0.1:18081; frobnicate on; }\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.conf")}
    rc, result = run_module("nginx_validate", check_mode=True, config=site.config, binary=NGINX)
    assert rc == 1 and result["file"] == path  # still tested, still fails
    assert result["changed"] is False
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.conf")} == before

    site.write("b.conf", "server { listen 127.0.0.1:18081; }\n")
    rc, result = run_module("nginx_validate", check_mode=True, config=site.config, binary=NGINX)
    assert rc == 0 and result["valid"] is True and result["changed"] is False
    # nginx -t may create the pid file named in the config, but never writes a pid into it: nothing started.
    assert not (tmp_path / "nginx.pid").exists() or (tmp_path / "nginx.pid").read_text() == ""


def test_bad_argument_type(run_module, site):
    rc, result = run_module("nginx_validate", config=site.config, binary=NGINX, fail_on_invalid="sometimes")
    assert rc == 1
    assert "fail_on_invalid" in result["msg"]
