# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""config_value: a value written in the syntax of the file it lands in (documentation: config_value.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import writers
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.values import InputError

FORMATS = {
    "supervisor": writers.supervisor_value,
    "supervisor_environment": writers.supervisor_environment_value,
    "uwsgi": writers.uwsgi_value,
    "env_file": writers.env_file_value,
    "nginx": writers.nginx_string,
    "python": lambda var, value: writers.python_literal(value),
}


def config_value(value, syntax, var):
    """`value` as `syntax` writes it; an AnsibleFilterError naming `var` for what that syntax cannot hold."""
    if syntax not in FORMATS:
        raise AnsibleFilterError("config_value: unknown syntax %r; use one of %s" % (syntax, ", ".join(FORMATS)))
    try:
        return FORMATS[syntax](var, value)
    except InputError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule(object):
    def filters(self):
        return {"config_value": config_value}
