# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A group's hosts and their variables as one nginx upstream pool: the steps of the upstream_servers filter.

upstream_pool() runs them in this order, and the first problem stops it with an UpstreamError whose message
names the pool, the host and the variable to fix:

1. The call: check_name, check_hostvars, host_names, pool_options (pool_option, arch_factors), sorted_hosts,
   drained_hosts.
2. Each host, in natural order (PoolBuilder.add_host): host_variables; app_server (what it runs and speaks);
   server_address (where nginx reaches it: parsed_bind, connect_address; duplicate_error); explicit_weight or
   weight_from_facts (its share); host_max_fails, host_fail_timeout, host_flag; build_server.
3. The pool (PoolBuilder.finish): drop_partial_derived_weights, pool_protocol, check_pool, make_pool.

Each host's variables are read at most once each, in a fixed order, so an inventory always gives the same first
error. A plain dict of variables (a test, a benchmark) is read with dict.get; anything else (Ansible's hostvars),
and a plain dict whose read went wrong, through HostVariables, which names a variable that cannot be read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping, Sequence

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import (
    DIGITS,
    address_problem,
    is_plain_address,
    parse_bind,
)
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values
from ansible_collections.flaskstack.deploy.plugins.module_utils.app_servers import (
    APP_SERVER_VAR,
    BIND_VARS,
    DEFAULT_APP_SERVER,
    DEFAULT_POOL_NAME,
    DEFAULT_PORT,
    DEFAULT_UWSGI_PROTOCOL,
    GUNICORN,
    GUNICORN_PROTOCOL,
    HTTP_PROTOCOL,
    PORT_VAR,
    PROTOCOLS,
    UWSGI,
    UWSGI_PROTOCOL,
    UWSGI_PROTOCOL_VAR,
)

# Factor per CPU core by architecture (ansible_facts.architecture); unknown architectures count 1.
DEFAULT_ARCH_WEIGHTS = {"x86_64": 2, "amd64": 2, "aarch64": 1, "arm64": 1, "armv7l": 1, "armv6l": 1}
BALANCES = ("round_robin", "least_conn", "ip_hash")
AUTO = "auto"

# Per-host settings of the pool, all optional.
ADDRESS_VAR = "flaskstack_upstream_address"
WEIGHT_VAR = "flaskstack_upstream_weight"
MAX_FAILS_VAR = "flaskstack_upstream_max_fails"
FAIL_TIMEOUT_VAR = "flaskstack_upstream_fail_timeout"
BACKUP_VAR = "flaskstack_upstream_backup"
DOWN_VAR = "flaskstack_upstream_down"
HOST_OVERRIDES = frozenset((ADDRESS_VAR, WEIGHT_VAR, MAX_FAILS_VAR, FAIL_TIMEOUT_VAR, BACKUP_VAR, DOWN_VAR))
# Where the core count comes from, best first: ansible_facts[fact], else the injected ansible_<fact>.
CORE_FACTS = (
    ("processor_vcpus", "ansible_processor_vcpus"),
    ("processor_nproc", "ansible_processor_nproc"),
    ("processor_count", "ansible_processor_count"),
)

# What app_server finds: (app server, protocol it speaks, its bind variable, uwsgi_protocol left to the role).
GUNICORN_HOST = (GUNICORN, GUNICORN_PROTOCOL, BIND_VARS[GUNICORN], False)
UWSGI_HOST = (UWSGI, UWSGI_PROTOCOL, BIND_VARS[UWSGI], False)
UWSGI_DEFAULT_HOST = (UWSGI, DEFAULT_UWSGI_PROTOCOL, BIND_VARS[UWSGI], True)
UWSGI_HTTP_HOST = (UWSGI, HTTP_PROTOCOL, BIND_VARS[UWSGI], False)

_PREFIX = "upstream_servers: "
_POOL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_SPLIT_DIGITS = re.compile(r"([0-9]+)")
_ASCII_DIGITS = "0123456789"
_LISTED = 10  # hosts named in one message before "and N more"
_CALL = "call it as groups['app'] | flaskstack.deploy.upstream_servers(hostvars)"

# Kept across calls: answers that depend on one string only (a playbook renders the same pool again for every
# task and load balancer that uses it). Each is emptied when it reaches _MEMO_MAX entries.
_MEMO_MAX = 1 << 16
_NATURAL_KEYS = {}  # host name -> natural_key(host name)
_USABLE_ADDRESSES = set()  # addresses connect_address accepted


def forget():
    """Empty what earlier calls left in memory (_NATURAL_KEYS, _USABLE_ADDRESSES): the next call starts cold."""
    _NATURAL_KEYS.clear()
    _USABLE_ADDRESSES.clear()


class UpstreamError(Exception):
    """The pool cannot be built; str() is the message for the user. __cause__ is what failed underneath, if anything."""


class Reread(Exception):
    """A plain read met a value it cannot vouch for: read the host again through HostVariables."""


def pool_error(pool, msg):
    return UpstreamError("%spool '%s': %s" % (_PREFIX, pool, msg))


# --- Small helpers -----------------------------------------------------------------------------------


def natural_key(host):
    """app2 before app10; the raw name breaks ties (app01 / app1).

    One flat tuple: the name's text (lowercased) and numbers as they alternate, text first and last, then -1 and
    the name. -1 puts a name whose parts end there before one whose parts go on (app before app1: a number >= 0),
    as comparing the lists of parts would. Names of letters then digits, such as app12, skip the regex.
    """
    stem = host.rstrip(_ASCII_DIGITS)
    if stem != host and stem.isalpha():
        return stem.lower(), int(host[len(stem):]), "", -1, host
    parts = _SPLIT_DIGITS.split(host)
    parts[1::2] = [int(p) for p in parts[1::2]]
    parts[0::2] = [p.lower() for p in parts[0::2]]
    parts.append(-1)
    parts.append(host)
    return tuple(parts)


def names(hosts):
    """Up to _LISTED host names for a message, then 'and N more'."""
    hosts = list(hosts)
    if len(hosts) <= _LISTED:
        return ", ".join(hosts)
    return "%s and %d more" % (", ".join(hosts[:_LISTED]), len(hosts) - _LISTED)


def to_int(value, minimum, maximum=None):
    """value as an int within bounds (decimal strings too), or None. Booleans are not numbers here."""
    if type(value) is int:  # pylint: disable=unidiomatic-typecheck  # the usual case; a bool is not a number here
        number = value
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        number = int(value)
    elif isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    if number < minimum or (maximum is not None and number > maximum):
        return None
    return number


def nginx_time(value):
    """value as a server's fail_timeout (10s, 1m30s; an int is seconds) in text, or None (_inputs.values reads
    it as nginx does)."""
    try:
        return str(values.nginx_time_word("fail_timeout", value, seconds=True))
    except values.InputError:
        return None


def _error_text(exc):
    return str(exc) or type(exc).__name__


# --- 1. The call itself ------------------------------------------------------------------------------


class PoolOptions(object):
    """The filter's keyword arguments, checked."""

    __slots__ = ("name", "protocol", "balance", "keepalive", "max_fails", "fail_timeout", "factors")


def check_name(name):
    if not isinstance(name, str) or not _POOL_NAME.fullmatch(name):
        raise UpstreamError(
            "%sname=%r is not a usable pool name; nginx refers to it in proxy_pass/uwsgi_pass, "
            "so use letters, digits, '_', '-' and '.' only, for example name='app'" % (_PREFIX, name)
        )


def check_hostvars(name, hostvars):
    if hostvars is None:
        raise pool_error(name, "hostvars is missing; " + _CALL)
    if not isinstance(hostvars, Mapping):
        raise pool_error(
            name,
            "hostvars must be Ansible's hostvars (host name -> its variables), not %s; %s"
            % (type(hostvars).__name__, _CALL),
        )


def host_names(name, hosts):
    """Refuse anything but a non-empty list of non-blank host names."""
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Sequence):
        raise pool_error(
            name,
            "the input must be a list of inventory host names such as groups['app'], not %s %r"
            % (type(hosts).__name__, hosts if isinstance(hosts, (str, bytes)) else type(hosts).__name__),
        )
    # One pass in C for the usual list of plain strings; the loop finds the culprit otherwise.
    if not ({str}.issuperset(map(type, hosts)) and "" not in map(str.strip, hosts)):
        for host in hosts:
            if not isinstance(host, str) or not host.strip():
                raise pool_error(name, "the input must be a list of inventory host names; %r is not a host name" % (host,))
    if not hosts:
        raise pool_error(
            name, "the host list is empty; nginx refuses an upstream block without servers (is the group empty?)"
        )


