"""flask_app's WSGI entry point (roles/flask_app/files/flaskstack_wsgi.py), loaded as the app servers do."""

import importlib.util
import pathlib
import sys

import pytest

ENTRY = pathlib.Path(__file__).resolve().parents[3] / "roles" / "flask_app" / "files" / "flaskstack_wsgi.py"

SHOP = '''
def create_app(config="default", greeting="pong"):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s %s" % (greeting, config)).encode()]
    return app
'''
WSGI = "from shop import create_app\napplication = create_app('wsgi')\n"


@pytest.fixture()
def base(tmp_path, monkeypatch):
    """<base>/releases/<id>/shop (a package with a factory and a wsgi module), `current` -> the release."""

    def release(name):
        package = tmp_path / "releases" / name / "shop"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(SHOP)
        (package / "wsgi.py").write_text(WSGI)
        current = tmp_path / "current"
        if current.is_symlink():
            current.unlink()
        current.symlink_to(tmp_path / "releases" / name)

    release("r1")
    monkeypatch.syspath_prepend(str(tmp_path / "current"))
    monkeypatch.setenv("FLASKSTACK_RELEASES", str(tmp_path / "releases"))
    yield release
    for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[name]


def load_entry(monkeypatch, target):
    """Import flaskstack_wsgi afresh with FLASKSTACK_WSGI_APP=target, as a new worker does."""
    monkeypatch.setenv("FLASKSTACK_WSGI_APP", target)
    for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location("flaskstack_wsgi_under_test", ENTRY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(app, remote="10.0.0.5", probe=False, method="GET"):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {"REMOTE_ADDR": remote, "REQUEST_METHOD": method, "PATH_INFO": "/ping"}
    if probe:
        environ["HTTP_X_FLASKSTACK_PROBE"] = "1"
    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body.decode()


@pytest.mark.parametrize(
    "target, body",
    [
        ("shop.wsgi:application", "pong wsgi"),
        ("shop:create_app()", "pong default"),
        ("shop:create_app('production')", "pong production"),
        ("shop:create_app('staging', greeting='hi')", "hi staging"),
        ("shop.wsgi", "pong wsgi"),  # uWSGI's default callable name, application
    ],
)
def test_loads_modules_and_factories(base, monkeypatch, target, body):
    entry = load_entry(monkeypatch, target)
    assert call(entry.application)[2] == body


def test_only_a_loopback_probe_learns_the_release(base, monkeypatch):
    entry = load_entry(monkeypatch, "shop:create_app()")
    assert "X-Flaskstack-Release" not in call(entry.application)[1]
    assert "X-Flaskstack-Release" not in call(entry.application, remote="127.0.0.1")[1]
    assert "X-Flaskstack-Release" not in call(entry.application, remote="10.0.0.5", probe=True)[1]
    status, headers, body = call(entry.application, remote="127.0.0.1", probe=True)
    assert (status, headers["X-Flaskstack-Release"], body) == ("200 OK", "r1", "pong default")
    assert call(entry.application, remote="::1", probe=True)[1]["X-Flaskstack-Release"] == "r1"


def test_a_worker_started_after_the_switch_reports_the_new_release(base, monkeypatch):
    assert call(load_entry(monkeypatch, "shop.wsgi:application").application, "127.0.0.1", True)[1][
        "X-Flaskstack-Release"
    ] == "r1"
    base("r2")
    assert call(load_entry(monkeypatch, "shop.wsgi:application").application, "127.0.0.1", True)[1][
        "X-Flaskstack-Release"
    ] == "r2"


@pytest.mark.parametrize(
    "target, message",
    [
        ("shop:make_app()", "shop has no make_app"),
        ("shop.wsgi:app", "shop.wsgi has no app"),
        ("shop:create_app(os.environ)", "arguments must be literals"),
        ("shop:create_app() + 1", "is not a name or a call"),
        ("shop:create_app(", "is not a name or a call"),
        ("shop wsgi:application", "dotted Python name"),
    ],
)
def test_bad_targets_say_what_is_wrong(base, monkeypatch, target, message):
    with pytest.raises((ValueError, LookupError, TypeError), match=message):
        load_entry(monkeypatch, target)


def test_a_value_that_is_not_callable_is_refused(base, monkeypatch, tmp_path):
    (tmp_path / "releases" / "r1" / "shop" / "settings.py").write_text("NAME = 'shop'\n")
    with pytest.raises(TypeError, match="str, not a WSGI callable"):
        load_entry(monkeypatch, "shop.settings:NAME")


def test_a_missing_target_is_named(monkeypatch):
    monkeypatch.delenv("FLASKSTACK_WSGI_APP", raising=False)
    spec = importlib.util.spec_from_file_location("flaskstack_wsgi_unset", ENTRY)
    with pytest.raises(RuntimeError, match="FLASKSTACK_WSGI_APP is not set"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


@pytest.mark.parametrize(
    "word, method, served",
    [
        (None, "GET", True),  # no drain file: everything passes
        ("drain", "GET", False),  # nginx resends it to another server on 503
        ("drain", "HEAD", False),
        ("drain", "PUT", False),
        ("drain", "POST", True),  # nginx never resends it: the old release still serves it
        ("drain", "PATCH", True),
        ("hold", "GET", False),  # switched, not checked yet: nothing reaches the new release
        ("hold", "POST", False),
        ("garbage", "POST", False),  # a word it does not know counts as hold
    ],
)
def test_a_drained_host_refuses_what_nginx_can_resend(base, monkeypatch, tmp_path, word, method, served):
    drain_file = tmp_path / "drain"
    monkeypatch.setenv("FLASKSTACK_DRAIN_FILE", str(drain_file))
    app = load_entry(monkeypatch, "shop:create_app()").application
    if word is not None:
        drain_file.write_text(word + "\n")
    status, headers, body = call(app, method=method)
    if served:
        assert (status, body) == ("200 OK", "pong default")
    else:
        assert status == "503 Service Unavailable"
        assert headers["X-Flaskstack-Drain"] == "1" and headers["Content-Length"] == str(len(body))
    # The role's own probe always reaches the app, drained or not.
    status, headers, body = call(app, remote="127.0.0.1", probe=True, method=method)
    assert status == "200 OK" and headers["X-Flaskstack-Release"] == "r1"
    # Removing the file puts the host back at once, without a reload.
    if drain_file.exists():
        drain_file.unlink()
    assert call(app, method=method)[0] == "200 OK"
