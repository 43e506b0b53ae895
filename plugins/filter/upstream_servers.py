# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""upstream_servers: a group's hosts as one nginx upstream pool.

DOCUMENTATION, EXAMPLES and RETURN are in upstream_servers.yml beside this file (what ansible-doc reads for
``ansible-doc -t filter flaskstack.deploy.upstream_servers``). The steps live in module_utils/upstreams.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from jinja2 import Undefined

from ansible_collections.flaskstack.deploy.plugins.module_utils.app_servers import DEFAULT_POOL_NAME
from ansible_collections.flaskstack.deploy.plugins.module_utils.upstreams import AUTO, UpstreamError, upstream_pool


def upstream_servers(
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
):
    """Return one pool for the nginx role's ``nginx_upstreams``: name, protocol, servers (+ balance, keepalive)."""
    try:
        return upstream_pool(
            hosts,
            hostvars,
            name=name,
            protocol=protocol,
            down=down,
            max_fails=max_fails,
            fail_timeout=fail_timeout,
            arch_weights=arch_weights,
            balance=balance,
            keepalive=keepalive,
            undefined=Undefined,
        )
    except UpstreamError as exc:
        # The message says what to fix; the cause (a variable that failed to render) stays attached.
        raise AnsibleFilterError(str(exc)) from exc.__cause__


class FilterModule(object):
    """flaskstack.deploy filters: upstream_servers."""

    def filters(self):
        return {"upstream_servers": upstream_servers}
