# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rules every user-settable variable of the collection's roles and playbooks must follow.

Types, choices and required options are the roles' ``meta/argument_specs.yml`` (checked by the
``flaskstack.deploy.check_inputs`` action with ansible-core's ArgumentSpecValidator); this file holds what a
spec cannot say: ranges, paths, names nginx / supervisor / Python can use, and checks across variables.

Pure Python: ``check(role, values)`` returns a list of messages, each starting with the variable's name
(``nginx_upstreams[0].servers[1].port: 70000 is not a port (1-65535)``), saying what is wrong and what to
set. Secret values (``flask_app_secret_key``, ``flask_app_env``, ``supervisor_inet_http_server_password``)
are never printed. A variable missing from ``values`` is not checked.
"""

from __future__ import annotations

import ast
import os
import re

from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import DIGITS as _DIGITS
from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import UNSAFE as _UNSAFE
from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import address_message
from ansible_collections.flaskstack.deploy.plugins.module_utils import app_servers

ROLES = ("nginx", "supervisor", "flask_app", "gunicorn", "uwsgi", "stack")

# Values never shown in a message (the variable is named, its value is not).
SECRETS = frozenset(("flask_app_secret_key", "flask_app_env", "supervisor_inet_http_server_password"))
SECRET_KEY_MIN = 16

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # file / program / pool / site names
_ACCOUNT = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\$?")  # user and group names
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE = re.compile(r"%s(?:\.%s)*" % (_IDENT, _IDENT))
_BLANK = re.compile(r"\s")
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")
_NGINX_TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
_NGINX_SIZE = re.compile(r"[0-9]+[kKmMgG]?")
_SUPERVISOR_SIZE = re.compile(r"[0-9]+(?:KB|MB|GB)?", re.IGNORECASE)
_OCTAL_MODE = re.compile(r"0?[0-7]{3}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_RELEASE_ID = re.compile(r"[A-Za-z0-9._-]*")
_MIME = re.compile(r"[A-Za-z0-9.+*-]+/[A-Za-z0-9.+*-]+")
_SERIAL_PERCENT = re.compile(r"([0-9]+)%")
MIN_NGINX = (1, 14, 0)


def show(value):
    """A value as the user wrote it, short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def as_int(value):
    """An int from an int or a decimal string (with a sign), else None. Booleans are not numbers."""
    if _is_int(value):
        return value
    if isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+", value.strip()):
        return int(value.strip())
    return None


class Errors(list):
    """Messages, each 'variable: what is wrong; what to set'."""

    def add(self, var, message):
        self.append("%s: %s" % (var, message))


# --- Single values -------------------------------------------------------------------------------------

def port(errors, var, value):
    number = as_int(value)
    if number is None or not 1 <= number <= 65535:
        errors.add(var, "%s is not a port (1-65535); set a TCP port such as 8000" % show(value))
        return False
    return True


def at_least(errors, var, value, minimum, what=""):
    number = as_int(value)
    if number is None or number < minimum:
        errors.add(var, "%s must be an integer >= %d%s" % (show(value), minimum, (" (" + what + ")") if what else ""))
        return False
    return True


def between(errors, var, value, low, high):
    number = as_int(value)
    if number is None or not low <= number <= high:
        errors.add(var, "%s must be an integer from %d to %d" % (show(value), low, high))
        return False
    return True


def absolute_path(errors, var, value, allow_empty=False, allow=()):
    if allow_empty and value == "":
        return True
    if value in allow:
        return True
    if not isinstance(value, str) or not value.startswith("/") or _BLANK.search(value):
        extra = " or one of %s" % ", ".join(allow) if allow else ""
        errors.add(
            var,
            "%s is not an absolute path; set a path starting with / (without blanks)%s%s"
            % (show(value), extra, ", or leave it empty" if allow_empty else ""),
        )
        return False
    return True


def relative_path(errors, var, value):
    if (
        not isinstance(value, str)
        or not value.strip()
        or value.startswith("/")
        or _BLANK.search(value)
        or ".." in value.split("/")
    ):
        errors.add(var, "%s must be a relative path inside the app (no leading /, no '..', no blanks), such as "
                        "static or shop/assets" % show(value))
        return False
    return True


def file_name(errors, var, value, what="name"):
    if not isinstance(value, str) or not _NAME.fullmatch(value) or value in (".", ".."):
        errors.add(
            var,
            "%s is not a usable %s (it becomes a file name): use letters, digits, '_', '.' and '-' only "
            "(no '/', no blanks)" % (show(value), what),
        )
        return False
    return True


def account(errors, var, value):
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value) or len(value) > 32:
        errors.add(var, "%s is not a user or group name: use letters, digits, '_', '.' and '-' (at most 32), "
                        "starting with a letter or '_'" % show(value))
        return False
    return True


def token(errors, var, value, what="value"):
    """A word that goes into an nginx or supervisor configuration line unquoted."""
    if not isinstance(value, str) or not value or _UNSAFE.search(value):
        errors.add(
            var,
            "%s is not a usable %s: it must be one word without blanks or any of ; { } # ' \" \\ "
            "(nginx would read the rest as further directives)" % (show(value), what),
        )
        return False
    return True


def line(errors, var, value, what="value"):
    """A value written on one line of a configuration file."""
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        errors.add(var, "%s must be text on one line (%s)" % (show(value), what))
        return False
    return True


def directive(errors, var, value):
    if not isinstance(value, str) or "\n" in value or not value.strip().endswith((";", "}")):
        errors.add(var, "%s is not one nginx directive; write it on one line ending with ';', "
                        "for example 'gzip_comp_level 5;'" % show(value))
        return False
    return True


def quantity(errors, var, value, pattern, what):
    """A whole number >= 0, or text that pattern matches (a number with a unit); what: "is not ..." and the fix."""
    if _is_int(value) and value >= 0:
        return True
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        errors.add(var, "%s is not %s" % (show(value), what))
        return False
    return True


def nginx_time(errors, var, value):
    return quantity(errors, var, value, _NGINX_TIME,
                    "an nginx time; use a number with an optional unit, such as 10s, 1m or 1m30s")