def pool_options(name, protocol, balance, keepalive, max_fails, fail_timeout, arch_weights):
    """The keyword arguments after the name, checked in this order."""
    options = PoolOptions()
    options.name = name
    if protocol not in (AUTO,) + PROTOCOLS:
        raise pool_error(name, "protocol=%r is unknown; use 'auto', 'uwsgi' or 'http'" % (protocol,))
    options.protocol = protocol
    if balance is not None and balance not in BALANCES:
        raise pool_error(name, "balance=%r is unknown; use one of %s" % (balance, ", ".join(BALANCES)))
    options.balance = balance
    options.keepalive = pool_option(name, "keepalive", keepalive, _count, "must be an integer >= 0 (0 turns it off)")
    options.max_fails = pool_option(name, "max_fails", max_fails, _count, "must be an integer >= 0")
    options.fail_timeout = pool_option(
        name, "fail_timeout", fail_timeout, nginx_time, "is not an nginx time such as 10s, 1m or 1m30s"
    )
    options.factors = arch_factors(name, arch_weights)
    return options


def _count(value):
    return to_int(value, 0)


def pool_option(name, option, value, convert, must):
    """An optional keyword argument: None stays None, anything else is convert(value) or refused, naming it."""
    if value is None:
        return None
    converted = convert(value)
    if converted is None:
        raise pool_error(name, "%s=%r %s" % (option, value, must))
    return converted


