# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The WSGI entry point uWSGI and gunicorn load for a flaskstack.deploy.flask_app app.

Installed by flaskstack.deploy.flask_app as <base>/wsgi/flaskstack_wsgi.py; the app server loads
``flaskstack_wsgi:application``. It asks nothing of the app beyond a WSGI callable:

* FLASKSTACK_WSGI_APP names it as ``module:expression``: ``app:app``, ``shop.wsgi:application``,
  ``shop:create_app()`` or ``shop:create_app('production', debug=False)`` (an app factory called with
  literal arguments, the syntax gunicorn accepts; uWSGI has none, so this module does it for both).
* FLASKSTACK_RELEASES is <base>/releases. The release a worker runs is read from where its code was
  imported from (the resolved path of the app's module), once, when the worker loads the app.
* A request from loopback carrying ``X-Flaskstack-Probe`` gets an ``X-Flaskstack-Release`` header on
  the app's own answer: the role's health check asks that way, so it knows the answer came from the
  new release without the app reporting anything.
* FLASKSTACK_DRAIN_FILE names a file that exists only while the host is being updated (the rolling
  update writes it, tasks_from: traffic). While it says ``drain``, requests nginx may send to another
  server (every method but POST, PATCH and LOCK) are answered 503 without reaching the app, so nginx's
  ``*_next_upstream http_503`` sends them to another host at once and its passive check keeps the host
  out of the turn; POST, PATCH and LOCK, which nginx never resends, are still served. While it says
  ``hold`` (the release was switched and is not checked yet), every request is answered 503. The role's
  probe is always let through. Without the file, every request passes through untouched: the cost is
  one failed stat() per request.
"""

import ast
import importlib
import os

PROBE_HEADER = "HTTP_X_FLASKSTACK_PROBE"
RELEASE_HEADER = "X-Flaskstack-Release"
LOOPBACK = frozenset(("127.0.0.1", "::1", "::ffff:127.0.0.1"))
# The methods nginx does not pass to the next server once the request was sent (proxy_next_upstream).
NOT_RESENT = frozenset(("POST", "PATCH", "LOCK"))
REFUSED = [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "1"), ("X-Flaskstack-Drain", "1")]
REFUSED_BODY = b"This server is being updated; another one answers.\n"


def parse_target(target):
    """'module:expression' -> (module name, [attribute names], call arguments or None)."""
    module_name, dummy, expression = target.strip().partition(":")
    expression = expression or "application"
    if not module_name or not all(part.isidentifier() for part in module_name.split(".")):
        raise ValueError("%r: the module must be a dotted Python name such as shop.wsgi" % target)
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError as error:
        raise ValueError("%r: %r is not a name or a call such as create_app()" % (target, expression)) from error
    call = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(arg) for arg in node.args]
            kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
        except ValueError as error:
            raise ValueError("%r: a factory's arguments must be literals such as 'production' or 3" % target) from error
        if None in kwargs:
            raise ValueError("%r: **arguments are not supported" % target)
        call = (args, kwargs)
        node = node.func
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise ValueError("%r: %r is not a name or a call such as create_app()" % (target, expression))
    names.append(node.id)
    return module_name, names[::-1], call


def load(target):
    """Import the app named by target; return (its module, the WSGI callable)."""
    module_name, names, call = parse_target(target)
    module = importlib.import_module(module_name)
    found = module
    for index, name in enumerate(names):
        try:
            found = getattr(found, name)
        except AttributeError as error:
            raise LookupError(
                "%s has no %s (FLASKSTACK_WSGI_APP=%s)" % (module_name, ".".join(names[: index + 1]), target)
            ) from error
    if call is not None:
        found = found(*call[0], **call[1])
    if not callable(found):
        raise TypeError("%s is %s, not a WSGI callable (FLASKSTACK_WSGI_APP=%s)" % (target, type(found).__name__, target))
    return module, found


def release_of(module, releases):
    """The release directory name the module was imported from, or 'unknown'."""
    path = os.path.realpath(getattr(module, "__file__", None) or "")
    releases = os.path.realpath(releases) + os.sep
    if releases != os.sep and path.startswith(releases):
        return path[len(releases):].split(os.sep, 1)[0]
    return "unknown"


def drain_state(path):
    """'drain', 'hold' or None (no file: serve). An unreadable or unknown word counts as 'hold'."""
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as marker:
            word = marker.read().strip()
    except OSError:
        return "hold"
    return word if word in ("drain", "hold") else "hold"


def wrap(app, release, drain_file=None):
    """The app, answering a loopback probe with the release in a header, and refusing work while drained."""
    extra = [(RELEASE_HEADER, release)]

    def application(environ, start_response):
        if PROBE_HEADER in environ and environ.get("REMOTE_ADDR") in LOOPBACK:
            def start_with_release(status, headers, exc_info=None):
                return start_response(status, list(headers) + extra, exc_info)

            return app(environ, start_with_release)
        if drain_file is not None:
            state = drain_state(drain_file)
            if state == "hold" or (state == "drain" and environ.get("REQUEST_METHOD") not in NOT_RESENT):
                start_response("503 Service Unavailable", REFUSED + [("Content-Length", str(len(REFUSED_BODY)))])
                return [REFUSED_BODY]
        return app(environ, start_response)

    return application


def _from_environment():
    target = os.environ.get("FLASKSTACK_WSGI_APP")
    if not target:
        raise RuntimeError("FLASKSTACK_WSGI_APP is not set: the app server's configuration names the app")
    module, app = load(target)
    releases = os.environ.get("FLASKSTACK_RELEASES", "")
    return wrap(app, release_of(module, releases), os.environ.get("FLASKSTACK_DRAIN_FILE") or None)


application = _from_environment()