def nginx_size(errors, var, value):
    return quantity(errors, var, value, _NGINX_SIZE,
                    "an nginx size; use a number with an optional k, m or g, such as 16k or 10m")


def supervisor_size(errors, var, value):
    return quantity(errors, var, value, _SUPERVISOR_SIZE,
                    "a supervisor size; use a number with an optional KB, MB or GB, such as 50MB")


def host(errors, var, value):
    """A host name or IP address (IPv6 in brackets, as in HOST:PORT)."""
    if not isinstance(value, str) or not value or _UNSAFE.search(value) or "/" in value:
        errors.add(var, "%s is not a host name or IP address" % show(value))
        return False
    if ":" in value and not (value.startswith("[") and value.endswith("]")):
        errors.add(var, "%s: write an IPv6 address in brackets, such as [::]" % show(value))
        return False
    return True


def host_port(errors, var, value, unix=None, allow_empty=False, port_only=False):
    """HOST:PORT or [IPv6]:PORT; unix: None (no sockets), 'prefix' (unix:/path) or 'path' (/path)."""
    if allow_empty and value == "":
        return True
    examples = "HOST:PORT such as 127.0.0.1:8000"
    if unix == "prefix":
        examples += ", or unix:/absolute/path.sock"
    elif unix == "path":
        examples += ", or an absolute unix socket path such as /srv/app/run/app.sock"
    if port_only:
        examples += ", or a PORT"
    if not isinstance(value, str) or not value.strip():
        errors.add(var, "%s is not an address; set %s" % (show(value), examples))
        return False
    value = value.strip()
    if unix == "prefix" and value.startswith("unix:"):
        path = value[5:]
        if not path.startswith("/") or _UNSAFE.search(path):
            errors.add(var, "%s: the unix socket path must be absolute (unix:/srv/app/run/app.sock)" % show(value))
            return False
        return True
    if unix == "path" and value.startswith("/"):
        if _UNSAFE.search(value):
            errors.add(var, "%s: the unix socket path must hold no blanks or ; { } # quotes" % show(value))
            return False
        return True
    if port_only and _DIGITS.fullmatch(value):
        return port(errors, var, value)
    if value.startswith("["):
        close = value.find("]")
        address, rest = value[:close + 1], value[close + 1:]
        ok = close > 1 and rest.startswith(":")
        number = rest[1:] if ok else ""
    else:
        address, sep, number = value.rpartition(":")
        ok = bool(sep) and ":" not in address
    if not ok or not _DIGITS.fullmatch(number) or (address and _UNSAFE.search(address)) or "/" in address:
        errors.add(var, "%s is not an address; set %s" % (show(value), examples))
        return False
    if not 1 <= int(number) <= 65535:
        errors.add(var, "%s: %s is not a port (1-65535)" % (show(value), number))
        return False
    return True


def boolean(errors, var, value):
    if isinstance(value, bool) or value in ("true", "false", "yes", "no", "True", "False"):
        return True
    errors.add(var, "%s must be true or false" % show(value))
    return False


def secret(errors, var, value, minimum=0, why=""):
    """A secret: only whether it is there (and long enough); its value is never shown."""
    if not isinstance(value, str) or len(value) < max(minimum, 1):
        errors.add(var, "is missing%s%s" % (
            " or shorter than %d characters" % minimum if minimum else " or empty", "; " + why if why else ""))
        return False
    return True


def wsgi_callable(errors, var, value):
    """app, app.wsgi_app, create_app() or create_app('prod'): a name or attribute, maybe a call with literals."""
    what = ("%s is not a WSGI callable: give a Python name or dotted attribute (app, app.wsgi_app), optionally "
            "called with literal arguments (create_app() or create_app('prod')), without blanks" % show(value))
    if not isinstance(value, str) or not value or _BLANK.search(value):
        errors.add(var, what)
        return False
    if "%" in value:  # uwsgi.ini passes it on as env = FLASKSTACK_WSGI_APP=...: %(...) is a placeholder there
        errors.add(var, "%s holds '%%', which uWSGI's ini reads as a placeholder; pass the value another way "
                        "(flask_app_env)" % show(value))
        return False
    try:
        node = ast.parse(value, mode="eval").body
    except (SyntaxError, ValueError):
        errors.add(var, what)
        return False
    if isinstance(node, ast.Call):
        try:
            for arg in list(node.args) + [k.value for k in node.keywords]:
                ast.literal_eval(arg)
        except ValueError:
            errors.add(var, what)
            return False
        if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
            errors.add(var, what)
            return False
        node = node.func
    while isinstance(node, ast.Attribute):
        node = node.value
    if not isinstance(node, ast.Name):
        errors.add(var, what)
        return False
    return True


def nginx_version(errors, var, value):
    match = _VERSION.fullmatch(value) if isinstance(value, str) else None
    if not match:
        errors.add(var, "%s is not an nginx version; give all three parts, such as 1.26.3 or 1.14.2" % show(value))
        return False
    if tuple(int(p) for p in match.groups()) < MIN_NGINX:
        errors.add(var, "%s is older than 1.14.0, the oldest version the role builds" % show(value))
        return False
    return True


def serial(errors, var, value):
    """Ansible's serial: a positive count, a percentage 1%-100%, or a list of those."""
    items = value if isinstance(value, list) else [value]
    if not items:
        errors.add(var, "is an empty list; give a batch size such as 1, 2 or '30%'")
        return False
    for item in items:
        number = as_int(item)
        percent = _SERIAL_PERCENT.fullmatch(item.strip()) if isinstance(item, str) else None
        if (number is not None and number >= 1) or (percent and 1 <= int(percent.group(1)) <= 100):
            continue
        errors.add(var, "%s is not a batch size; give a positive number of hosts (1, 2) or a percentage "
                        "from 1%% to 100%% ('30%%'), or a list of those" % show(item))
        return False
    return True