def arch_factors(name, arch_weights):
    """DEFAULT_ARCH_WEIGHTS with arch_weights on top, keys lowercased."""
    factors = dict(DEFAULT_ARCH_WEIGHTS)
    if arch_weights is not None:
        if not isinstance(arch_weights, Mapping):
            raise pool_error(name, "arch_weights must be a mapping of architecture -> factor, such as {'x86_64': 3}")
        for arch, factor in arch_weights.items():
            factor_value = to_int(factor, 1)
            if not isinstance(arch, str) or factor_value is None:
                raise pool_error(name, "arch_weights[%r] = %r: the factor must be an integer >= 1" % (arch, factor))
            factors[arch.lower()] = factor_value
    return factors


def sorted_hosts(hosts):
    """Unique host names in natural order (see natural_key).

    Duplicates go first, keeping the input's order, so a group that is already in order sorts in one pass. The
    keys are remembered (_NATURAL_KEYS) for the next call.
    """
    unique = list(dict.fromkeys(hosts))
    if len(unique) > _MEMO_MAX:
        return sorted(unique, key=natural_key)
    keys = _NATURAL_KEYS
    try:
        return sorted(unique, key=keys.__getitem__)
    except KeyError:  # a name not seen before
        pass
    if len(keys) + len(unique) > _MEMO_MAX:
        keys.clear()
    for host in unique:
        if host not in keys:
            keys[host] = natural_key(host)
    return sorted(unique, key=keys.__getitem__)


def drained_hosts(name, down, hosts):
    """The set of hosts the down argument drains; each must be in the pool (hosts: the sorted pool)."""
    if down is None:
        down = ()
    if (
        isinstance(down, (str, bytes))
        or not isinstance(down, Sequence)
        or not all(isinstance(h, str) for h in down)
    ):
        raise pool_error(name, "down must be a list of host names, such as down=['app2'], not %r" % (down,))
    drained = set(down)
    strays = drained.difference(hosts)
    if strays:
        strays = sorted(strays, key=natural_key)
        raise pool_error(
            name,
            "down names %s, which %s not in the pool (a typo?); the pool's hosts are %s"
            % (names(strays), "is" if len(strays) == 1 else "are", names(hosts)),
        )
    return drained


