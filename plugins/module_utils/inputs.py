# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rules every user-settable variable of the collection's roles and playbooks must follow.

Types, choices and required options are the roles' ``meta/argument_specs.yml`` (checked by the
``flaskstack.deploy.check_inputs`` action with ansible-core's ArgumentSpecValidator); this file holds what a
spec cannot say: ranges, paths, names nginx / supervisor / Python can use, and checks across variables.

The rules live in the private package ``_inputs``, by owner: ``rules`` (single values), ``check_app``
(flask_app, gunicorn, uwsgi, supervisor), ``check_nginx``, ``check_stack`` (the playbooks' settings).

Pure Python: ``check(role, values)`` returns a list of messages, each starting with the variable's name
(``nginx_upstreams[0].servers[1].port: 70000 is not a port (1-65535)``), saying what is wrong and what to
set. Secret values (``flask_app_secret_key``, ``flask_app_env``, ``supervisor_inet_http_server_password``)
are never printed. A variable missing from ``values`` is not checked.
"""

from __future__ import annotations

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.check_app import (
    check_flask_app,
    check_gunicorn,
    check_supervisor,
    check_uwsgi,
)
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.check_nginx import check_nginx
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.check_stack import check_stack
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.rules import ROLES, SECRETS, show

__all__ = ("ROLES", "SECRETS", "check", "show")


def check(role, values, **kwargs):
    """The rules of one role ('stack' for the playbooks' settings) for the values given."""
    checks = {
        "flask_app": check_flask_app,
        "gunicorn": check_gunicorn,
        "uwsgi": check_uwsgi,
        "supervisor": check_supervisor,
        "nginx": check_nginx,
        "stack": check_stack,
    }
    if role not in checks:
        raise ValueError("unknown role %r; use one of %s" % (role, ", ".join(ROLES)))
    return list(checks[role](values, **kwargs))
