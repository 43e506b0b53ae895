# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""rejoin_wait: seconds until nginx sends a batch its share again (documentation: rejoin_wait.yml)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.values import InputError
from ansible_collections.flaskstack.deploy.plugins.module_utils._pool import rejoin


def rejoin_wait(batch, hostvars, pool_fail_timeout=None):
    """The longest fail_timeout of the batch's hosts in whole seconds, plus one (module_utils/_pool/rejoin.py)."""
    if isinstance(batch, (str, bytes, Mapping)) or not hasattr(batch, "__iter__"):
        raise AnsibleFilterError("rejoin_wait: the input must be a list of host names, such as ansible_play_batch")
    try:
        return rejoin.rejoin_wait([(host, hostvars[host].get(rejoin.HOST_VAR)) for host in batch], pool_fail_timeout)
    except InputError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule(object):
    def filters(self):
        return {"rejoin_wait": rejoin_wait}