# --- 2. Per host -------------------------------------------------------------------------------------


def host_variables(name, hostvars, host):
    """hostvars[host], refused unless it is a mapping (for an unknown or unreadable host too)."""
    if host not in hostvars:
        raise pool_error(
            name, "unknown host %s: hostvars has no such host; check the host list (a typo, or another inventory?)" % host
        )
    try:
        variables = hostvars[host]
    except Exception as exc:
        raise pool_error(name, "cannot read the variables of host %s: %s" % (host, _error_text(exc))) from exc
    if not isinstance(variables, Mapping):
        raise pool_error(name, "hostvars[%r] is %s, not the host's variables" % (host, type(variables).__name__))
    return variables


class HostVariables(object):
    """One host's variables read one by one, as Ansible's hostvars need: a value that fails to render (or is an
    instance of undefined, such as jinja2.Undefined) becomes an UpstreamError naming the variable."""

    __slots__ = ("_vars", "_host", "_pool", "_undefined")

    def __init__(self, variables, host, pool, undefined=()):
        self._vars = variables
        self._host = host
        self._pool = pool
        self._undefined = undefined

    def get(self, var):
        try:
            value = self._vars.get(var, None)
            if isinstance(value, self._undefined):  # a template in it refers to something undefined
                value._fail_with_undefined_error()
        except Exception as exc:
            raise pool_error(
                self._pool,
                "cannot read %s of host %s: %s (a role's defaults are not in other hosts' hostvars: "
                "set what it refers to in the inventory)" % (var, self._host, _error_text(exc)),
            ) from exc
        return value


def app_server(name, get, host):
    """What host runs and speaks: GUNICORN_HOST, UWSGI_HOST, UWSGI_DEFAULT_HOST or UWSGI_HTTP_HOST."""
    server = get(APP_SERVER_VAR)
    if server is None:
        server = DEFAULT_APP_SERVER
    if server == GUNICORN:
        return GUNICORN_HOST
    if server == UWSGI:
        speaks = get(UWSGI_PROTOCOL_VAR)
        if speaks is None:
            return UWSGI_DEFAULT_HOST
        if speaks not in PROTOCOLS:
            raise pool_error(name, "host %s has uwsgi_protocol: %r; set it to uwsgi or http" % (host, speaks))
        return UWSGI_HOST if speaks == UWSGI_PROTOCOL else UWSGI_HTTP_HOST
    raise pool_error(name, "host %s has flask_app_server: %r; set it to gunicorn or uwsgi" % (host, server))


def parsed_bind(bind):
    """(kind, where, port) from a gunicorn bind / uWSGI socket, False when malformed (see addresses.parse_bind).

    kind 'unix': where is the socket's path, port None. kind 'tcp': where is the port's text, port it as an int
    from 1 to 65535, or None.
    """
    parsed = parse_bind(bind)
    if parsed is None:
        return False
    kind, where = parsed
    return kind, where, to_int(where, 1, 65535) if kind == "tcp" else None


def _address_error(pool, host, address_var, address, bind_var, socket_var, kind, reason):
    if kind == "port":
        return pool_error(
            pool,
            "host %s: %s %r includes a port, which nginx would reject in the upstream server line; the port "
            "comes from flask_app_port, or from the port of %s when it is set (this host: %s). Put the port "
            "there, or set flaskstack_upstream_address to the address alone"
            % (host, address_var, address, socket_var, bind_var),
        )
    if kind == "zone":
        return pool_error(
            pool,
            "host %s: %s %r has an IPv6 zone id (%%...); nginx cannot use link-local zone ids in an upstream "
            "server ('invalid IPv6 address'). Set flaskstack_upstream_address to a global or unique local "
            "address of the host, or a host name" % (host, address_var, address),
        )
    if kind == "unix":
        reason = "for a unix socket set %s to unix:/path.sock instead" % socket_var
    hint = "" if address_var == ADDRESS_VAR else (
        " (set flaskstack_upstream_address to the address nginx should connect to)"
    )
    return pool_error(
        pool,
        "host %s: %s %r is not a host name or IP address nginx can use: %s%s"
        % (host, address_var, address, reason, hint),
    )


