# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How long a rolling update waits after a batch is back in the load balancers' turn.

nginx's passive health check counts the 503s of a drain as failures: after max_fails of them within
fail_timeout, nginx skips the server for fail_timeout. So the next batch is drained only once the longest
fail_timeout of this batch has passed, or nginx could find no server to send a request to.
"""

from __future__ import annotations

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import values

HOST_VAR = "flaskstack_upstream_fail_timeout"
POOL_VAR = "flaskstack_pool_fail_timeout"
NGINX_DEFAULT = "10s"  # fail_timeout when neither is set (nginx's own default)


def _set(value):
    return value is not None and value != ""


def rejoin_wait(batch, pool_fail_timeout=None):
    """Whole seconds to wait: the longest fail_timeout of the batch's servers, rounded up, plus one.

    batch: (host, its flaskstack_upstream_fail_timeout or None) pairs; pool_fail_timeout: the pool's, for
    hosts that set none. Times are read as nginx reads fail_timeout ("1m30s" is 90 s, "1d" 86400 s); a value
    nginx would refuse raises values.InputError naming its variable (and host).
    """
    pool = values.nginx_time_word(POOL_VAR, pool_fail_timeout if _set(pool_fail_timeout) else NGINX_DEFAULT,
                                  seconds=True)
    longest = 0
    for host, own in batch:
        if _set(own):
            time = values.nginx_time_word("%s (host %s)" % (HOST_VAR, host), own, seconds=True)
        else:
            time = pool
        longest = max(longest, time.whole_seconds)
    return longest + 1
