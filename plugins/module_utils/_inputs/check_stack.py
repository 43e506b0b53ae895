# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The input checks of the playbooks' settings (playbooks/vars/stack.yml) and of each app host's pool
variables (module_utils/inputs.py)."""

from __future__ import annotations

from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.rules import (
    Errors,
    _has,
    _BLANK,
    _NAME,
    as_int,
    at_least,
    nginx_time,
    serial,
    show,
    token,
)
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.check_nginx import nginx_pools_and_sites


# --- The playbooks' settings (playbooks/vars/stack.yml) ------------------------------------------------

POOL_PROTOCOLS = ("auto", "uwsgi", "http")
BALANCES = ("round_robin", "least_conn", "ip_hash")


def drained_batch(serial_value, total):
    """The most app hosts one batch of Ansible's serial takes out of the pool of total (0: none).

    A batch that is the whole pool is not drained (playbooks/vars/stack.yml, flaskstack_stack_batch_drain).
    """
    largest = 0
    for step in serial_value if isinstance(serial_value, list) else [serial_value]:
        step = str(step).strip()
        size = max(int(float(step[:-1]) * total / 100), 1) if step.endswith("%") else int(step)
        if size < total:
            largest = max(largest, size)
    return largest


def check_stack(values, app_hosts=None, next_upstream_tries=None):
    """flaskstack_* settings; app_hosts: the app group's host names, when known (for flaskstack_drained);
    next_upstream_tries: a load balancer's nginx_next_upstream_tries (how many app hosts nginx tries for one
    request), checked against the batch a rolling update drains."""
    e = Errors()
    v = values.get
    for name in ("flaskstack_app_group", "flaskstack_lb_group"):
        if _has(values, name):
            group = v(name)
            if not isinstance(group, str) or not group.strip() or _BLANK.search(group):
                e.add(name, "%s must be a group name or host pattern without blanks" % show(group))
    serial_ok = serial(e, "flaskstack_serial", v("flaskstack_serial")) if _has(values, "flaskstack_serial") else True
    tries = as_int(next_upstream_tries)
    if serial_ok and tries and app_hosts is not None:
        # A drained host answers 503 to what nginx may resend: nginx must be able to try one host more.
        batch = drained_batch(v("flaskstack_serial") if _has(values, "flaskstack_serial") else 1, len(app_hosts))
        if tries <= batch:
            e.add("nginx_next_upstream_tries",
                  "%d lets nginx try %d app host%s for a request, but a rolling update drains up to %d at a time "
                  "(flaskstack_serial %s): set it to at least %d, or 0 (no limit), or lower flaskstack_serial"
                  % (tries, tries, "" if tries == 1 else "s", batch,
                     show(v("flaskstack_serial")) if _has(values, "flaskstack_serial") else "1, the default",
                     batch + 1))
    pool_name = v("flaskstack_pool_name") if _has(values, "flaskstack_pool_name") else "app"
    if _has(values, "flaskstack_pool_name"):
        if not isinstance(pool_name, str) or not _NAME.fullmatch(pool_name):
            e.add("flaskstack_pool_name", "%s is not a usable upstream name: use letters, digits, '_', '.' and '-' "
                                          "only (no blanks)" % show(pool_name))
    if _has(values, "flaskstack_pool_protocol") and v("flaskstack_pool_protocol") not in POOL_PROTOCOLS:
        e.add("flaskstack_pool_protocol",
              "%s is unknown; set auto, uwsgi or http" % show(v("flaskstack_pool_protocol")))
    if _has(values, "flaskstack_pool_balance") and v("flaskstack_pool_balance") not in BALANCES:
        e.add("flaskstack_pool_balance", "%s is unknown; set one of %s" % (show(v("flaskstack_pool_balance")),
                                                                           ", ".join(BALANCES)))
    if _has(values, "flaskstack_pool_max_fails"):
        at_least(e, "flaskstack_pool_max_fails", v("flaskstack_pool_max_fails"), 0)
    if _has(values, "flaskstack_pool_fail_timeout"):
        nginx_time(e, "flaskstack_pool_fail_timeout", v("flaskstack_pool_fail_timeout"), seconds=True)
    if _has(values, "flaskstack_arch_weights"):
        weights = v("flaskstack_arch_weights")
        if not isinstance(weights, dict):
            e.add("flaskstack_arch_weights", "%s must be a mapping of CPU architecture to a factor, such as "
                                             "{x86_64: 2, aarch64: 1}" % show(weights))
        else:
            for arch, factor in weights.items():
                at_least(e, "flaskstack_arch_weights.%s" % arch, factor, 1)
    if _has(values, "flaskstack_server_names"):
        names = v("flaskstack_server_names")
        listed = names if isinstance(names, list) else [names]
        if not listed:
            e.add("flaskstack_server_names", "is empty; give at least one name, such as www.example.com")
        for index, item in enumerate(listed):
            token(e, "flaskstack_server_names" + ("[%d]" % index if isinstance(names, list) else ""), item,
                  "server name")
    if _has(values, "flaskstack_drained"):
        drained = v("flaskstack_drained")
        if not isinstance(drained, list) or not all(isinstance(h, str) for h in drained):
            e.add("flaskstack_drained", "%s must be a list of app host names" % show(drained))
        elif app_hosts is not None:
            strays = [h for h in drained if h not in app_hosts]
            if strays:
                e.add("flaskstack_drained", "%s not in the app group (%s)"
                      % (", ".join(strays), ", ".join(app_hosts) or "empty"))
    known = [pool_name] if isinstance(pool_name, str) else []
    sites = v("flaskstack_sites")
    if sites is not None and not isinstance(sites, list):
        e.add("flaskstack_sites", "%s must be a list of sites (nginx_sites entries)" % show(sites))
        sites = None
    extra = v("flaskstack_extra_upstreams")
    if extra is not None and not isinstance(extra, list):
        e.add("flaskstack_extra_upstreams", "%s must be a list of pools (nginx_upstreams entries)" % show(extra))
        extra = None
    nginx_pools_and_sites(e, "flaskstack_extra_upstreams", extra or [], "flaskstack_sites", sites or [],
                          known_pools=known)
    if isinstance(sites, list) and not sites:
        e.add("flaskstack_sites", "is empty; leave it unset for the default site, or give at least one")
    return e


# Per-host settings of app hosts read by the upstream_servers filter.
