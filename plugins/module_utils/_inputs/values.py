# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Typed rules: each takes the user's variable name and value and returns the normalised value, or raises
InputError naming the variable. What a rule returns is what the templates render: a quoted "no" is False,
an unquoted 0660 (YAML reads 432) is the mode "0660", "1m30s" is 90 seconds."""

from __future__ import annotations

import math
import posixpath
import re

TRUE = frozenset(("true", "yes", "on", "1"))
FALSE = frozenset(("false", "no", "off", "0"))
_NGINX_SIZE = re.compile(r"([0-9]+)([kKmMgG]?)")
_OCTAL = re.compile(r"0?[0-7]{3}")


class InputError(ValueError):
    """A value a rule refuses; str() is '<variable>: <why>', the message the user reads."""

    def __init__(self, var, why):
        super().__init__("%s: %s" % (var, why))
        self.var = var
        self.why = why


class Normalised(object):
    """One role's normalised inputs (.out, keyed without the role's prefix) and the messages of the values its
    rules refused (.errors), collected one rule at a time."""

    def __init__(self, values, prefix):
        self.values = values
        self.prefix = prefix
        self.out = {}
        self.errors = []

    def rule(self, name, check, *args):
        """out[name without prefix] = check(name, value, *args) when the variable is given; a refusal is kept."""
        if name in self.values:
            self.keep(name[len(self.prefix):], check, name, self.values[name], *args)

    def keep(self, key, check, *args):
        """out[key] = check(*args), or the refusal's message in errors."""
        try:
            self.out[key] = check(*args)
        except InputError as error:
            self.errors.append(str(error))

    def result(self):
        return self.out, self.errors


def show(value):
    """A value as a message quotes it: its YAML-like type visible (a quoted "8" is not 8)."""
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def boolean(var, value):
    """true/false, and the strings YAML 1.1 and Ansible read as booleans ("yes", "no", "on", "1" ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise InputError(var, "%s is not true or false" % show(value))


def integer(var, value, minimum=None, maximum=None):
    """An integer (a string of digits too, as Ansible's argument specs accept), within the bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(var, "%s is not an integer" % show(value))
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]+", value.strip()):
            raise InputError(var, "%s is not an integer" % show(value))
        value = int(value.strip())
    if minimum is not None and value < minimum:
        raise InputError(var, "%s is less than %s" % (value, minimum))
    if maximum is not None and value > maximum:
        raise InputError(var, "%s is more than %s" % (value, maximum))
    return value


def port(var, value):
    """A TCP port, 1 to 65535."""
    return integer(var, value, 1, 65535)


def octal_mode(var, value):
    """A permission mode as the 4-digit octal string every file we write takes ("0660"). A string of 3 or
    4 octal digits, or an integer: YAML reads an unquoted 0660 as 432, which is that same mode."""
    if isinstance(value, bool):
        raise InputError(var, "%s is not a mode such as \"0660\"" % show(value))
    if isinstance(value, int):
        if not 0 <= value <= 0o777:
            raise InputError(var, "%s is not a mode such as \"0660\" (quote it)" % show(value))
        return "%04o" % value
    if isinstance(value, str) and _OCTAL.fullmatch(value.strip()):
        return "%04o" % int(value.strip(), 8)
    raise InputError(var, "%s is not a mode such as \"0660\"" % show(value))


class NginxTime(str):
    """An nginx time as nginx reads it ("1m30s"), with its length in seconds (.seconds, a float)."""

    seconds = 0.0

    def __new__(cls, text, seconds):
        self = super().__new__(cls, text)
        self.seconds = seconds
        return self

    @property
    def whole_seconds(self):
        """The seconds rounded up: a wait of at least this time."""
        return int(math.ceil(self.seconds))


_STEPS = {"y": 1, "M": 2, "w": 3, "d": 4, "h": 5, "m": 6, "s": 7, "ms": 8}
_SCALE = {"y": 365 * 86400, "M": 30 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def _parse_nginx_time(text, is_sec):
    """Seconds, as nginx's ngx_parse_time() reads `text` (None where nginx refuses it). is_sec: the
    directive takes whole seconds (fail_timeout, expires: y and M allowed, ms not); otherwise it takes
    milliseconds (keepalive_timeout, proxy_read_timeout: ms allowed, y and M not)."""
    step, total, value, valid, at = (0 if is_sec else 2), 0.0, 0, False, 0
    while at < len(text):
        char = text[at]
        at += 1
        if char.isdigit() and char.isascii():
            value, valid = value * 10 + int(char), True
            continue
        if char == "m" and text[at:at + 1] == "s":
            unit, at = "ms", at + 1
            if is_sec:
                return None
        elif char == " ":
            unit = " "
        elif char in _STEPS:
            unit = char
        else:
            return None
        if unit == " ":
            if step >= _STEPS["s"]:
                return None
            step, scale = 9, 1
        else:
            if step >= _STEPS[unit]:
                return None
            step, scale = _STEPS[unit], _SCALE[unit]
        total, value = total + value * scale, 0
        while text[at:at + 1] == " ":
            at += 1
    return total + value if valid else None


def nginx_time(var, value, seconds=False):
    """An nginx time as nginx reads it: a number of seconds, or numbers with units, largest first
    ("10s", "1m30s", "1h", "1d"). seconds=True for the directives that take whole seconds (fail_timeout):
    no ms there; otherwise (timeouts in milliseconds) "500ms" too, but no M (month) or y (year)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(var, "%s is not an nginx time such as 10s or 1m30s" % show(value))
    text = str(value).strip()
    total = _parse_nginx_time(text, seconds) if text else None
    if total is None:
        if seconds and re.search(r"[0-9]ms", text) and _parse_nginx_time(text, False) is not None:
            raise InputError(var, "%s: nginx takes whole seconds here, not milliseconds" % show(value))
        raise InputError(var, "%s is not an nginx time such as 10s or 1m30s (units largest first, each once)"
                         % show(value))
    return NginxTime(text, total)


def nginx_time_word(var, value, seconds=False):
    """An nginx time written as one word, as the roles write times (unquoted, or a server's fail_timeout=
    parameter): nginx_time() without blanks inside ("1m 30s" would be two words there)."""
    time = nginx_time(var, value, seconds)
    if re.search(r"\s", time):
        raise InputError(var, "%s: write it without blanks, such as 1m30s" % show(value))
    return time


def nginx_size(var, value):
    """An nginx size: bytes, or a number with k or m (g too, as nginx reads it): "1m", "64k", 1048576."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(var, "%s is not an nginx size such as 1m or 64k" % show(value))
    match = _NGINX_SIZE.fullmatch(str(value).strip())
    if not match:
        raise InputError(var, "%s is not an nginx size such as 1m or 64k" % show(value))
    return match.group(1) + match.group(2).lower()


def absolute_path(var, value, under=None):
    """An absolute path, normalised ("/srv//a/./b/" is "/srv/a/b"); with `under`, it must stay inside that
    directory once ".." are resolved (/srv/app/current/../../etc is /etc: refused)."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise InputError(var, "%s is not an absolute path" % show(value))
    if any(c in value for c in "\n\r\0"):
        raise InputError(var, "a path cannot hold a line break or a NUL byte")
    path = posixpath.normpath(value)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if under is not None:
        root = posixpath.normpath(under)
        if path != root and not path.startswith(root.rstrip("/") + "/"):
            raise InputError(var, "%s is outside %s%s" % (
                show(value), root, " (it is %s once '..' are resolved)" % path if ".." in value else ""))
    return path
