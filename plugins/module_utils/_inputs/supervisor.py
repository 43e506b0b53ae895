# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The supervisor role's inputs, normalised: what its templates and tasks render (the fact
`supervisor_input`, set by the check_inputs action). Types and defaults come from the role's argument
spec first (meta/argument_specs.yml); these rules then give every value the form its file takes and
refuse, naming the variable, what supervisord's ini files cannot hold."""

from __future__ import annotations

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values as v
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import writers as w

PREFIX = "supervisor_"
# The password is checked here but never put into the fact: templates render it from its variable.
SECRET = "supervisor_inet_http_server_password"
AUTORESTART = {"true": "true", "false": "false", "unexpected": "unexpected"}


def _ini(var, value):
    """The value as supervisord's ini reads it back (the check); the normalised value is the value."""
    w.supervisor_value(var, value)
    return value


def _socket_mode(var, value):
    mode = v.octal_mode(var, value)
    if mode not in ("0700", "0770"):
        raise v.InputError(var, "%s is not one of: 0700, 0770" % v.show(value))
    return mode


def _autorestart(var, value):
    if isinstance(value, str) and value.strip().lower() == "unexpected":
        return "unexpected"
    try:
        return "true" if v.boolean(var, value) else "false"
    except v.InputError:
        raise v.InputError(var, "%s is not true, false or unexpected" % v.show(value)) from None


def _program(path, program, values):
    """One entry of supervisor_programs, every field it renders filled in (the spec gave the defaults)."""
    out = {"name": program["name"], "command": _ini(path + ".command", program["command"])}
    if program.get("directory") is not None:
        out["directory"] = v.absolute_path(path + ".directory", program["directory"])
    if program.get("user") is not None:
        out["user"] = _ini(path + ".user", program["user"])
    env = {}
    for key, value in (program.get("environment") or {}).items():
        text = "" if value is None else str(value)
        w.supervisor_environment_value("%s.environment.%s" % (path, key), text)
        env[str(key)] = text
    out["environment"] = env
    out["autostart"] = v.boolean(path + ".autostart", program.get("autostart", True))
    out["autorestart"] = _autorestart(path + ".autorestart", program.get("autorestart", True))
    for key, default in (("startsecs", 5), ("startretries", 3), ("stopwaitsecs", 30)):
        out[key] = v.integer("%s.%s" % (path, key), program.get(key, default), 0)
    out["stopsignal"] = program.get("stopsignal") or "TERM"
    out["killasgroup"] = v.boolean(path + ".killasgroup", program.get("killasgroup", True))
    stop = program.get("stopasgroup")
    out["stopasgroup"] = out["killasgroup"] if stop is None else v.boolean(path + ".stopasgroup", stop)
    if program.get("priority") is not None:
        out["priority"] = v.integer(path + ".priority", program["priority"], 0)
    out["group"] = program.get("group") or ""
    log = "%s/%s" % (values["supervisor_log_dir"], program["name"])
    for stream in ("stdout", "stderr"):
        name = program.get(stream + "_logfile")
        if stream == "stderr" and name is None:
            out["stderr_logfile"] = None  # redirected into stdout's log
            continue
        if name in ("AUTO", "NONE"):
            out[stream + "_logfile"] = name
        else:
            out[stream + "_logfile"] = v.absolute_path("%s.%s_logfile" % (path, stream), name or log + ".log")
        size = program.get(stream + "_logfile_maxbytes")
        out[stream + "_logfile_maxbytes"] = _ini("%s.%s_logfile_maxbytes" % (path, stream),
                                                 size or values["supervisor_program_logfile_maxbytes"])
        backups = program.get(stream + "_logfile_backups")
        out[stream + "_logfile_backups"] = v.integer(
            "%s.%s_logfile_backups" % (path, stream),
            values["supervisor_program_logfile_backups"] if backups is None else backups, 0)
    return out


def normalise(values):
    """(the normalised inputs without the prefix, [error messages]) from the spec-converted `values`."""
    found = v.Normalised(values, PREFIX)
    rule = found.rule
    for name in ("supervisor_conf_file", "supervisor_conf_dir", "supervisor_log_dir", "supervisor_socket_path"):
        rule(name, v.absolute_path)
    for name in ("supervisor_logfile_backups", "supervisor_program_logfile_backups"):
        rule(name, v.integer, 0)
    for name in ("supervisor_logfile_maxbytes", "supervisor_program_logfile_maxbytes", "supervisor_loglevel",
                 "supervisor_socket_group", "supervisor_inet_http_server_port",
                 "supervisor_inet_http_server_username"):
        rule(name, _ini)
    rule("supervisor_socket_mode", _socket_mode)
    rule("supervisor_inet_http_server_enabled", v.boolean)
    rule("supervisor_purge_programs", v.boolean)
    out = found.out
    if out.get("inet_http_server_enabled") and values.get(SECRET):
        try:
            w.supervisor_value(SECRET, values[SECRET])
        except v.InputError as error:
            found.errors.append("%s: %s (the value is not shown)" % (SECRET, error.why))

    defaults = dict(values, supervisor_log_dir=out.get("log_dir", values.get("supervisor_log_dir", "")))
    programs = v.Normalised(values, PREFIX)
    for index, program in enumerate(values.get("supervisor_programs") or []):
        # Without a name or a command, the spec check said what is missing.
        if isinstance(program, dict) and {"name", "command"} <= set(program):
            path = "supervisor_programs[%d]" % index
            programs.keep(path, _program, path, program, defaults)
    out["programs"] = list(programs.out.values())
    out["groups"] = list(dict.fromkeys(p["group"] for p in out["programs"] if p["group"]))
    found.errors += programs.errors
    return found.result()