def _items(errors, var, value, kind=dict):
    """value as a list of (path, item) with items of the given type; a wrong element is reported."""
    if not isinstance(value, list):
        if value is not None:
            errors.add(var, "%s must be a list" % show(value))
        return []
    out = []
    for index, item in enumerate(value):
        path = "%s[%d]" % (var, index)
        if not isinstance(item, kind):
            errors.add(path, "%s must be a %s" % (show(item), "mapping" if kind is dict else kind.__name__))
            continue
        out.append((path, item))
    return out


def _opt(item, key):
    return item.get(key) if isinstance(item, dict) else None


def env_names(errors, var, env, secret_values=False):
    """Environment variables: names usable in a shell, values on one line (values never shown if secret)."""
    if not isinstance(env, dict):
        return
    for key, value in env.items():
        if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
            errors.add(var, "%s is not an environment variable name (letters, digits and '_', not starting "
                            "with a digit)" % show(key))
            continue
        if isinstance(value, (dict, list)) or value is None:
            errors.add("%s.%s" % (var, key), "must be a string or number, not %s" % type(value).__name__)
        elif isinstance(value, str) and ("\n" in value or "\r" in value):
            errors.add("%s.%s" % (var, key), "holds a line break%s; write it on one line"
                       % ("" if secret_values else " (%s)" % show(value)))


HOOKS = ("before_install", "before_switch", "after_switch")


def hooks(errors, var, value, on_controller=False):
    """flask_app_hooks: {moment: [absolute path of a task file, ...]}; on the controller each file must exist."""
    if not isinstance(value, dict):
        errors.add(var, "%s must be a mapping of %s to lists of task files" % (show(value), ", ".join(HOOKS)))
        return
    for moment, files in value.items():
        if moment not in HOOKS:
            errors.add(var, "%s is not a moment of a deploy; use %s" % (show(moment), ", ".join(HOOKS)))
            continue
        if files is None:
            continue
        if not isinstance(files, list):
            errors.add("%s.%s" % (var, moment), "%s must be a list of task files" % show(files))
            continue
        for index, path in enumerate(files):
            where = "%s.%s[%d]" % (var, moment, index)
            if not isinstance(path, str) or not path.strip():
                errors.add(where, "%s must be the path of a task file on the controller" % show(path))
            elif not line(errors, where, path, "a task file's path"):
                continue
            elif not os.path.isabs(path):
                errors.add(where, "%s must be an absolute path on the controller, such as "
                                  "'{{ inventory_dir }}/%s' (next to the inventory) or '{{ playbook_dir }}/%s'"
                           % (show(path), path, path))
            elif on_controller and not os.path.isfile(path):
                errors.add(where, "%s is not a file on the controller" % show(path))


# --- Roles -------------------------------------------------------------------------------------------

def _has(values, name):
    return name in values and values[name] is not None


def check_flask_app(values, on_controller=False):
    e = Errors()
    v = values.get
    for name in ("flask_app_name",):
        if _has(values, name):
            file_name(e, name, v(name), "app name")
    for name in ("flask_app_user", "flask_app_group", "flask_app_socket_group"):
        if _has(values, name):
            account(e, name, v(name))
    if _has(values, "flask_app_base_dir"):
        absolute_path(e, "flask_app_base_dir", v("flask_app_base_dir"))
    git = v("flask_app_git_repo") or ""
    if "flask_app_source_dir" in values and not git:
        if not isinstance(v("flask_app_source_dir"), str) or not v("flask_app_source_dir").strip():
            e.add("flask_app_source_dir", "is empty; set the directory on the controller that holds the app, or "
                                          "set flask_app_git_repo")
    if git:
        line(e, "flask_app_git_repo", git, "a URL")
        version = v("flask_app_git_version")
        if "flask_app_git_version" in values and (not isinstance(version, str) or not version.strip()):
            e.add("flask_app_git_version", "is empty; name the branch, tag or commit of flask_app_git_repo to deploy")
        elif isinstance(version, str) and _BLANK.search(version):
            e.add("flask_app_git_version", "%s holds a blank; name a branch, tag or commit" % show(version))
        if _has(values, "flask_app_git_cache_dir"):
            absolute_path(e, "flask_app_git_cache_dir", v("flask_app_git_cache_dir"))
    if _has(values, "flask_app_release_id"):
        rid = v("flask_app_release_id")
        if not isinstance(rid, str) or not _RELEASE_ID.fullmatch(rid) or rid in (".", ".."):
            e.add("flask_app_release_id", "%s may hold letters, digits, '.', '_' and '-' only (it names a "
                                          "directory); leave it empty to derive it from the code" % show(rid))
    if _has(values, "flask_app_keep_releases"):
        at_least(e, "flask_app_keep_releases", v("flask_app_keep_releases"), 2, "the current and the previous")
    if _has(values, "flask_app_requirements_file"):
        relative_path(e, "flask_app_requirements_file", v("flask_app_requirements_file"))
    if _has(values, "flask_app_module"):
        module = v("flask_app_module")
        if not isinstance(module, str) or not _MODULE.fullmatch(module):
            e.add("flask_app_module", "%s is not a Python module: give dotted Python names such as app or "
                                      "shop.wsgi (no blanks, no '/', no '.py')" % show(module))
    if _has(values, "flask_app_callable"):
        wsgi_callable(e, "flask_app_callable", v("flask_app_callable"))
    if _has(values, "flask_app_static_dir"):
        relative_path(e, "flask_app_static_dir", v("flask_app_static_dir"))
    if "flask_app_secret_key" in values:
        secret(e, "flask_app_secret_key", v("flask_app_secret_key"), SECRET_KEY_MIN,
               "set it (from vault), the same on every host, or sessions break across nodes. There is no default")
    if _has(values, "flask_app_env"):
        env_names(e, "flask_app_env", v("flask_app_env"), secret_values=True)
    if _has(values, "flask_app_bind_address"):
        host(e, "flask_app_bind_address", v("flask_app_bind_address"))
    if _has(values, "flask_app_port"):
        port(e, "flask_app_port", v("flask_app_port"))
    if _has(values, "flask_app_health_path"):
        path = v("flask_app_health_path")
        if not isinstance(path, str) or not path.startswith("/") or _BLANK.search(path):
            e.add("flask_app_health_path", "%s must be a URL path starting with /, such as /healthz" % show(path))
    if _has(values, "flask_app_pip_timeout"):
        at_least(e, "flask_app_pip_timeout", v("flask_app_pip_timeout"), 1)
    if _has(values, "flask_app_health_retries"):
        at_least(e, "flask_app_health_retries", v("flask_app_health_retries"), 1)
    if _has(values, "flask_app_health_delay"):
        at_least(e, "flask_app_health_delay", v("flask_app_health_delay"), 0)
    if _has(values, "flask_app_health_status"):
        status = v("flask_app_health_status")
        if not isinstance(status, list):
            e.add("flask_app_health_status", "%s must be a list of HTTP status codes, such as [200, 204]"
                  % show(status))
        else:
            for index, code in enumerate(status):
                between(e, "flask_app_health_status[%d]" % index, code, 100, 599)
    if _has(values, "flask_app_health_text"):
        line(e, "flask_app_health_text", v("flask_app_health_text"), "the text the health response must contain")
    if _has(values, "flask_app_hooks"):
        hooks(e, "flask_app_hooks", v("flask_app_hooks"), on_controller)
    e.extend(check_app_host(values))
    return e


