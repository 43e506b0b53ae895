# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The single-value rules of the input checks (module_utils/inputs.py): each takes an Errors list, the
variable's name and its value, adds 'variable: what is wrong; what to set' and returns whether it passed."""

from __future__ import annotations

import ast
import os
import posixpath
import re

from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import DIGITS as _DIGITS
from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import UNSAFE as _UNSAFE
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values as _values
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import writers as _writers


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
_NGINX_SIZE = re.compile(r"[0-9]+[kKmMgG]?")
_SUPERVISOR_SIZE = re.compile(r"[0-9]+(?:KB|MB|GB)?", re.IGNORECASE)
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
    if ".." in value.split("/"):
        errors.add(var, "%s holds '..'; write the path it means without it (%s), so that it cannot leave the "
                        "directory it names" % (show(value), posixpath.normpath(value)))
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


def nginx_time(errors, var, value, seconds=False):
    """An nginx time as nginx's own parser reads it (_inputs.values), in one word; seconds: the directive takes
    whole seconds (fail_timeout, open_file_cache_valid), so no ms."""
    try:
        _values.nginx_time_word(var, value, seconds)
    except _values.InputError as error:
        errors.append(str(error))
        return False
    return True


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
        else:
            env_file_value(errors, "%s.%s" % (var, key), value, secret_values)


def env_file_value(errors, var, value, secret_value=False):
    """A value the app's environment file can hold (_inputs.writers.env_file_value); a secret is not shown."""
    try:
        _writers.env_file_value(var, value)
    except _values.InputError as error:
        errors.add(var, "%s%s" % (error.why, " (the value is not shown)" if secret_value else " (%s)" % show(value)))
        return False
    return True


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


def _has(values, name):
    return name in values and values[name] is not None