def connect_address(name, get, host, bind_var, socket_var, overrides=True):
    """The address nginx connects to: flaskstack_upstream_address, else ansible_host, else the inventory name.

    Checked as nginx takes it in a server line (is_plain_address, else address_problem); IPv6 without brackets.
    bind_var names where the port comes from (the bind variable, or flask_app_port), socket_var the host's bind
    variable, for the messages. overrides=False: the host sets none of HOST_OVERRIDES.
    """
    address_var = ADDRESS_VAR
    address = get(address_var) if overrides else None
    if address is None:
        address_var = "ansible_host"
        address = get(address_var)
        if address is None:
            address_var, address = "the inventory name", host
    if not isinstance(address, str):
        raise pool_error(name, "host %s: %s is %r, not a host name or IP address" % (host, address_var, address))
    address = address.strip()
    if address.startswith("[") and address.endswith("]") and ":" in address:  # the role adds them
        address = address[1:-1]
    if not address:
        raise pool_error(
            name,
            "host %s: %s is empty; set flaskstack_upstream_address to the address nginx should use" % (host, address_var),
        )
    if address not in _USABLE_ADDRESSES:
        if not is_plain_address(address):  # IPv6, or something to refuse
            problem = address_problem(address)
            if problem is not None:
                raise _address_error(name, host, address_var, address, bind_var, socket_var, *problem)
        if len(_USABLE_ADDRESSES) >= _MEMO_MAX:
            _USABLE_ADDRESSES.clear()
        _USABLE_ADDRESSES.add(address)
    return address


def server_address(name, get, host, bind_var, binds, overrides=True):
    """(address, port) nginx reaches host's app server at; ('unix:/path.sock', None) for a unix socket.

    binds: parsed_bind's answers so far (bind -> answer), added to.
    """
    bind = get(bind_var)
    if bind is not None:
        if isinstance(bind, str):
            parsed = binds.get(bind)
            if parsed is None:
                parsed = binds[bind] = parsed_bind(bind)
        else:
            parsed = parsed_bind(bind)
        if parsed is False:
            raise pool_error(
                name,
                "host %s has %s: %r, which is not HOST:PORT, [IPv6]:PORT, unix:/path.sock or /path.sock"
                % (host, bind_var, bind),
            )
        kind, where, port = parsed
        if kind == "unix":
            return "unix:" + where, None
        port_var = bind_var
    else:
        where = get(PORT_VAR)
        if where is None:
            where = DEFAULT_PORT
        port = to_int(where, 1, 65535)
        port_var = PORT_VAR
    address = connect_address(name, get, host, port_var, bind_var, overrides)
    if port is None:
        raise pool_error(
            name, "host %s: the port from %s (%r) is not an integer from 1 to 65535" % (host, port_var, where)
        )
    return address, port


def duplicate_error(name, other, host, address, port):
    """other and host both resolve to address:port (port None: a unix socket)."""
    if port is None:
        where_text = address
        fix = "a unix socket only serves an nginx on that same host; give each host a TCP bind"
    else:
        where_text, fix = "%s:%d" % (address, port), "set flaskstack_upstream_address or different ports"
    return pool_error(
        name, "hosts %s and %s both resolve to %s, so nginx would list one server twice (%s)" % (other, host, where_text, fix)
    )


def explicit_weight(name, host, weight):
    """flaskstack_upstream_weight (set) as an int >= 1."""
    weight_value = to_int(weight, 1)
    if weight_value is None:
        raise pool_error(name, "host %s has flaskstack_upstream_weight: %r; it must be an integer >= 1" % (host, weight))
    return weight_value