def listen_address(errors, values, var, unix):
    """Where an app server listens (gunicorn_bind, uwsgi_socket), when given: HOST:PORT, :PORT or a unix socket."""
    if _has(values, var):
        host_port(errors, var, values[var], unix=unix)


def check_gunicorn(values):
    e = Errors()
    v = values.get
    listen_address(e, values, "gunicorn_bind", unix="prefix")
    for name, minimum in (("gunicorn_workers", 0), ("gunicorn_threads", 1), ("gunicorn_timeout", 0),
                          ("gunicorn_graceful_timeout", 0), ("gunicorn_keepalive", 0),
                          ("gunicorn_max_requests", 0), ("gunicorn_max_requests_jitter", 0)):
        if _has(values, name):
            at_least(e, name, v(name), minimum)
    if _has(values, "gunicorn_forwarded_allow_ips"):
        ips = v("gunicorn_forwarded_allow_ips")
        if not isinstance(ips, str) or not ips.strip() or re.search(r"['\"\\\n]", ips):
            e.add("gunicorn_forwarded_allow_ips", "%s must be addresses separated by commas, or *" % show(ips))
    for name in ("gunicorn_access_log", "gunicorn_error_log"):
        if _has(values, name):
            absolute_path(e, name, v(name), allow=("-",))
    if _has(values, "gunicorn_conf_dir"):
        absolute_path(e, "gunicorn_conf_dir", v("gunicorn_conf_dir"))
    return e


def check_uwsgi(values):
    e = Errors()
    v = values.get
    listen_address(e, values, "uwsgi_socket", unix="path")
    if _has(values, "uwsgi_socket_mode"):
        mode = v("uwsgi_socket_mode")
        if not isinstance(mode, str) or not _OCTAL_MODE.fullmatch(mode):
            e.add("uwsgi_socket_mode", "%s is not an octal mode; quote it, such as \"0660\"" % show(mode))
    for name, minimum in (("uwsgi_processes", 0), ("uwsgi_threads", 1), ("uwsgi_harakiri", 0),
                          ("uwsgi_max_requests", 0), ("uwsgi_log_maxsize", 0)):
        if _has(values, name):
            at_least(e, name, v(name), minimum)
    if _has(values, "uwsgi_buffer_size"):
        between(e, "uwsgi_buffer_size", v("uwsgi_buffer_size"), 1, 65535)
    if _has(values, "uwsgi_stats"):
        host_port(e, "uwsgi_stats", v("uwsgi_stats"), unix="path", allow_empty=True)
    if _has(values, "uwsgi_health_socket"):
        host_port(e, "uwsgi_health_socket", v("uwsgi_health_socket"), allow_empty=True)
        protocol = v("uwsgi_protocol", app_servers.DEFAULT_UWSGI_PROTOCOL)
        unix = isinstance(v("uwsgi_socket"), str) and v("uwsgi_socket").startswith("/")
        if v("uwsgi_health_socket") == "" and (protocol == app_servers.UWSGI_PROTOCOL or unix):
            e.add("uwsgi_health_socket", "is empty, but uWSGI %s, so flask_app's health check has no HTTP to "
                  "ask; keep a loopback address such as 127.0.0.1:9000 (or set uwsgi_protocol: http on a TCP "
                  "uwsgi_socket)" % ("listens on a unix socket" if unix else "speaks the uwsgi protocol"))
    if _has(values, "uwsgi_logto"):
        absolute_path(e, "uwsgi_logto", v("uwsgi_logto"), allow_empty=True)
    if _has(values, "uwsgi_extra_options"):
        extra = v("uwsgi_extra_options")
        if isinstance(extra, dict):
            for key, value in extra.items():
                name = "uwsgi_extra_options.%s" % key
                if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
                    e.add("uwsgi_extra_options", "%s is not a uWSGI option name" % show(key))
                    continue
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, (dict, list)) or item is None:
                        e.add(name, "%s must be a string, number or list of those" % show(value))
                    elif isinstance(item, str):
                        line(e, name, item, "an ini value")
    if _has(values, "uwsgi_conf_dir"):
        absolute_path(e, "uwsgi_conf_dir", v("uwsgi_conf_dir"))
    return e


AUTORESTART = ("true", "false", "unexpected")


