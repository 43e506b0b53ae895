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

import inspect

from ansible.errors import AnsibleFilterError
from jinja2 import Undefined

from ansible_collections.flaskstack.deploy.plugins.module_utils.upstreams import UpstreamError, upstream_pool


def upstream_servers(hosts, *args, **kwargs):
    """Return one pool for the nginx role's ``nginx_upstreams``: name, protocol, servers (+ balance, keepalive).

    Takes upstream_pool's arguments but ``undefined`` (SIGNATURE): a variable that cannot be rendered is a
    jinja2.Undefined here.
    """
    try:
        call = SIGNATURE.bind(hosts, *args, **kwargs)
    except TypeError as exc:
        raise AnsibleFilterError(
            "upstream_servers: %s; its arguments are %s (ansible-doc -t filter flaskstack.deploy.upstream_servers)"
            % (exc, ", ".join(list(SIGNATURE.parameters)[1:]))
        ) from None
    try:
        return upstream_pool(*call.args, undefined=Undefined, **call.kwargs)
    except UpstreamError as exc:
        # The message says what to fix; the cause (a variable that failed to render) stays attached.
        raise AnsibleFilterError(str(exc)) from exc.__cause__


_POOL = inspect.signature(upstream_pool)
SIGNATURE = _POOL.replace(parameters=[p for p in _POOL.parameters.values() if p.name != "undefined"])
# What inspect (and the documentation test) sees; a call, as ansible-doc reads assignments looking for DOCUMENTATION.
setattr(upstream_servers, "__signature__", SIGNATURE)


class FilterModule(object):
    """flaskstack.deploy filters: upstream_servers."""

    def filters(self):
        return {"upstream_servers": upstream_servers}