def weight_from_facts(get, factors, unread=()):
    """Cores times the architecture's factor (factors: lowercase architecture -> factor), or None without a core
    count in the facts.

    unread: the class(es) of values a plain read does not vouch for (see PoolBuilder.add_host); meeting one where
    this step would pass over it raises Reread.
    """
    facts = get("ansible_facts")
    if isinstance(facts, dict):
        cores = facts.get("processor_vcpus")  # the first of CORE_FACTS, usually there
        if type(cores) is int and cores >= 1:  # pylint: disable=unidiomatic-typecheck  # a bool is not a count
            arch = facts.get("architecture")
            factor = factors.get(arch) if isinstance(arch, str) else None
            if factor is not None:
                return cores * factor
    elif not isinstance(facts, Mapping):
        if isinstance(facts, unread):
            raise Reread()
        facts = {}
    for fact, injected in CORE_FACTS:
        value = facts.get(fact)
        if value is None:
            value = get(injected)
        cores = to_int(value, 1)
        if cores is not None:
            break
        if isinstance(value, unread):
            raise Reread()
    else:
        return None
    arch = facts.get("architecture")
    if arch is None:
        arch = get("ansible_architecture")
    factor = factors.get(arch) if isinstance(arch, str) else None  # found: arch is lowercase already
    if factor is None:
        if isinstance(arch, unread):
            raise Reread()
        factor = factors.get(str(arch).lower(), 1)
    return cores * factor


def host_max_fails(name, host, value):
    """flaskstack_upstream_max_fails (set) as an int >= 0."""
    number = to_int(value, 0)
    if number is None:
        raise pool_error(name, "host %s has flaskstack_upstream_max_fails: %r; it must be an integer >= 0" % (host, value))
    return number


def host_fail_timeout(name, host, value):
    """flaskstack_upstream_fail_timeout (set) as nginx time text."""
    text = nginx_time(value)
    if text is None:
        raise pool_error(
            name,
            "host %s has flaskstack_upstream_fail_timeout: %r; it must be an nginx time such as 10s or 1m30s"
            % (host, value),
        )
    return text


def host_flag(name, host, var, value):
    """A boolean host variable var (set; yes/no/true/false/1/0 too) as a bool."""
    if value is True or value is False:
        return value
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise pool_error(name, "host %s has %s: %r; it must be true or false" % (host, var, value)) from None


def build_server(address, port, weight, max_fails, fail_timeout, backup, down):
    """One server of the nginx role's nginx_upstreams[].servers; unset keys are left out."""
    if weight is None and max_fails is None and fail_timeout is None and port is not None:
        return {"address": address, "port": port, "backup": backup, "down": down}
    entry = {"address": address}
    if port is not None:
        entry["port"] = port
    if weight is not None:
        entry["weight"] = weight
    if max_fails is not None:
        entry["max_fails"] = max_fails
    if fail_timeout is not None:
        entry["fail_timeout"] = fail_timeout
    entry["backup"] = backup
    entry["down"] = down
    return entry


