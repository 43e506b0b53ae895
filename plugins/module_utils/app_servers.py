# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the roles decide about app servers, named once for the Python side.

Role defaults are not in other hosts' hostvars, so code that reads an app host's variables from another host
(the upstream_servers filter on a load balancer) has to apply them itself. These are those defaults;
tests/unit/plugins/module_utils/test_upstreams.py checks them against roles/*/defaults/main.yml and the roles'
argument specs. Binds are parsed by addresses.parse_bind.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# flask_app_server (roles/flask_app): the app server of a host.
APP_SERVER_VAR = "flask_app_server"
GUNICORN = "gunicorn"
UWSGI = "uwsgi"
APP_SERVERS = (GUNICORN, UWSGI)
DEFAULT_APP_SERVER = GUNICORN

# Protocols nginx can speak to a pool: uwsgi (uwsgi_pass) or http (proxy_pass).
UWSGI_PROTOCOL = "uwsgi"
HTTP_PROTOCOL = "http"
PROTOCOLS = (UWSGI_PROTOCOL, HTTP_PROTOCOL)

# uwsgi_protocol (roles/uwsgi): what a uWSGI host speaks. gunicorn speaks only http.
UWSGI_PROTOCOL_VAR = "uwsgi_protocol"
DEFAULT_UWSGI_PROTOCOL = UWSGI_PROTOCOL
GUNICORN_PROTOCOL = HTTP_PROTOCOL

# Where each app server listens: HOST:PORT, [IPv6]:PORT or a unix socket (gunicorn: unix:/path.sock,
# uWSGI: /path.sock). Both default to DEFAULT_BIND, so an unset bind means flask_app_port.
BIND_VARS = {GUNICORN: "gunicorn_bind", UWSGI: "uwsgi_socket"}
PORT_VAR = "flask_app_port"
DEFAULT_PORT = 8000
BIND_ADDRESS_VAR = "flask_app_bind_address"
DEFAULT_BIND_ADDRESS = "0.0.0.0"
# The roles default their bind to the flaskstack_app mapping flask_app hands them (CONTRACT_INPUT below),
# whose bind_address and port are flask_app_bind_address and flask_app_port.
DEFAULT_BIND = "{{ flaskstack_app.bind_address }}:{{ flaskstack_app.port }}"

# The playbooks' inventory groups (flaskstack_app_group, flaskstack_lb_group) and the app pool's name
# (flaskstack_pool_name), as playbooks/vars/stack.yml defaults them.
DEFAULT_APP_GROUP = "app"
DEFAULT_LB_GROUP = "lb"
DEFAULT_POOL_NAME = "app"

# The app tier's contract (docs/app_tier.md). flask_app includes an app server role (gunicorn or uwsgi) with
# CONTRACT_INPUT, a mapping of what the server needs to know about the app; the server role renders its
# own configuration and hands back CONTRACT_FACT through the app_server action, checked against
# APP_SERVER_SPEC. flask_app then owns the supervisor program and the reload or restart decision.
CONTRACT_INPUT = "flaskstack_app"
CONTRACT_FACT = "flaskstack_app_server"

_RELOAD_SPEC = {
    "type": "dict",
    "required": True,
    "options": {
        "signal": {"type": "str", "choices": ["HUP", "USR1", "USR2", "TERM", "INT", "QUIT"]},
        "fifo": {"type": "path"},
        "write": {"type": "str"},
    },
    "mutually_exclusive": [["signal", "fifo"]],
    "required_one_of": [["signal", "fifo"]],
    "required_together": [["fifo", "write"]],
}

APP_SERVER_SPEC = {
    "server": {
        "type": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True, "choices": list(APP_SERVERS)},
            "packages": {"type": "list", "elements": "str", "default": []},
            "build_packages": {"type": "list", "elements": "str", "default": []},
            "unix_socket": {"type": "bool", "default": False},
            "health_port": {"type": "int", "required": True},
            "program": {
                "type": "dict",
                "required": True,
                "options": {
                    "command": {"type": "str", "required": True},
                    "startsecs": {"type": "int", "default": 3},
                    "stopsignal": {"type": "str", "default": "TERM", "choices": ["TERM", "INT", "QUIT"]},
                    "stopwaitsecs": {"type": "int", "required": True},
                },
            },
            "reload_config": _RELOAD_SPEC,
            "reload_code": _RELOAD_SPEC,
        },
    },
    "config_changed": {"type": "bool", "default": False},
    "restart_needed": {"type": "bool", "default": False},
}


def app_server_fact(params):
    """The contract fact from validated parameters: the server's description and this run's changes."""
    fact = dict(params["server"])
    fact["config_changed"] = params["config_changed"]
    fact["restart_needed"] = params["restart_needed"]
    if not 1 <= fact["health_port"] <= 65535:
        raise ValueError("server.health_port: %r is not a port (1-65535)" % fact["health_port"])
    return fact
