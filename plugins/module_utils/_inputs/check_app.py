# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The input checks of the app tier: flask_app, gunicorn, uwsgi and supervisor (module_utils/inputs.py)."""

from __future__ import annotations

import re

from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import address_message
from ansible_collections.flaskstack.deploy.plugins.module_utils import app_servers
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.rules import (
    Errors,
    _has,
    SECRET_KEY_MIN,
    _BLANK,
    _MODULE,
    _RELEASE_ID,
    _items,
    _opt,
    absolute_path,
    account,
    at_least,
    between,
    boolean,
    env_file_value,
    env_names,
    file_name,
    hooks,
    host,
    host_port,
    line,
    nginx_time,
    port,
    relative_path,
    secret,
    show,
    supervisor_size,
    token,
    wsgi_callable,
)


# --- Roles -------------------------------------------------------------------------------------------


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
        if secret(e, "flask_app_secret_key", v("flask_app_secret_key"), SECRET_KEY_MIN,
                  "set it (from vault), the same on every host, or sessions break across nodes. There is no default"):
            env_file_value(e, "flask_app_secret_key", v("flask_app_secret_key"), secret_value=True)
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
    # uwsgi_socket_mode: _inputs/uwsgi.py.
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
        nginx_time(e, "flaskstack_upstream_fail_timeout", v("flaskstack_upstream_fail_timeout"), seconds=True)
    for name in ("flaskstack_upstream_backup", "flaskstack_upstream_down"):
        if _has(values, name):
            boolean(e, name, v(name))
    return e