def supervisor_program(e, path, program):
    name = _opt(program, "name")
    if name is not None:
        file_name(e, path + ".name", name, "program name")
        if isinstance(name, str) and name.endswith(".group"):
            e.add(path + ".name", "%s must not end in '.group' (that is the group files' suffix)" % show(name))
    command = _opt(program, "command")
    if "command" in program and (not isinstance(command, str) or not command.strip()):
        e.add(path + ".command", "is empty; give the command line that runs the program in the foreground")
    elif isinstance(command, str):
        line(e, path + ".command", command, "one command line")
    if _opt(program, "directory") is not None:
        absolute_path(e, path + ".directory", program["directory"])
    if _opt(program, "user") is not None:
        account(e, path + ".user", program["user"])
    env = _opt(program, "environment")
    if isinstance(env, dict):
        env_names(e, path + ".environment", env)
        for key, value in env.items():
            if isinstance(value, str) and '"' in value and "'" in value:
                e.add("%s.environment.%s" % (path, key), "holds both ' and \"; supervisor cannot read such a "
                                                         "value. Put it in the app's own environment file instead")
    restart = _opt(program, "autorestart")
    if restart is not None and str(restart).lower() not in AUTORESTART:
        e.add(path + ".autorestart", "%s is not true, false or unexpected" % show(restart))
    for key in ("startsecs", "startretries", "stopwaitsecs", "priority", "stdout_logfile_backups",
                "stderr_logfile_backups"):
        if _opt(program, key) is not None:
            at_least(e, "%s.%s" % (path, key), program[key], 0)
    for key in ("stdout_logfile", "stderr_logfile"):
        if _opt(program, key) is not None:
            absolute_path(e, "%s.%s" % (path, key), program[key], allow=("AUTO", "NONE"))
    for key in ("stdout_logfile_maxbytes", "stderr_logfile_maxbytes"):
        if _opt(program, key) is not None:
            supervisor_size(e, "%s.%s" % (path, key), program[key])
    group = _opt(program, "group")
    if group is not None and group != "":
        file_name(e, path + ".group", group, "group name")


def check_supervisor(values):
    e = Errors()
    v = values.get
    programs = _items(e, "supervisor_programs", v("supervisor_programs"))
    seen = {}
    for path, program in programs:
        supervisor_program(e, path, program)
        name = program.get("name")
        if isinstance(name, str):
            if name in seen:
                e.add(path + ".name", "%s is also %s.name; program names must be unique" % (show(name), seen[name]))
            seen.setdefault(name, path)
    ungrouped = {p.get("name"): path for path, p in programs if not p.get("group")}
    for path, program in programs:
        group = program.get("group")
        if group and group in ungrouped:
            e.add(path + ".group", "%s is also the name of a program outside that group (%s); supervisor names "
                                   "both process groups, so rename one" % (show(group), ungrouped[group]))
    for name in ("supervisor_conf_file", "supervisor_conf_dir", "supervisor_log_dir", "supervisor_socket_path"):
        if _has(values, name):
            absolute_path(e, name, v(name))
    for name in ("supervisor_logfile_maxbytes", "supervisor_program_logfile_maxbytes"):
        if _has(values, name):
            supervisor_size(e, name, v(name))
    for name in ("supervisor_logfile_backups", "supervisor_program_logfile_backups"):
        if _has(values, name):
            at_least(e, name, v(name), 0)
    if _has(values, "supervisor_socket_group"):
        account(e, "supervisor_socket_group", v("supervisor_socket_group"))
    if _has(values, "supervisor_inet_http_server_port"):
        host_port(e, "supervisor_inet_http_server_port", v("supervisor_inet_http_server_port"), port_only=True)
    if _has(values, "supervisor_inet_http_server_username"):
        token(e, "supervisor_inet_http_server_username", v("supervisor_inet_http_server_username"), "user name")
    if v("supervisor_inet_http_server_enabled") in (True, "true", "yes", "True"):
        secret(e, "supervisor_inet_http_server_password", v("supervisor_inet_http_server_password"), 0,
               "supervisor_inet_http_server_enabled is true, so give it a password (from vault). "
               "There is no default password")
    return e


def nginx_pool(e, path, pool):
    name = _opt(pool, "name")
    if name is not None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            e.add(path + ".name", "%s is not a usable upstream name: use letters, digits, '_', '.' and '-' only "
                                  "(no blanks)" % show(name))
    servers = _opt(pool, "servers")
    if "servers" in pool and isinstance(servers, list) and not servers:
        e.add(path + ".servers", "pool %s has no servers; nginx refuses an empty upstream block" % show(name))
    seen = {}
    for spath, server in _items(e, path + ".servers", servers):
        address = server.get("address")
        unix = isinstance(address, str) and address.startswith("unix:")
        if address is not None:
            if unix:
                if not address[5:].startswith("/") or _UNSAFE.search(address):
                    e.add(spath + ".address", "%s: a unix socket needs an absolute path (unix:/run/app.sock)"
                          % show(address))
            elif not isinstance(address, str) or not address or _UNSAFE.search(address) or "/" in address:
                e.add(spath + ".address", "%s is not a host name, IP address or unix:/path" % show(address))
        if not unix:
            if server.get("port") is None:
                e.add(spath + ".port", "is missing; a TCP server needs a port (1-65535)")
            else:
                port(e, spath + ".port", server["port"])
        if server.get("weight") is not None:
            at_least(e, spath + ".weight", server["weight"], 1, "a relative share of requests")
        if server.get("max_fails") is not None:
            at_least(e, spath + ".max_fails", server["max_fails"], 0)
        if server.get("fail_timeout") is not None:
            nginx_time(e, spath + ".fail_timeout", server["fail_timeout"])
        key = (address, None if unix else server.get("port"))
        if key in seen:
            e.add(spath, "%s is also %s; a pool lists each server once"
                  % (address if unix else "%s:%s" % key, seen[key]))
        seen.setdefault(key, spath)
    if _opt(pool, "keepalive") is not None:
        at_least(e, path + ".keepalive", pool["keepalive"], 0, "0 turns it off")
    for index, item in enumerate(_opt(pool, "extra_directives") or []):
        directive(e, "%s.extra_directives[%d]" % (path, index), item)


