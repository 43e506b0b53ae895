# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The uwsgi role's inputs, normalised: what uwsgi.ini renders (the fact `uwsgi_input`, set by the
check_inputs action). Types come from the role's argument spec first; these rules give every value the form
uwsgi.ini takes and refuse, naming the variable, what uWSGI's ini cannot hold (a line break, `%`, which uWSGI
expands). The socket addresses, which default from the app's port, are checked by inputs.check_uwsgi and
written by the template through the same uWSGI writer."""

from __future__ import annotations

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values as v
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import writers as w

PREFIX = "uwsgi_"
# (variable, minimum) of the counts uwsgi.ini writes as numbers.
COUNTS = (("uwsgi_processes", 0), ("uwsgi_threads", 1), ("uwsgi_harakiri", 0), ("uwsgi_max_requests", 0),
          ("uwsgi_log_maxsize", 0))


def _ini_or_empty(var, value):
    """A uWSGI ini value, or "" for "not set"."""
    return "" if value in (None, "") else w.uwsgi_value(var, value)


def _extra_options(var, options):
    """uwsgi_extra_options as [option, value] lines, in name order; a list gives the option once per item.
    Verbatim: uWSGI's magic variables (%n, %(name)) stay for uWSGI to expand."""
    lines = []
    for key in sorted(options, key=str):
        value = options[key]
        for item in value if isinstance(value, list) else [value]:
            name = "%s.%s" % (var, key)
            if isinstance(item, bool):
                item = "true" if item else "false"
            lines.append([str(key), w.uwsgi_value(name, item, magic=True)])
    return lines


def normalise(values):
    """(the normalised inputs without the prefix, [error messages]) from the spec-converted `values`."""
    found = v.Normalised(values, PREFIX)
    rule = found.rule
    rule("uwsgi_socket_mode", v.octal_mode)
    for name, minimum in COUNTS:
        rule(name, v.integer, minimum)
    rule("uwsgi_buffer_size", v.integer, 1, 65535)
    rule("uwsgi_enable_threads", v.boolean)
    rule("uwsgi_stats", _ini_or_empty)
    rule("uwsgi_logto", _ini_or_empty)
    if isinstance(values.get("uwsgi_extra_options"), dict):
        rule("uwsgi_extra_options", _extra_options)
    return found.result()
