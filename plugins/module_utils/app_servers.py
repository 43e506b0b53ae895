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
DEFAULT_BIND = "{{ %s }}:{{ %s }}" % (BIND_ADDRESS_VAR, PORT_VAR)

# The playbooks' inventory groups (flaskstack_app_group, flaskstack_lb_group) and the app pool's name
# (flaskstack_pool_name), as playbooks/vars/stack.yml defaults them.
DEFAULT_APP_GROUP = "app"
DEFAULT_LB_GROUP = "lb"
DEFAULT_POOL_NAME = "app"