def nginx_site(e, path, site, pools, listen_ipv6=False):
    name = _opt(site, "name")
    if name is not None:
        file_name(e, path + ".name", name, "site name")
    names = _opt(site, "server_name")
    if "server_name" in site:
        listed = names if isinstance(names, list) else [names]
        if not listed:
            e.add(path + ".server_name", "is empty; give at least one name, such as www.example.com or _")
        for index, item in enumerate(listed):
            where = path + ".server_name" + ("[%d]" % index if isinstance(names, list) else "")
            token(e, where, item, "server name")
    for key in ("listen",):
        if _opt(site, key) is not None:
            port(e, "%s.%s" % (path, key), site[key])
    upstreams = []
    if _opt(site, "upstream") is not None:
        upstreams.append((path + ".upstream", site["upstream"]))
    for key in ("charset",):
        if _opt(site, key) is not None:
            token(e, "%s.%s" % (path, key), site[key], "charset")
    for key in ("access_log", "error_log"):
        if _opt(site, key) is not None:
            absolute_path(e, "%s.%s" % (path, key), site[key], allow=("off",) if key == "access_log" else ())
    if _opt(site, "client_max_body_size") is not None:
        nginx_size(e, path + ".client_max_body_size", site["client_max_body_size"])
    for spath, static in _items(e, path + ".static", _opt(site, "static")):
        location = static.get("location")
        if location is not None and (not isinstance(location, str) or not location.startswith("/")
                                     or _UNSAFE.search(location)):
            e.add(spath + ".location", "%s must be a URL prefix starting with / without blanks, such as /static/"
                  % show(location))
        alias = static.get("alias")
        if alias is not None and absolute_path(e, spath + ".alias", alias):
            if _UNSAFE.search(alias):
                token(e, spath + ".alias", alias, "directory")
            elif isinstance(location, str) and location.endswith("/") and not alias.endswith("/"):
                e.add(spath + ".alias", "%s must end with / like location %s" % (show(alias), show(location)))
        for key in ("expires", "open_file_cache"):
            value = static.get(key)
            if value not in (None, "") and (not isinstance(value, str) or re.search(r"[;{}#'\"\\\n]", value)):
                e.add("%s.%s" % (spath, key), "%s must hold no ; { } # quotes or line breaks" % show(value))
    for lpath, loc in _items(e, path + ".locations", _opt(site, "locations")):
        where = loc.get("path")
        if where is not None and (not isinstance(where, str) or not where or re.search(r"[\s;{}#'\"]", where)):
            e.add(lpath + ".path", "%s is not a usable location: no blanks or ; { } # quotes (set match for a "
                                   "regular expression, such as match: '~' and path: \\.php$)" % show(where))
        elif isinstance(where, str) and loc.get("match") not in ("~", "~*") and not where.startswith("/"):
            e.add(lpath + ".path", "%s must start with / (or set match: '~' for a regular expression)" % show(where))
        if loc.get("upstream") is not None:
            upstreams.append((lpath + ".upstream", loc["upstream"]))
        for index, item in enumerate(loc.get("extra_directives") or []):
            directive(e, "%s.extra_directives[%d]" % (lpath, index), item)
    tls = _opt(site, "tls")
    if isinstance(tls, dict):
        for key in ("certificate", "certificate_key"):
            if tls.get(key) is not None:
                absolute_path(e, "%s.tls.%s" % (path, key), tls[key])
        if tls.get("listen") is not None:
            port(e, path + ".tls.listen", tls["listen"])
        if tls.get("protocols") is not None:
            protocols = tls["protocols"]
            if not isinstance(protocols, str) or not re.fullmatch(r"(?:TLSv1(?:\.[0-3])?|SSLv[23])(?: +\S+)*",
                                                                  protocols.strip()) \
                    or _UNSAFE.sub(" ", protocols).split() != protocols.split():
                e.add(path + ".tls.protocols", "%s is not a list of protocols such as 'TLSv1.2 TLSv1.3'"
                      % show(protocols))
        if tls.get("ciphers") is not None:
            token(e, path + ".tls.ciphers", tls["ciphers"], "cipher list")
        if tls.get("hsts_max_age") is not None:
            at_least(e, path + ".tls.hsts_max_age", tls["hsts_max_age"], 0)
    for index, item in enumerate(_opt(site, "extra_directives") or []):
        directive(e, "%s.extra_directives[%d]" % (path, index), item)
    if pools is not None:
        for upath, pool in upstreams:
            if pool not in pools:
                e.add(upath, "%s is not a declared upstream pool (declared: %s); add it or fix the name"
                      % (show(pool), ", ".join(sorted(str(p) for p in pools)) or "none"))


def nginx_pools_and_sites(e, pools_var, pools, sites_var, sites, known_pools=()):
    """Pools and sites with the checks across them (unique names, sites' pools declared)."""
    names = {}
    for path, pool in _items(e, pools_var, pools):
        nginx_pool(e, path, pool)
        name = pool.get("name")
        if isinstance(name, str):
            if name in names or name in known_pools:
                e.add(path + ".name", "%s is declared twice%s; upstream names must be unique"
                      % (show(name), " (also %s)" % names[name] if name in names else " (it is the app pool's name)"))
            names.setdefault(name, path)
    declared = set(names) | set(known_pools)
    site_names = {}
    for path, site in _items(e, sites_var, sites):
        nginx_site(e, path, site, declared if pools is not None or known_pools else None)
        name = site.get("name")
        if isinstance(name, str):
            if name in site_names:
                e.add(path + ".name", "%s is also %s.name; site names must be unique (each is a file)"
                      % (show(name), site_names[name]))
            site_names.setdefault(name, path)


