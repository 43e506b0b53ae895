# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""upstream_servers: a group's hosts as one nginx upstream pool (documentation: upstream_servers.yml)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from jinja2 import Undefined
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import (
    ADDRESS as _ADDRESS,
    DIGITS as _DIGITS,
    HOST_NAME_MAX as _HOST_NAME_MAX,
    address_problem as _address_problem,
    parse_bind as _parse_bind,
    UNSAFE as _UNSAFE,
)

# Factor per CPU core by architecture (ansible_facts.architecture); unknown architectures count 1.
DEFAULT_ARCH_WEIGHTS = {"x86_64": 2, "amd64": 2, "aarch64": 1, "arm64": 1, "armv7l": 1, "armv6l": 1}

# The roles' defaults, which hostvars do not show for other hosts.
DEFAULT_APP_SERVER = "gunicorn"
DEFAULT_UWSGI_PROTOCOL = "uwsgi"
DEFAULT_PORT = 8000

PROTOCOLS = ("uwsgi", "http")
BALANCES = ("round_robin", "least_conn", "ip_hash")

_MISSING = object()
_POOL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_NGINX_TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
_SPLIT_DIGITS = re.compile(r"([0-9]+)")
_LISTED = 10  # hosts named in one message before "and N more"



def _natural_key(host):
    """app2 before app10; the raw name breaks ties (app01 / app1)."""
    parts = _SPLIT_DIGITS.split(host)
    parts[1::2] = [int(p) for p in parts[1::2]]
    parts[0::2] = [p.lower() for p in parts[0::2]]
    return parts, host


def _names(hosts):
    hosts = list(hosts)
    if len(hosts) <= _LISTED:
        return ", ".join(hosts)
    return "%s and %d more" % (", ".join(hosts[:_LISTED]), len(hosts) - _LISTED)


def _fail(pool, msg):
    return AnsibleFilterError("upstream_servers: pool '%s': %s" % (pool, msg))


