#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_server
short_description: Hand flask_app an app server's description (the app tier's contract)
version_added: 0.3.0
description:
  - >-
    Used by the collection's app server roles (C(flaskstack.deploy.gunicorn), C(flaskstack.deploy.uwsgi)): the
    role renders its own configuration and describes itself with this action; flask_app reads only the
    resulting C(flaskstack_app_server) fact. flask_app owns the supervisor program and decides, once, whether
    the running server reloads its configuration, reloads new code, restarts or does nothing.
  - >-
    The description is checked against the contract on the controller (types, required keys, one reload
    method per kind); a bad description fails with the key to fix.
  - The other direction, what flask_app tells an app server role, is the C(flaskstack_app) mapping the role
    receives (see the role's C(app) and C(facts) entry points).
author:
  - flaskstack.deploy contributors (@flaskstack)
attributes:
  check_mode:
    support: full
    details: Nothing changes on the host; the fact is set in check mode too.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - flaskstack.deploy.controller_action
options:
  server:
    description: What flask_app needs to know about the app server.
    type: dict
    required: true
    suboptions:
      name:
        description: The app server.
        type: str
        required: true
        choices: [gunicorn, uwsgi]
      packages:
        description: Requirements the server needs in the release's virtualenv (part of the virtualenv's identity).
        type: list
        elements: str
        default: []
      build_packages:
        description: Debian packages needed to build I(packages) (uWSGI from pip compiles).
        type: list
        elements: str
        default: []
      unix_socket:
        description: Whether the server listens on a unix socket (flask_app then prepares its directory and group).
        type: bool
        default: false
      health_port:
        description: The loopback TCP port where the server answers HTTP for flask_app's health check.
        type: int
        required: true
      program:
        description: The supervisor program that runs the server in the foreground.
        type: dict
        required: true
        suboptions:
          command:
            description: Command line.
            type: str
            required: true
          startsecs:
            description: Seconds the server must stay up to count as started.
            type: int
            default: 3
          stopsignal:
            description: Signal that stops the server gracefully.
            type: str
            choices: [TERM, INT, QUIT]
            default: TERM
          stopwaitsecs:
            description: Seconds to wait after I(stopsignal) before SIGKILL.
            type: int
            required: true
      reload_config:
        description: >-
          How the running server takes a new configuration or environment file without dropping requests: a
          I(signal) through supervisor, or a command I(write) into a master I(fifo).
        type: dict
        required: true
        suboptions: &reload
          signal:
            description: Signal sent to the program (exclusive with I(fifo)).
            type: str
            choices: [HUP, USR1, USR2, TERM, INT, QUIT]
          fifo:
            description: Master FIFO to write to (with I(write)).
            type: path
          write:
            description: What to write into I(fifo), such as C(r) or C(c) for uWSGI.
            type: str
      reload_code:
        description: How the running server loads a new release (same keys as I(reload_config)).
        type: dict
        required: true
        suboptions: *reload
  config_changed:
    description: Whether this run changed the server's configuration (flask_app then uses I(server.reload_config)).
    type: bool
    default: false
  restart_needed:
    description: Whether only a new master process takes this run's change (a changed module a master imported once).
    type: bool
    default: false
seealso:
  - module: flaskstack.deploy.check_inputs
"""

EXAMPLES = r"""
- name: Describe gunicorn to flask_app
  flaskstack.deploy.app_server:
    server:
      name: gunicorn
      packages: [gunicorn==23.0.0]
      health_port: 8000
      program:
        command: /srv/shop/current/venv/bin/gunicorn --config /etc/flaskstack/shop/gunicorn.conf.py
        stopwaitsecs: 40
      reload_config: {signal: HUP}
      reload_code: {signal: HUP}
    config_changed: "{{ gunicorn_conf is changed }}"

- name: Use it (in flask_app)
  ansible.builtin.debug:
    msg: "{{ flaskstack_app_server.program.command }}"
"""

RETURN = r"""
flaskstack_app_server:
  description: >-
    The description with defaults applied, plus I(config_changed) and I(restart_needed); also set as the
    host's C(flaskstack_app_server) fact.
  returned: success
  type: dict
  sample:
    name: uwsgi
    packages: [uwsgi==2.0.31]
    build_packages: [build-essential, python3-dev]
    unix_socket: false
    health_port: 9000
    program: {command: /srv/shop/current/venv/bin/uwsgi --ini /etc/flaskstack/shop/uwsgi.ini, startsecs: 3,
              stopsignal: TERM, stopwaitsecs: 40}
    reload_config: {fifo: /srv/shop/shared/uwsgi.fifo, write: r, signal: null}
    reload_code: {fifo: /srv/shop/shared/uwsgi.fifo, write: c, signal: null}
    config_changed: false
    restart_needed: false
"""