class PoolBuilder(object):
    """The pool, host by host: add_host runs the per-host steps, finish the pool's."""

    __slots__ = ("name", "options", "drained", "binds", "seen", "hosts", "kinds", "servers", "derived", "weighted")

    def __init__(self, options, drained):
        self.name = options.name
        self.options = options
        self.drained = drained
        self.binds = {}  # bind -> parsed_bind(bind)
        self.seen = {}  # (address, port) -> host
        self.hosts = []
        self.kinds = []  # app_server's answer per host
        self.servers = []
        self.derived = []  # servers given a weight from facts, kept only if every unweighted host has facts
        self.weighted = 0  # hosts with flaskstack_upstream_weight

    def add_host(self, get, host, unread=(), overrides=True):
        """Read host's variables through get, each at most once and in this order, and add its server.

        Nothing is recorded until every read succeeded (seen excepted, which then names host itself), so a host
        can be read again after an exception: upstream_pool reads a plain dict with dict.get and unread=undefined,
        and on any exception reads that host again through HostVariables, which names an undefined variable where
        the plain read went on. overrides=False: the host sets none of HOST_OVERRIDES (they read as None).
        """
        name = self.name
        options = self.options

        # What it runs and speaks.
        kind = app_server(name, get, host)

        # Where nginx reaches it.
        address, port = server_address(name, get, host, kind[2], self.binds, overrides)
        other = self.seen.setdefault((address, port), host)
        if other is not host:
            raise duplicate_error(name, other, host, address, port)

        # Its share, failure accounting and state.
        weight = get(WEIGHT_VAR) if overrides else None
        if weight is None:
            share = weight_from_facts(get, options.factors, unread)
        else:
            weight = explicit_weight(name, host, weight)
            share = None
        if overrides:
            max_fails = get(MAX_FAILS_VAR)
            max_fails = options.max_fails if max_fails is None else host_max_fails(name, host, max_fails)
            fail_timeout = get(FAIL_TIMEOUT_VAR)
            fail_timeout = options.fail_timeout if fail_timeout is None else host_fail_timeout(name, host, fail_timeout)
            backup = get(BACKUP_VAR)
            backup = False if backup is None else host_flag(name, host, BACKUP_VAR, backup)
            down = get(DOWN_VAR)
            down = False if down is None else host_flag(name, host, DOWN_VAR, down)
        else:
            max_fails, fail_timeout, backup, down = options.max_fails, options.fail_timeout, False, False
        if not down and self.drained:
            down = host in self.drained

        # All read: record it.
        entry = build_server(address, port, weight, max_fails, fail_timeout, backup, down)
        if weight is not None:
            self.weighted += 1
        elif share is not None:
            entry["weight"] = share
            self.derived.append(entry)
        self.hosts.append(host)
        self.kinds.append(kind)
        self.servers.append(entry)

    def finish(self):
        """The pool, once every host is in."""
        options = self.options
        servers = self.servers
        drop_partial_derived_weights(self.derived, len(servers) - self.weighted)
        protocol = pool_protocol(self.name, options.protocol, self.hosts, self.kinds)
        check_pool(self.name, options.balance, self.hosts, servers)
        return make_pool(self.name, protocol, servers, options.balance, options.keepalive)


# --- 3. The pool -------------------------------------------------------------------------------------


def drop_partial_derived_weights(derived, unweighted):
    """Weights from facts only when every host without flaskstack_upstream_weight has them: a host whose facts
    are missing (not gathered, --limit) would otherwise get 1 against its peers' 8 or 16. derived: the servers
    given one, out of unweighted servers without flaskstack_upstream_weight."""
    if len(derived) != unweighted:
        for server in derived:
            del server["weight"]


def pool_protocol(name, protocol, hosts, kinds):
    """The pool's protocol: the one every host speaks (auto), or the forced one if every host speaks it.

    kinds: app_server's answer for each of hosts.
    """
    speaking = {kind[1] for kind in set(kinds)}
    if protocol == AUTO:
        if len(speaking) == 1:
            return UWSGI_PROTOCOL if UWSGI_PROTOCOL in speaking else HTTP_PROTOCOL
    elif protocol in speaking and len(speaking) == 1:
        return protocol
    uwsgi = [host for host, kind in zip(hosts, kinds) if kind[1] == UWSGI_PROTOCOL]
    http = [host for host, kind in zip(hosts, kinds) if kind[1] == HTTP_PROTOCOL]
    if protocol == AUTO:
        raise UpstreamError(
            "%spool '%s' mixes protocols: %s speak%s uwsgi, %s speak%s http, "
            "and nginx talks one protocol to a pool. %sso set uwsgi_protocol: http on %s (or split the pool). "
            "Otherwise uWSGI logs 'invalid request block size' for the HTTP nginx sends to a uwsgi socket."
            % (
                _PREFIX,
                name,
                names(uwsgi), "s" if len(uwsgi) == 1 else "",
                names(http), "s" if len(http) == 1 else "",
                "A gunicorn host speaks only http, " if GUNICORN_HOST in kinds else "",
                names(uwsgi),
            )
        )
    wrong = http if protocol == UWSGI_PROTOCOL else uwsgi
    host = wrong[0]
    kind = kinds[hosts.index(host)]
    if protocol == UWSGI_PROTOCOL and kind is GUNICORN_HOST:
        why = (
            "host %s runs gunicorn, which speaks only http; it cannot be in the uwsgi-protocol pool '%s'. "
            "Use protocol='http' (with uwsgi_protocol: http on the uWSGI hosts) or take %s out of the pool"
            % (host, name, host)
        )
    elif protocol == UWSGI_PROTOCOL:
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
            % (host, " (the role's default; it is not set)" if kind is UWSGI_DEFAULT_HOST else "", name, host)
        )
    if len(wrong) > 1:
        why += ". Also not speaking %s: %s" % (protocol, names(wrong[1:]))
    raise UpstreamError(_PREFIX + why)


