#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_inputs
short_description: Check every variable a user can set for the collection's roles before anything changes
version_added: 0.2.0
description:
  - >-
    Checks the variables of the named roles (and, with V(stack), the playbooks' C(flaskstack_*) settings) that
    are set for the host (inventory, group and host variables, play variables, extra variables, and inside a
    role its defaults) and fails with B(every) bad input at once, one per line, each line starting with the
    variable's name and saying what to set, for example
    C(nginx_upstreams[0].servers[1].port: 70000 is not a port), followed by what to set.
  - >-
    First the role's own C(meta/argument_specs.yml) (types, choices, required options, unknown keys in nested
    entries, checked with ansible-core's ArgumentSpecValidator), then the collection's rules
    (C(plugins/module_utils/inputs.py)) a spec cannot express - ports from 1 to 65535, counts, absolute paths,
    names usable as file names, nginx words without blanks or C(; { } # ' " \) (no directive injection through
    C(server_name)), supervisor options, Python module and callable names, addresses such as C(HOST:PORT) or
    C(unix:/path), and checks across variables (unique site, pool and server entries, sites whose pools exist).
  - Values are templated with the host's variables; where a value refers to another role's default that is not
    in scope (the playbooks' preflight, before any role ran), the collection's C(roles/*/defaults/main.yml) fill
    in. A value that refers to something not defined yet (for example a fact, before facts are gathered) is
    skipped and listed in RV(unresolved); the role checks it again when it runs.
  - Secret values (C(flask_app_secret_key), C(flask_app_env), C(supervisor_inet_http_server_password)) are never
    shown; the message names the variable only.
  - Runs on the controller only (it never connects to the host) and never changes anything.
author:
  - flaskstack.deploy contributors (@flaskstack)
attributes:
  check_mode:
    support: full
    details: It only reads variables; it runs the same in check mode.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - flaskstack.deploy.controller_action
options:
  roles:
    description:
      - The roles whose variables to check. With V(stack), the playbooks' settings of
        C(playbooks/vars/stack.yml) (C(flaskstack_serial), C(flaskstack_pool_*), C(flaskstack_sites),
        C(flaskstack_extra_upstreams), C(flaskstack_server_names), ...); I(nginx_upstreams) and I(nginx_sites)
        are then not checked as nginx variables, because the playbooks make them from those settings.
      - V(flask_app) also checks the host's pool settings read by the C(flaskstack.deploy.upstream_servers)
        filter (C(flaskstack_upstream_address), C(flaskstack_upstream_weight), ...).
    type: list
    elements: str
    required: true
    choices: [flask_app, supervisor, gunicorn, uwsgi, nginx, stack]
  entry_point:
    description:
      - The argument spec entry point of each role to check (a role without it is checked against C(main)).
    type: str
    default: main
notes:
  - The playbooks C(flaskstack.deploy.site), C(rolling_update) and C(rollback) run it first, through
    C(flaskstack.deploy.preflight), on every app host and load balancer before facts are gathered; the roles
    C(flask_app), C(nginx) and C(supervisor) run it as their first task, so a role used alone refuses bad input
    too.
seealso:
  - module: ansible.builtin.validate_argument_spec
  - name: Role argument validation
    description: The argument specs the check starts from.
    link: https://docs.ansible.com/ansible/latest/playbook_guide/playbooks_reuse_roles.html#role-argument-validation
"""

EXAMPLES = r"""
- name: Check the app tier's inputs before anything changes
  flaskstack.deploy.check_inputs:
    roles: [flask_app, supervisor, gunicorn]

- name: Check a load balancer's inputs and the playbooks' settings
  flaskstack.deploy.check_inputs:
    roles: [nginx, stack]

# A failure lists every bad input, for example:
#   3 bad inputs (flask_app, supervisor, gunicorn); nothing was changed:
#   flask_app_port: 70000 is not a port (1-65535); set a TCP port such as 8000
#   flask_app_secret_key: is missing or shorter than 16 characters; set it (from vault), ...
#   gunicorn_worker_class: 'eventlet' is not one of: sync, gthread, gevent
"""

RETURN = r"""
checked:
  description: The variables checked, by role.
  returned: always
  type: dict
  sample: {"flask_app": ["flask_app_name", "flask_app_port"], "stack": ["flaskstack_serial"]}
errors:
  description: One message per bad input, each starting with the variable's name.
  returned: always
  type: list
  elements: str
  sample: ["flask_app_port: 70000 is not a port (1-65535); set a TCP port such as 8000"]
unresolved:
  description: Variables set for the host that refer to something not defined yet (skipped, checked later).
  returned: always
  type: list
  elements: str
  sample: []
ansible_facts:
  description:
    - The normalised inputs of the roles checked that have them (so far V(supervisor) and V(uwsgi)), as the fact
      C(<role>_input), for this run only (not the fact cache). Keys are the variables without their role's
      prefix; the templates render these values. Secrets are left out.
  returned: when every input is valid
  type: dict
  contains:
    supervisor_input:
      description:
        - The supervisor role's inputs; O(roles) includes V(supervisor).
        - C(programs) holds each program with every field filled in, C(groups) the process groups they name.
      returned: when O(roles) includes V(supervisor)
      type: dict
      sample: {"conf_dir": "/etc/supervisor/conf.d", "inet_http_server_enabled": false,
               "programs": [{"name": "web", "command": "/srv/web/bin/run", "autostart": true,
                             "autorestart": "true", "group": ""}], "groups": []}
    uwsgi_input:
      description:
        - The uwsgi role's inputs; O(roles) includes V(uwsgi). C(socket_mode) is four octal digits,
          C(extra_options) a list of (option, value) pairs, one per line of C(uwsgi.ini).
      returned: when O(roles) includes V(uwsgi)
      type: dict
      sample: {"socket_mode": "0660", "threads": 2, "enable_threads": true, "buffer_size": 32768,
               "stats": "127.0.0.1:9191", "logto": "", "extra_options": [["reload-on-rss", "256"]]}
"""
