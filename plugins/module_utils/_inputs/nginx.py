# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The nginx role's inputs for its main configuration (nginx.conf), normalised: the fact `nginx_input`,
set by the check_inputs action. Types come from the role's argument spec first; these rules give each
value the form nginx.conf takes (booleans as booleans, so a quoted "no" is off; times and sizes as nginx
reads them, in one word) and refuse, naming the variable, what nginx would read otherwise (a `;` or a
blank in a log path ends the directive there)."""

from __future__ import annotations

import re

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values as v
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import writers as w

PREFIX = "nginx_"
FLAGS = ("nginx_multi_accept", "nginx_sendfile", "nginx_tcp_nopush", "nginx_tcp_nodelay", "nginx_server_tokens",
         "nginx_open_file_cache_errors", "nginx_gzip", "nginx_listen_ipv6")
COUNTS = (("nginx_worker_rlimit_nofile", 1), ("nginx_worker_connections", 1), ("nginx_keepalive_requests", 0),
          ("nginx_open_file_cache_min_uses", 1))
SIZES = ("nginx_client_header_buffer_size", "nginx_client_body_buffer_size", "nginx_client_max_body_size")
# syslog:server=...,facility=...,severity=...,tag=...,nohostname (nginx's ngx_syslog_process_conf)
_SYSLOG_PARAM = re.compile(r"(server|facility|severity|tag)=([A-Za-z0-9_.:/\[\]-]+)|nohostname")
_OPEN_FILE_CACHE = re.compile(r"max=([0-9]+)(?: +inactive=(\S+))?")
_BUFFERS = re.compile(r"([0-9]+) +(\S+)")


def _log(var, value, off):
    """A log target: an absolute path (one nginx word), `off` (access) or `stderr` (error), or syslog:."""
    if value == off:
        return value
    if isinstance(value, str) and value.startswith("syslog:"):
        params = value[len("syslog:"):].split(",")
        bad = [p for p in params if not _SYSLOG_PARAM.fullmatch(p)]
        if bad or not any(p.startswith("server=") for p in params):
            raise v.InputError(var, "%s is not a syslog target nginx reads, such as "
                                    "syslog:server=unix:/dev/log,tag=nginx (parameters server, facility, severity, "
                                    "tag, nohostname, separated by commas, without blanks)" % v.show(value))
        return value
    path = v.absolute_path(var, value)
    return w.nginx_word(var, path, "path")


def _time(var, value, seconds):
    """An nginx time in one word, as plain text (the fact holds no NginxTime)."""
    return str(v.nginx_time_word(var, value, seconds))


def _worker_processes(var, value):
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    try:
        return v.integer(var, value, 1)
    except v.InputError:
        raise v.InputError(var, "%s is not auto or a number of processes (1 or more)" % v.show(value)) from None


def _open_file_cache(var, value):
    """"" or off (no cache), or max=N [inactive=time]: the directive's parameters, normalised."""
    text = value.strip() if isinstance(value, str) else value
    if text in ("", "off"):
        return ""
    match = _OPEN_FILE_CACHE.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise v.InputError(var, "%s must be empty, off, or such as 'max=10000 inactive=30s'" % v.show(value))
    if match.group(2) is None:
        return "max=%s" % match.group(1)
    return "max=%s inactive=%s" % (match.group(1), v.nginx_time_word(var, match.group(2), seconds=True))


def _large_buffers(var, value):
    match = _BUFFERS.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise v.InputError(var, "%s must be a number and a size, such as '4 8k'" % v.show(value))
    return "%s %s" % (match.group(1), v.nginx_size(var, match.group(2)))


def normalise(values):
    """(the normalised inputs without the prefix, [error messages]) from the spec-converted `values`."""
    found = v.Normalised(values, PREFIX)
    rule = found.rule
    for name in FLAGS:
        rule(name, v.boolean)
    for name, minimum in COUNTS:
        rule(name, v.integer, minimum)
    for name in SIZES:
        rule(name, v.nginx_size)
    rule("nginx_worker_processes", _worker_processes)
    rule("nginx_keepalive_timeout", _time, False)
    rule("nginx_open_file_cache_valid", _time, True)
    rule("nginx_open_file_cache", _open_file_cache)
    rule("nginx_large_client_header_buffers", _large_buffers)
    rule("nginx_error_log", _log, "stderr")
    rule("nginx_access_log", _log, "off")
    rule("nginx_pid_file", lambda var, value: w.nginx_word(var, v.absolute_path(var, value), "path"))
    rule("nginx_user", w.nginx_word, "user name")
    return found.result()