def check_nginx(values, known_checksums=None):
    e = Errors()
    v = values.get
    if _has(values, "nginx_apt_package"):
        token(e, "nginx_apt_package", v("nginx_apt_package"), "package name")
    if v("nginx_apt_version"):
        token(e, "nginx_apt_version", v("nginx_apt_version"), "package version")
    source = v("nginx_install_method") == "source"
    if _has(values, "nginx_version") and nginx_version(e, "nginx_version", v("nginx_version")) and source:
        if known_checksums is not None and v("nginx_version") not in known_checksums \
                and not v("nginx_source_checksum"):
            e.add("nginx_version", "%s is not in the role's table of known tarball checksums (%s); set "
                                   "nginx_source_checksum to the sha256 of nginx-%s.tar.gz to build it"
                  % (v("nginx_version"), ", ".join(sorted(known_checksums)), v("nginx_version")))
    if v("nginx_source_checksum") and not _SHA256.fullmatch(str(v("nginx_source_checksum"))):
        e.add("nginx_source_checksum", "is not a sha256 (64 hex digits)")
    if source and "nginx_source_url" in values and not v("nginx_source_tarball") and not v("nginx_source_url"):
        e.add("nginx_source_url", "is empty; set it or nginx_source_tarball")
    for name in ("nginx_source_prefix", "nginx_source_build_dir", "nginx_pid_file", "nginx_error_page_root"):
        if _has(values, name):
            absolute_path(e, name, v(name))
    if _has(values, "nginx_source_artifact_dir"):
        directory = v("nginx_source_artifact_dir")
        if not (isinstance(directory, str) and directory.startswith("~/")):
            absolute_path(e, "nginx_source_artifact_dir", directory)
    for index, module in enumerate(v("nginx_source_modules") or []):
        if not isinstance(module, str) or not re.fullmatch(r"[a-z0-9_]+", module):
            e.add("nginx_source_modules[%d]" % index, "%s is not a module name such as http_ssl_module (without "
                                                      "--with-)" % show(module))
    for index, arg in enumerate(v("nginx_source_configure_args") or []):
        line(e, "nginx_source_configure_args[%d]" % index, arg, "one ./configure argument")
    for name in ("nginx_user",):
        if _has(values, name):
            account(e, name, v(name))
    if _has(values, "nginx_worker_processes"):
        workers = v("nginx_worker_processes")
        if str(workers) != "auto":
            at_least(e, "nginx_worker_processes", workers, 1, "or auto")
    for name, minimum in (("nginx_worker_rlimit_nofile", 1), ("nginx_worker_connections", 1),
                          ("nginx_keepalive_timeout", 0), ("nginx_keepalive_requests", 0),
                          ("nginx_open_file_cache_min_uses", 1), ("nginx_next_upstream_tries", 0),
                          ("nginx_drain_timeout", 0), ("nginx_source_build_timeout", 1)):
        if _has(values, name):
            at_least(e, name, v(name), minimum)
    if _has(values, "nginx_error_log"):
        log = v("nginx_error_log")
        if not (isinstance(log, str) and (log == "stderr" or log.startswith("syslog:"))):
            absolute_path(e, "nginx_error_log", log, allow=("stderr",))
    if _has(values, "nginx_access_log"):
        log = v("nginx_access_log")
        if not (isinstance(log, str) and log.startswith("syslog:")):
            absolute_path(e, "nginx_access_log", log, allow=("off",))
    for name in ("nginx_main_extra_directives", "nginx_events_extra_directives", "nginx_http_extra_directives"):
        for index, item in enumerate(v(name) or []):
            directive(e, "%s[%d]" % (name, index), item)
    for name in ("nginx_client_header_buffer_size", "nginx_client_body_buffer_size", "nginx_client_max_body_size"):
        if _has(values, name):
            nginx_size(e, name, v(name))
    if _has(values, "nginx_large_client_header_buffers"):
        buffers = v("nginx_large_client_header_buffers")
        if not isinstance(buffers, str) or not re.fullmatch(r"[0-9]+ +[0-9]+[kKmM]?", buffers.strip()):
            e.add("nginx_large_client_header_buffers", "%s must be a count and a size, such as '4 8k'" % show(buffers))
    if _has(values, "nginx_open_file_cache"):
        cache = v("nginx_open_file_cache")
        if cache not in ("", "off") and (not isinstance(cache, str)
                                         or not re.fullmatch(r"max=[0-9]+(?: +inactive=[0-9]+[a-zA-Z]*)?",
                                                             cache.strip())):
            e.add("nginx_open_file_cache", "%s must be empty, off, or such as 'max=10000 inactive=30s'" % show(cache))
    for name in ("nginx_open_file_cache_valid", "nginx_proxy_connect_timeout", "nginx_proxy_read_timeout"):
        if _has(values, name):
            nginx_time(e, name, v(name))
    for index, item in enumerate(v("nginx_gzip_types") or []):
        if not isinstance(item, str) or not _MIME.fullmatch(item):
            e.add("nginx_gzip_types[%d]" % index, "%s is not a MIME type such as text/css" % show(item))
    for name in ("nginx_next_upstream", "nginx_uwsgi_next_upstream"):
        if _has(values, name):
            value = v(name)
            if not isinstance(value, str) or not value.strip() or _UNSAFE.sub(" ", value).split() != value.split():
                e.add(name, "%s must be words such as 'error timeout http_503' (no ; { } # quotes)" % show(value))
    if "nginx_upstreams" in values or "nginx_sites" in values:
        nginx_pools_and_sites(e, "nginx_upstreams", v("nginx_upstreams") or [], "nginx_sites",
                              v("nginx_sites") or [])
    return e


# --- The playbooks' settings (playbooks/vars/stack.yml) ------------------------------------------------

POOL_PROTOCOLS = ("auto", "uwsgi", "http")
BALANCES = ("round_robin", "least_conn", "ip_hash")


def drained_batch(serial_value, total):
    """The most app hosts one batch of Ansible's serial takes out of the pool of total (0: none).

    A batch that is the whole pool is not drained (playbooks/vars/stack.yml, flaskstack_stack_batch_drain).
    """
    largest = 0
    for step in serial_value if isinstance(serial_value, list) else [serial_value]:
        step = str(step).strip()
        size = max(int(float(step[:-1]) * total / 100), 1) if step.endswith("%") else int(step)
        if size < total:
            largest = max(largest, size)
    return largest


