# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Values written in the syntax of the file they land in. Each writer returns the text to put in the file,
or raises InputError naming the variable for what that syntax cannot hold. The input checks call the same
writers before the first change, so a value a template would refuse is refused before anything changes."""

from __future__ import annotations

import re

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.values import InputError, show

_LINE_BREAKS = re.compile(r"[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _one_line(var, value):
    text = value if isinstance(value, str) else str(value)
    if _LINE_BREAKS.search(text):
        raise InputError(var, "cannot hold a line break (or NUL): it would start a new line in the file")
    return text


def supervisor_value(var, value):
    """A value of supervisord's ini files (supervisord.conf, conf.d/*.conf): one line, `%` doubled
    (supervisor expands %(name)s), no ";" after a blank (supervisor cuts an inline comment there), no
    blanks around it (supervisor strips them)."""
    text = _one_line(var, value)
    if re.search(r"\s;", text):
        raise InputError(var, "cannot hold \";\" after a blank: supervisor reads the rest as a comment")
    if text != text.strip():
        raise InputError(var, "cannot begin or end with a blank: supervisor strips it")
    return text.replace("%", "%%")


def supervisor_environment_value(var, value):
    """A value of a program's `environment=` line, quoted: supervisor splits that line with a non-POSIX
    shlex (no escapes) and strips every quote character at both ends of a value. So the value is wrapped in
    the quote it does not hold, and one that holds both, or begins or ends with a quote, is refused."""
    text = supervisor_value(var, value) if value != "" else ""
    if '"' in text and "'" in text:
        raise InputError(var, "holds both ' and \"; supervisor cannot read such a value. Put it in the app's "
                              "own environment file instead")
    if text[:1] in ("'", '"') or text[-1:] in ("'", '"'):
        raise InputError(var, "begins or ends with a quote, which supervisor strips; put it in the app's own "
                              "environment file instead")
    quote = "'" if '"' in text else '"'
    return quote + text + quote


def uwsgi_value(var, value, magic=False):
    """A value of a uWSGI ini file: one line, no `%` (uWSGI expands %(name), %d and other magic
    variables, and has no escape for a literal one), no blanks around it. magic=True: the value is meant
    for uWSGI's expansion (uwsgi_extra_options, verbatim), so `%` stays."""
    text = _one_line(var, value)
    if "%" in text and not magic:
        raise InputError(var, "cannot hold \"%\": uWSGI's ini reads it as a placeholder")
    if text != text.strip():
        raise InputError(var, "cannot begin or end with a blank: uWSGI strips it")
    return text


def env_file_value(var, value):
    """A value of the app's environment file (NAME=value lines, read by gunicorn.conf.py and uWSGI's
    for-readline): the rest of the line, as it is. A line break would start another variable, and
    gunicorn.conf.py strips blanks at the ends of a line: neither can be written."""
    text = _one_line(var, value)
    if text != text.strip():
        raise InputError(var, "cannot begin or end with a blank: the app server's reader strips it")
    return text


def python_literal(value):
    """A Python literal for gunicorn.conf.py (str, int, float, bool, None, and lists and dicts of them):
    repr() of the value, which Python reads back as the same value, quotes and backslashes included."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(python_literal(v) for v in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (python_literal(str(k)), python_literal(v)) for k, v in value.items())
    raise TypeError("no Python literal for %r" % (value,))


def nginx_string(var, value, variables=False):
    """A value of nginx's configuration, quoted ("...", with \\ and " escaped) so that ; { } # and blanks
    stay inside it. `$` starts an nginx variable in most directives and cannot be escaped: refused unless
    `variables` (the directive is meant to take them)."""
    text = _one_line(var, value)
    if not variables and "$" in text:
        raise InputError(var, "cannot hold \"$\": nginx would read a variable there")
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


_NGINX_SPECIAL = re.compile(r"[\s;{}#\"'\\$]")


def nginx_word(var, value, what="value"):
    """A value nginx reads as one word, unquoted (a path, a size, a name): no blank and none of ; { } # quotes
    backslash $, which would end the directive, open a block, start a comment or a variable."""
    text = _one_line(var, value)
    bad = _NGINX_SPECIAL.search(text)
    if not text or bad:
        raise InputError(var, "%s is not one nginx %s: %s" % (
            show(value), what, "it is empty" if not text else "it cannot hold %r" % bad.group(0)))
    return text
