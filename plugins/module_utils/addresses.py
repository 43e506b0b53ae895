# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Addresses and binds as nginx and the app servers take them: shared by the upstream_servers filter (which
renders upstream `server` lines) and the check_inputs action (which refuses them before any change)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

# What may go into an nginx `server` line unquoted: no blanks, no ; { } # quotes or backslash.
UNSAFE = re.compile(r"[\s;{}#'\"\\]")
DIGITS = re.compile(r"[0-9]+")

# An address nginx can put in a `server` line: an IPv4 address in dotted-quad form (no leading zeros,
# which getaddrinfo would read as octal) or a host name of RFC 1123 labels (letters, digits and '-', not
# at either end, 1 to 63 characters) whose last label is not all digits (RFC 1123 2.1: "1.2.3" and
# "999.1.1.1" are neither). is_plain_address accepts the same addresses with str methods only (the hot
# path: a dotted quad is a split and four set lookups); ADDRESS is the reference it must agree with, and
# IPv6 (the only addresses with ':') and every refusal take the slow path (address_problem).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
ADDRESS = re.compile(
    r"(?:%s\.){3}%s|(?:%s\.)*(?![0-9]+\.?\Z)%s\.?" % (_OCTET, _OCTET, _LABEL, _LABEL)
)
HOST_NAME_MAX = 253  # without the root's trailing dot
_OCTETS = frozenset(str(number) for number in range(256))  # "0" to "255", no leading zeros
_LABEL_MAX = 63


def is_plain_address(address):
    """True when address is a dotted-quad IPv4 address or an RFC 1123 host name of at most HOST_NAME_MAX characters.

    No regex: it accepts exactly what ``len(address) <= HOST_NAME_MAX and ADDRESS.fullmatch(address)`` accepts, so
    False (IPv6, refusals, or a host name of 254 characters plus the root's dot) means: ask address_problem.
    """
    labels = address.split(".")
    if len(labels) == 4 and _OCTETS.issuperset(labels):
        return True
    if len(address) > HOST_NAME_MAX or not address.isascii():
        return False
    if labels[-1] == "":  # the root's trailing dot
        labels.pop()
    return (
        bool(labels)
        and not labels[-1].isdigit()  # "1.2.3", "999.1.1.1": not a host name either
        and "" not in labels
        and max(map(len, labels)) <= _LABEL_MAX
        and address.replace("-", "").replace(".", "").isalnum()  # ASCII letters and digits, then
        and address[0] != "-"
        and address[-1] != "-"
        and ".-" not in address
        and "-." not in address
    )


def parse_bind(bind):
    """('unix', '/path') or ('tcp', port as text) from a gunicorn bind / uWSGI socket, or None when malformed."""
    if not isinstance(bind, str):
        return None
    bind = bind.strip()
    if bind.startswith("unix:") or bind.startswith("/"):
        path = bind[5:] if bind.startswith("unix:") else bind
        if not path.startswith("/") or UNSAFE.search(path):
            return None
        return "unix", path
    if bind.startswith("["):  # [v6]:port
        close = bind.find("]")
        if close < 0 or bind[close + 1:close + 2] != ":":
            return None
        port = bind[close + 2:]
    else:
        host, sep, port = bind.rpartition(":")
        if not sep or ":" in host:  # no port, or an IPv6 address without brackets
            return None
    return ("tcp", port) if DIGITS.fullmatch(port) else None


def address_problem(address):
    """Why nginx cannot use address (not matched by ADDRESS) in a `server` line, or None for an IPv6 address.

    Returns (kind, reason): kind is 'port' for HOST:PORT, 'zone' for an IPv6 zone id, 'unix' for a unix
    socket, 'bad' otherwise (reason says why).
    """
    if is_plain_address(address):
        return None
    if ADDRESS.fullmatch(address) is not None:  # only its length can be wrong
        if len(address.rstrip(".")) <= HOST_NAME_MAX:
            return None
        return "bad", "a host name has at most %d characters" % HOST_NAME_MAX
    if address.startswith("unix:"):
        return "unix", None
    if UNSAFE.search(address):
        return "bad", "it contains a blank or one of ; { } # quotes backslash"
    if address.startswith("["):
        close = address.find("]")
        if close > 0 and address[close + 1:close + 2] == ":" and DIGITS.fullmatch(address[close + 2:]):
            return "port", None
        return "bad", "brackets only go around a whole IPv6 address, such as [2001:db8::1]"
    if ":" in address:
        host, _sep, port = address.rpartition(":")
        if ":" not in host and DIGITS.fullmatch(port):
            return "port", None
        if "%" in address:
            return "zone", None
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return "bad", "it is not a valid IPv6 address"
        return None
    if not address.strip("0123456789."):
        return "bad", "it is not a valid IPv4 address (four numbers from 0 to 255, without leading zeros)"
    if "_" in address:
        return "bad", "'_' is not allowed in a host name (RFC 1123: letters, digits and '-')"
    return "bad", (
        "a host name is dot-separated labels of letters, digits and '-' (not at either end), 1 to 63 "
        "characters each, the last one not all digits (RFC 1123)"
    )


def address_message(var, address):
    """Why nginx cannot use address (the value of var) as an upstream server, or None when it can."""
    if not isinstance(address, str) or not address.strip():
        return "%s: %r is not a host name or IP address" % (var, address)
    address = address.strip()
    if address.startswith("[") and address.endswith("]") and ":" in address:
        address = address[1:-1]
    problem = address_problem(address)
    if problem is None:
        return None
    kind, reason = problem
    if kind == "port":
        return ("%s: %r includes a port; nginx reaches the app on flask_app_port (or the port of gunicorn_bind / "
                "uwsgi_socket): put the port there, and the address alone here" % (var, address))
    if kind == "zone":
        return ("%s: %r has an IPv6 zone id (%%...), which nginx cannot use in an upstream server; set "
                "flaskstack_upstream_address to a global or unique local address or a host name" % (var, address))
    if kind == "unix":
        reason = "for a unix socket set gunicorn_bind (unix:/path.sock) or uwsgi_socket (/path.sock)"
    return "%s: %r is not a host name or IP address nginx can use: %s" % (var, address, reason)