def check_stack(values, app_hosts=None, next_upstream_tries=None):
    """flaskstack_* settings; app_hosts: the app group's host names, when known (for flaskstack_drained);
    next_upstream_tries: a load balancer's nginx_next_upstream_tries (how many app hosts nginx tries for one
    request), checked against the batch a rolling update drains."""
    e = Errors()
    v = values.get
    for name in ("flaskstack_app_group", "flaskstack_lb_group"):
        if _has(values, name):
            group = v(name)
            if not isinstance(group, str) or not group.strip() or _BLANK.search(group):
                e.add(name, "%s must be a group name or host pattern without blanks" % show(group))
    serial_ok = serial(e, "flaskstack_serial", v("flaskstack_serial")) if _has(values, "flaskstack_serial") else True
    tries = as_int(next_upstream_tries)
    if serial_ok and tries and app_hosts is not None:
        # A drained host answers 503 to what nginx may resend: nginx must be able to try one host more.
        batch = drained_batch(v("flaskstack_serial") if _has(values, "flaskstack_serial") else 1, len(app_hosts))
        if tries <= batch:
            e.add("nginx_next_upstream_tries",
                  "%d lets nginx try %d app host%s for a request, but a rolling update drains up to %d at a time "
                  "(flaskstack_serial %s): set it to at least %d, or 0 (no limit), or lower flaskstack_serial"
                  % (tries, tries, "" if tries == 1 else "s", batch,
                     show(v("flaskstack_serial")) if _has(values, "flaskstack_serial") else "1, the default",
                     batch + 1))
    pool_name = v("flaskstack_pool_name") if _has(values, "flaskstack_pool_name") else "app"
    if _has(values, "flaskstack_pool_name"):
        if not isinstance(pool_name, str) or not _NAME.fullmatch(pool_name):
            e.add("flaskstack_pool_name", "%s is not a usable upstream name: use letters, digits, '_', '.' and '-' "
                                          "only (no blanks)" % show(pool_name))
    if _has(values, "flaskstack_pool_protocol") and v("flaskstack_pool_protocol") not in POOL_PROTOCOLS:
        e.add("flaskstack_pool_protocol",
              "%s is unknown; set auto, uwsgi or http" % show(v("flaskstack_pool_protocol")))
    if _has(values, "flaskstack_pool_balance") and v("flaskstack_pool_balance") not in BALANCES:
        e.add("flaskstack_pool_balance", "%s is unknown; set one of %s" % (show(v("flaskstack_pool_balance")),
                                                                           ", ".join(BALANCES)))
    if _has(values, "flaskstack_pool_max_fails"):
        at_least(e, "flaskstack_pool_max_fails", v("flaskstack_pool_max_fails"), 0)
    if _has(values, "flaskstack_pool_fail_timeout"):
        nginx_time(e, "flaskstack_pool_fail_timeout", v("flaskstack_pool_fail_timeout"))
    if _has(values, "flaskstack_arch_weights"):
        weights = v("flaskstack_arch_weights")
        if not isinstance(weights, dict):
            e.add("flaskstack_arch_weights", "%s must be a mapping of CPU architecture to a factor, such as "
                                             "{x86_64: 2, aarch64: 1}" % show(weights))
        else:
            for arch, factor in weights.items():
                at_least(e, "flaskstack_arch_weights.%s" % arch, factor, 1)
    if _has(values, "flaskstack_server_names"):
        names = v("flaskstack_server_names")
        listed = names if isinstance(names, list) else [names]
        if not listed:
            e.add("flaskstack_server_names", "is empty; give at least one name, such as www.example.com")
        for index, item in enumerate(listed):
            token(e, "flaskstack_server_names" + ("[%d]" % index if isinstance(names, list) else ""), item,
                  "server name")
    if _has(values, "flaskstack_drained"):
        drained = v("flaskstack_drained")
        if not isinstance(drained, list) or not all(isinstance(h, str) for h in drained):
            e.add("flaskstack_drained", "%s must be a list of app host names" % show(drained))
        elif app_hosts is not None:
            strays = [h for h in drained if h not in app_hosts]
            if strays:
                e.add("flaskstack_drained", "%s not in the app group (%s)"
                      % (", ".join(strays), ", ".join(app_hosts) or "empty"))
    known = [pool_name] if isinstance(pool_name, str) else []
    sites = v("flaskstack_sites")
    if sites is not None and not isinstance(sites, list):
        e.add("flaskstack_sites", "%s must be a list of sites (nginx_sites entries)" % show(sites))
        sites = None
    extra = v("flaskstack_extra_upstreams")
    if extra is not None and not isinstance(extra, list):
        e.add("flaskstack_extra_upstreams", "%s must be a list of pools (nginx_upstreams entries)" % show(extra))
        extra = None
    nginx_pools_and_sites(e, "flaskstack_extra_upstreams", extra or [], "flaskstack_sites", sites or [],
                          known_pools=known)
    if isinstance(sites, list) and not sites:
        e.add("flaskstack_sites", "is empty; leave it unset for the default site, or give at least one")
    return e


# Per-host settings of app hosts read by the upstream_servers filter.
def check_app_host(values):
    e = Errors()
    v = values.get
    # The address nginx connects to: flaskstack_upstream_address, else ansible_host (which Ansible never
    # splits into host and port either, so a port there breaks SSH too).
    for name in ("flaskstack_upstream_address", "ansible_host"):
        if _has(values, name):
            message = address_message(name, v(name))
            if message:
                e.append(message)
            break
    if _has(values, "flaskstack_upstream_weight"):
        at_least(e, "flaskstack_upstream_weight", v("flaskstack_upstream_weight"), 1)
    if _has(values, "flaskstack_upstream_max_fails"):
        at_least(e, "flaskstack_upstream_max_fails", v("flaskstack_upstream_max_fails"), 0)
    if _has(values, "flaskstack_upstream_fail_timeout"):
        nginx_time(e, "flaskstack_upstream_fail_timeout", v("flaskstack_upstream_fail_timeout"))
    for name in ("flaskstack_upstream_backup", "flaskstack_upstream_down"):
        if _has(values, name):
            boolean(e, name, v(name))
    return e


def check(role, values, **kwargs):
    """The rules of one role ('stack' for the playbooks' settings) for the values given."""
    checks = {
        "flask_app": check_flask_app,
        "gunicorn": check_gunicorn,
        "uwsgi": check_uwsgi,
        "supervisor": check_supervisor,
        "nginx": check_nginx,
        "stack": check_stack,
    }
    if role not in checks:
        raise ValueError("unknown role %r; use one of %s" % (role, ", ".join(ROLES)))
    return list(checks[role](values, **kwargs))