def _int(value, minimum, maximum=None):
    """value as an int within bounds (decimal strings too), or None. Booleans are not numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    if number < minimum or (maximum is not None and number > maximum):
        return None
    return number


def _nginx_time(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str) and _NGINX_TIME.fullmatch(value.strip()):
        return value.strip()
    return None


def _address_error(pool, host, address_var, address, bind_var, socket_var, kind, reason):
    if kind == "port":
        return _fail(
            pool,
            "host %s: %s %r includes a port, which nginx would reject in the upstream server line; the port "
            "comes from flask_app_port, or from the port of %s when it is set (this host: %s). Put the port "
            "there, or set flaskstack_upstream_address to the address alone"
            % (host, address_var, address, socket_var, bind_var),
        )
    if kind == "zone":
        return _fail(
            pool,
            "host %s: %s %r has an IPv6 zone id (%%...); nginx cannot use link-local zone ids in an upstream "
            "server ('invalid IPv6 address'). Set flaskstack_upstream_address to a global or unique local "
            "address of the host, or a host name" % (host, address_var, address),
        )
    if kind == "unix":
        reason = "for a unix socket set %s to unix:/path.sock instead" % socket_var
    hint = "" if address_var == "flaskstack_upstream_address" else (
        " (set flaskstack_upstream_address to the address nginx should connect to)"
    )
    return _fail(
        pool,
        "host %s: %s %r is not a host name or IP address nginx can use: %s%s"
        % (host, address_var, address, reason, hint),
    )


def _error_text(exc):
    return str(exc) or type(exc).__name__


def upstream_servers(
    hosts,
    hostvars=None,
    name="app",
    protocol="auto",
    down=None,
    max_fails=None,
    fail_timeout=None,
    arch_weights=None,
    balance=None,
    keepalive=None,
):
    """Return one pool for the nginx role's ``nginx_upstreams``: name, protocol, servers (+ balance, keepalive)."""
    # --- The call itself ----------------------------------------------------------------------------
    if not isinstance(name, str) or not _POOL_NAME.fullmatch(name):
        raise AnsibleFilterError(
            "upstream_servers: name=%r is not a usable pool name; nginx refers to it in proxy_pass/uwsgi_pass, "
            "so use letters, digits, '_', '-' and '.' only, for example name='app'" % (name,)
        )
    if hostvars is None:
        raise _fail(
            name, "hostvars is missing; call it as groups['app'] | flaskstack.deploy.upstream_servers(hostvars)"
        )
    if not isinstance(hostvars, Mapping):
        raise _fail(
            name,
            "hostvars must be Ansible's hostvars (host name -> its variables), not %s; "
            "call it as groups['app'] | flaskstack.deploy.upstream_servers(hostvars)" % type(hostvars).__name__,
        )
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Sequence):
        raise _fail(
            name,
            "the input must be a list of inventory host names such as groups['app'], not %s %r"
            % (type(hosts).__name__, hosts if isinstance(hosts, (str, bytes)) else type(hosts).__name__),
        )
    for host in hosts:
        if not isinstance(host, str) or not host.strip():
            raise _fail(name, "the input must be a list of inventory host names; %r is not a host name" % (host,))
    if not hosts:
        raise _fail(
            name, "the host list is empty; nginx refuses an upstream block without servers (is the group empty?)"
        )
    if protocol not in ("auto",) + PROTOCOLS:
        raise _fail(name, "protocol=%r is unknown; use 'auto', 'uwsgi' or 'http'" % (protocol,))
    if balance is not None and balance not in BALANCES:
        raise _fail(name, "balance=%r is unknown; use one of %s" % (balance, ", ".join(BALANCES)))
    if keepalive is not None:
        keepalive_value = _int(keepalive, 0)
        if keepalive_value is None:
            raise _fail(name, "keepalive=%r must be an integer >= 0 (0 turns it off)" % (keepalive,))
        keepalive = keepalive_value
    if max_fails is not None:
        max_fails_value = _int(max_fails, 0)
        if max_fails_value is None:
            raise _fail(name, "max_fails=%r must be an integer >= 0" % (max_fails,))
        max_fails = max_fails_value
    if fail_timeout is not None:
        fail_timeout_value = _nginx_time(fail_timeout)
        if fail_timeout_value is None:
            raise _fail(name, "fail_timeout=%r is not an nginx time such as 10s, 1m or 1m30s" % (fail_timeout,))
        fail_timeout = fail_timeout_value
    factors = dict(DEFAULT_ARCH_WEIGHTS)
    if arch_weights is not None:
        if not isinstance(arch_weights, Mapping):
            raise _fail(name, "arch_weights must be a mapping of architecture -> factor, such as {'x86_64': 3}")
        for arch, factor in arch_weights.items():
            factor_value = _int(factor, 1)
            if not isinstance(arch, str) or factor_value is None:
                raise _fail(name, "arch_weights[%r] = %r: the factor must be an integer >= 1" % (arch, factor))
            factors[arch.lower()] = factor_value

    hosts = sorted(set(hosts), key=_natural_key)
    members = set(hosts)

    if down is None:
        down = ()
    if (
        isinstance(down, (str, bytes))
        or not isinstance(down, Sequence)
        or not all(isinstance(h, str) for h in down)
    ):
        raise _fail(name, "down must be a list of host names, such as down=['app2'], not %r" % (down,))
    strays = sorted({h for h in down if h not in members}, key=_natural_key)
    if strays:
        raise _fail(
            name,
            "down names %s, which %s not in the pool (a typo?); the pool's hosts are %s"
            % (_names(strays), "is" if len(strays) == 1 else "are", _names(hosts)),
        )
    drained = set(down)

    # --- Per host -----------------------------------------------------------------------------------
    servers = []
    speakers = {"uwsgi": [], "http": []}
    gunicorn_hosts = []
    protocol_unset = set()  # uWSGI hosts on the role's default uwsgi_protocol
    derived = {}  # index in servers -> weight from facts, kept only if every unweighted host has facts
    unweighted = 0
    seen = {}

    for host in hosts:
        if host not in hostvars:
            raise _fail(
                name, "unknown host %s: hostvars has no such host; check the host list (a typo, or another inventory?)"
                % host
            )
        try:
            hv = hostvars[host]
        except Exception as exc:
            raise _fail(name, "cannot read the variables of host %s: %s" % (host, _error_text(exc))) from exc
        if not isinstance(hv, Mapping):
            raise _fail(name, "hostvars[%r] is %s, not the host's variables" % (host, type(hv).__name__))

        def get(var, _hv=hv, _host=host):
            try:
                value = _hv.get(var, None)
                if isinstance(value, Undefined):  # a template in it refers to something undefined
                    value._fail_with_undefined_error()
            except Exception as exc:
                raise _fail(
                    name,
                    "cannot read %s of host %s: %s (a role's defaults are not in other hosts' hostvars: "
                    "set what it refers to in the inventory)" % (var, _host, _error_text(exc)),
                ) from exc
            return value

        # What it runs and speaks.
        server = get("flask_app_server")
        server = DEFAULT_APP_SERVER if server is None else server
        if server == "gunicorn":
            speaks = "http"
            bind_var = "gunicorn_bind"
            gunicorn_hosts.append(host)
        elif server == "uwsgi":
            speaks = get("uwsgi_protocol")
            if speaks is None:
                speaks = DEFAULT_UWSGI_PROTOCOL
                protocol_unset.add(host)
            if speaks not in PROTOCOLS:
                raise _fail(name, "host %s has uwsgi_protocol: %r; set it to uwsgi or http" % (host, speaks))
            bind_var = "uwsgi_socket"
        else:
            raise _fail(name, "host %s has flask_app_server: %r; set it to gunicorn or uwsgi" % (host, server))
        speakers[speaks].append(host)

        # Where nginx reaches it.
        socket_var = bind_var
        bind = get(bind_var)
        entry = {}
        if bind is not None:
            parsed = _parse_bind(bind)
            if parsed is None:
                raise _fail(
                    name,
                    "host %s has %s: %r, which is not HOST:PORT, [IPv6]:PORT, unix:/path.sock or /path.sock"
                    % (host, bind_var, bind),
                )
            kind, where = parsed
        else:
            kind, where, bind_var = "tcp", get("flask_app_port"), "flask_app_port"
            where = DEFAULT_PORT if where is None else where
        if kind == "unix":
            entry["address"] = "unix:" + where
        else:
            address_var = "flaskstack_upstream_address"
            address = get(address_var)
            if address is None:
                address_var = "ansible_host"
                address = get(address_var)
            if address is None:
                address_var, address = "the inventory name", host
            if not isinstance(address, str):
                raise _fail(name, "host %s: %s is %r, not a host name or IP address" % (host, address_var, address))
            address = address.strip()
            if address.startswith("[") and address.endswith("]") and ":" in address:  # the role adds them
                address = address[1:-1]
            if not address:
                raise _fail(
                    name,
                    "host %s: %s is empty; set flaskstack_upstream_address to the address nginx should use"
                    % (host, address_var),
                )
            if len(address) > _HOST_NAME_MAX or _ADDRESS.fullmatch(address) is None:  # else the hot path
                problem = _address_problem(address)
                if problem is not None:
                    raise _address_error(name, host, address_var, address, bind_var, socket_var, *problem)
            port = _int(where, 1, 65535)
            if port is None:
                raise _fail(
                    name, "host %s: the port from %s (%r) is not an integer from 1 to 65535" % (host, bind_var, where)
                )
            entry["address"] = address
            entry["port"] = port
        key = (entry["address"], entry.get("port"))
        if key in seen:
            if kind == "unix":
                where_text = key[0]
                fix = "a unix socket only serves an nginx on that same host; give each host a TCP bind"
            else:
                where_text, fix = "%s:%d" % key, "set flaskstack_upstream_address or different ports"
            raise _fail(
                name,
                "hosts %s and %s both resolve to %s, so nginx would list one server twice (%s)"
                % (seen[key], host, where_text, fix),
            )
        seen[key] = host

        # Its share.
        weight = get("flaskstack_upstream_weight")
        if weight is not None:
            weight_value = _int(weight, 1)
            if weight_value is None:
                raise _fail(
                    name, "host %s has flaskstack_upstream_weight: %r; it must be an integer >= 1" % (host, weight)
                )
            entry["weight"] = weight_value
        else:
            unweighted += 1
            facts = get("ansible_facts")
            facts = facts if isinstance(facts, Mapping) else {}
            cores = None
            for fact in ("processor_vcpus", "processor_nproc", "processor_count"):
                value = facts.get(fact)
                if value is None:
                    value = get("ansible_" + fact)
                cores = _int(value, 1)
                if cores is not None:
                    break
            if cores is not None:
                arch = facts.get("architecture")
                if arch is None:
                    arch = get("ansible_architecture")
                derived[len(servers)] = cores * factors.get(str(arch).lower(), 1)

        entry_max_fails = get("flaskstack_upstream_max_fails")
        if entry_max_fails is not None:
            value = _int(entry_max_fails, 0)
            if value is None:
                raise _fail(
                    name,
                    "host %s has flaskstack_upstream_max_fails: %r; it must be an integer >= 0" % (host, entry_max_fails),
                )
            entry["max_fails"] = value
        elif max_fails is not None:
            entry["max_fails"] = max_fails
        entry_fail_timeout = get("flaskstack_upstream_fail_timeout")
        if entry_fail_timeout is not None:
            value = _nginx_time(entry_fail_timeout)
            if value is None:
                raise _fail(
                    name,
                    "host %s has flaskstack_upstream_fail_timeout: %r; it must be an nginx time such as 10s or 1m30s"
                    % (host, entry_fail_timeout),
                )
            entry["fail_timeout"] = value
        elif fail_timeout is not None:
            entry["fail_timeout"] = fail_timeout

        flags = {}
        for flag in ("backup", "down"):
            var = "flaskstack_upstream_" + flag
            value = get(var)
            try:
                flags[flag] = False if value is None else boolean(value, strict=True)
            except TypeError:
                raise _fail(name, "host %s has %s: %r; it must be true or false" % (host, var, value)) from None
        entry["backup"] = flags["backup"]
        entry["down"] = flags["down"] or host in drained
        servers.append(entry)

    # --- The pool -----------------------------------------------------------------------------------
    # Weights from facts only when every host without flaskstack_upstream_weight has them: a host whose
    # facts are missing (not gathered, --limit) would otherwise get 1 against its peers' 8 or 16.
    if derived and len(derived) == unweighted:
        for index, weight in derived.items():
            servers[index]["weight"] = weight

    if protocol == "auto":
        if speakers["uwsgi"] and speakers["http"]:
            raise AnsibleFilterError(
                "upstream_servers: pool '%s' mixes protocols: %s speak%s uwsgi, %s speak%s http, "
                "and nginx talks one protocol to a pool. %sso set uwsgi_protocol: http on %s (or split the pool). "
                "Otherwise uWSGI logs 'invalid request block size' for the HTTP nginx sends to a uwsgi socket."
                % (
                    name,
                    _names(speakers["uwsgi"]), "s" if len(speakers["uwsgi"]) == 1 else "",
                    _names(speakers["http"]), "s" if len(speakers["http"]) == 1 else "",
                    "A gunicorn host speaks only http, " if gunicorn_hosts else "",
                    _names(speakers["uwsgi"]),
                )
            )
        protocol = "uwsgi" if speakers["uwsgi"] else "http"
    else:
        wrong = speakers["http" if protocol == "uwsgi" else "uwsgi"]
        if wrong:
            host = wrong[0]
            if protocol == "uwsgi" and host in gunicorn_hosts:
                why = (
                    "host %s runs gunicorn, which speaks only http; it cannot be in the uwsgi-protocol pool '%s'. "
                    "Use protocol='http' (with uwsgi_protocol: http on the uWSGI hosts) or take %s out of the pool"
                    % (host, name, host)
                )
            elif protocol == "uwsgi":
                why = (
                    "host %s runs uwsgi with uwsgi_protocol: http (an http-socket); it cannot be in the uwsgi-protocol "
                    "pool '%s', where nginx's uwsgi_pass gets 502s from it. Set uwsgi_protocol: uwsgi on %s or use "
                    "protocol='http'" % (host, name, host)
                )
            else:
                why = (
                    "host %s runs uwsgi with uwsgi_protocol: uwsgi%s; it cannot be in the "
                    "http-protocol pool '%s': nginx's proxy_pass would send HTTP to a uwsgi socket and uWSGI would "
                    "log 'invalid request block size'. Set uwsgi_protocol: http on %s or use protocol='uwsgi'"
                    % (host, " (the role's default; it is not set)" if host in protocol_unset else "", name, host)
                )
            if len(wrong) > 1:
                why += ". Also not speaking %s: %s" % (protocol, _names(wrong[1:]))
            raise AnsibleFilterError("upstream_servers: " + why)

    live = [h for h, s in zip(hosts, servers) if not s["down"]]
    if not live:
        raise AnsibleFilterError(
            "upstream_servers: every server of pool '%s' is down (%s); nginx would answer 502. Undrain at least one "
            "(the down list, flaskstack_upstream_down)" % (name, _names(hosts))
        )
    if all(s["backup"] for s in servers):
        raise AnsibleFilterError(
            "upstream_servers: every server of pool '%s' is a backup (flaskstack_upstream_backup); nginx refuses that "
            "('no servers in upstream'). Make at least one a primary" % name
        )
    if balance == "ip_hash":
        backups = [h for h, s in zip(hosts, servers) if s["backup"]]
        if backups:
            raise _fail(
                name,
                "balance ip_hash does not support backup servers (nginx: balancing method does not support "
                "parameter \"backup\"), but %s %s flaskstack_upstream_backup: true; drop one or the other"
                % (_names(backups), "has" if len(backups) == 1 else "have"),
            )

    pool = {"name": name, "protocol": protocol, "servers": servers}
    if balance is not None:
        pool["balance"] = balance
    if keepalive is not None:
        pool["keepalive"] = keepalive
    return pool


class FilterModule(object):
    def filters(self):
        return {"upstream_servers": upstream_servers}
