# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parsing what the nginx binary prints: ``nginx -t`` results and ``nginx -V`` build information.

Shared by the ``nginx_validate`` module and the ``nginx`` role's build checks; pure functions, no I/O.
"""

from __future__ import annotations

import re
import shlex

# nginx prints a message either as "nginx: [level] text" (before its error log is set up)
# or as an error-log line "2024/01/31 12:00:00 [level] 123#123: text".
_MESSAGE_RE = re.compile(
    r"^(?:nginx: |\d{4}/\d\d/\d\d \d\d:\d\d:\d\d )"
    r"\[(?P<level>emerg|alert|crit|error|warn|notice|info)\] "
    r"(?:\d+#\d+: )?"
    r"(?P<text>.*?)"
    # nginx reports where a directive is as " in /path/file.conf:12" at the end of the message.
    r"(?: in (?P<file>[^\s\"]+):(?P<line>\d+))?\s*$"
)
_VERSION_RE = re.compile(r"^nginx version: (?P<name>[^/\s]+)/(?P<version>\S+)", re.MULTILINE)
_CONFIGURE_RE = re.compile(r"^configure arguments:(?P<args>.*)$", re.MULTILINE)

_FATAL_LEVELS = ("emerg", "alert", "crit", "error")


def parse_messages(output):
    """Return the leveled messages in nginx output as dicts (level, message, file, line)."""
    messages = []
    for raw in output.splitlines():
        match = _MESSAGE_RE.match(raw.strip())
        if not match:
            continue
        messages.append(
            {
                "level": match.group("level"),
                "message": match.group("text"),
                "file": match.group("file"),
                "line": int(match.group("line")) if match.group("line") else None,
            }
        )
    return messages


def parse_test_output(rc, output):
    """Interpret ``nginx -t``: its exit code and everything it printed.

    Returns a dict with ``valid`` (bool), ``error`` (the message that made the test fail: level, message,
    file, line; ``None`` when valid) and ``warnings`` (list of warning texts with their location).
    """
    messages = parse_messages(output)
    warnings = [m for m in messages if m["level"] == "warn"]
    result = {"valid": rc == 0, "error": None, "warnings": warnings}
    if rc == 0:
        return result
    fatal = [m for m in messages if m["level"] in _FATAL_LEVELS]
    # The first emerg is what stopped nginx; alerts such as an unwritable log file come before it.
    fatal.sort(key=lambda m: _FATAL_LEVELS.index(m["level"]))
    if fatal:
        result["error"] = fatal[0]
    else:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        result["error"] = {
            "level": None,
            "message": lines[0] if lines else "nginx -t exited with %d and printed nothing" % rc,
            "file": None,
            "line": None,
        }
    return result


def format_error(error):
    """One line for a failed test, as nginx would say it: "message in file:line"."""
    if error is None:
        return ""
    where = ""
    if error.get("file"):
        where = " in %s" % error["file"]
        if error.get("line") is not None:
            where += ":%d" % error["line"]
    return "%s%s" % (error["message"], where)


def parse_version_output(output):
    """Parse ``nginx -V``: returns name, version and configure_arguments (list), or None if unrecognised."""
    match = _VERSION_RE.search(output)
    if not match:
        return None
    configure = _CONFIGURE_RE.search(output)
    return {
        "name": match.group("name"),
        "version": match.group("version"),
        "configure_arguments": shlex.split(configure.group("args")) if configure else [],
    }