def check_pool(name, balance, hosts, servers):
    """Refuse what nginx would refuse or answer 502 for: all down, all backup, ip_hash with a backup."""
    for server in servers:
        if not server["down"]:
            break
    else:
        raise UpstreamError(
            "%severy server of pool '%s' is down (%s); nginx would answer 502. Undrain at least one "
            "(the down list, flaskstack_upstream_down)" % (_PREFIX, name, names(hosts))
        )
    for server in servers:
        if not server["backup"]:
            break
    else:
        raise UpstreamError(
            "%severy server of pool '%s' is a backup (flaskstack_upstream_backup); nginx refuses that "
            "('no servers in upstream'). Make at least one a primary" % (_PREFIX, name)
        )
    if balance == "ip_hash":
        backups = [h for h, s in zip(hosts, servers) if s["backup"]]
        if backups:
            raise pool_error(
                name,
                "balance ip_hash does not support backup servers (nginx: balancing method does not support "
                "parameter \"backup\"), but %s %s flaskstack_upstream_backup: true; drop one or the other"
                % (names(backups), "has" if len(backups) == 1 else "have"),
            )


def make_pool(name, protocol, servers, balance, keepalive):
    """The nginx_upstreams element: name, protocol, servers, and balance / keepalive when given."""
    pool = {"name": name, "protocol": protocol, "servers": servers}
    if balance is not None:
        pool["balance"] = balance
    if keepalive is not None:
        pool["keepalive"] = keepalive
    return pool


# --- All of it ---------------------------------------------------------------------------------------


def upstream_pool(
    hosts,
    hostvars=None,
    name=DEFAULT_POOL_NAME,
    protocol=AUTO,
    down=None,
    max_fails=None,
    fail_timeout=None,
    arch_weights=None,
    balance=None,
    keepalive=None,
    undefined=(),
):
    """One pool for the nginx role's nginx_upstreams: name, protocol, servers (+ balance, keepalive).

    The upstream_servers filter's arguments (see its documentation), plus undefined: the class (or tuple of
    classes) whose instances stand for a variable that cannot be rendered (jinja2.Undefined for the filter).
    Raises UpstreamError.
    """
    check_name(name)
    check_hostvars(name, hostvars)
    host_names(name, hosts)
    options = pool_options(name, protocol, balance, keepalive, max_fails, fail_timeout, arch_weights)
    hosts = sorted_hosts(hosts)
    drained = drained_hosts(name, down, hosts)

    # Exactly dict, not a subclass or another mapping: its get cannot fail or render (a value can be undefined).
    # pylint: disable=unidiomatic-typecheck
    pool = PoolBuilder(options, drained)
    plain = hostvars.get if type(hostvars) is dict else None
    for host in hosts:
        variables = plain(host) if plain else None
        if type(variables) is not dict:
            variables = host_variables(name, hostvars, host)
        if type(variables) is dict:
            try:
                pool.add_host(variables.get, host, undefined, not HOST_OVERRIDES.isdisjoint(variables))
                continue
            except Exception:  # read it again through the guard below, for the message it gives
                pass
        pool.add_host(HostVariables(variables, host, name, undefined).get, host)
    return pool.finish()
