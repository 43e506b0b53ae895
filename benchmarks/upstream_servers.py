# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Time flaskstack.deploy.upstream_servers against a naive Jinja2 loop over hosts and hostvars.

Run from the checkout: .venv/bin/python benchmarks/upstream_servers.py [--repeat N]

Synthetic inventories of 100, 1,000 and 10,000 hosts (gunicorn and uWSGI in http mode, x86_64 / aarch64 /
armv7l facts, a few backup and drained hosts), with plain dicts as hostvars. It prints a markdown table with the
best and the median of N runs after one warm-up run, and for the filter that first run too (it starts with the
filter's memory of host names and addresses emptied). It reports numbers and never fails on them; it exits
non-zero only if the two ways render different server lines (a bug, not a timing).
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import pathlib
import platform
import statistics
import sys
import time

import jinja2

ROOT = pathlib.Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "flaskstack" / "deploy"
if not LINK.exists():  # as tests/unit/conftest.py does: `make venv` makes it, a bare run should work too
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(os.path.relpath(ROOT, LINK.parent))
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.flaskstack.deploy.plugins.filter.upstream_servers import upstream_servers  # noqa: E402
from ansible_collections.flaskstack.deploy.plugins.module_utils.upstreams import DEFAULT_ARCH_WEIGHTS, forget  # noqa: E402

__metaclass__ = type

SIZES = (100, 1000, 10000)
REPEATS = (15, 9, 7)  # runs per measurement by size, unless --repeat
ARCHES = (("x86_64", 4), ("aarch64", 4), ("armv7l", 4), ("x86_64", 16), ("aarch64", 2))

# The server lines of roles/nginx/templates/upstreams.conf.j2, rendering the filter's output.
RENDER = """\
{% macro server_address(s) -%}
{%- if s.address is string and s.address.startswith('unix:') -%}
{{ s.address }}
{%- elif ':' in s.address | string -%}
[{{ s.address }}]:{{ s.port }}
{%- else -%}
{{ s.address }}:{{ s.port }}
{%- endif -%}
{%- endmacro %}
upstream {{ pool.name }} {
{% for s in pool.servers %}
    server {{ server_address(s) }}
{{- (' weight=' ~ s.weight) if s.weight is defined and s.weight | int != 1 else '' -}}
{{- (' max_fails=' ~ s.max_fails) if s.max_fails is defined else '' -}}
{{- (' fail_timeout=' ~ s.fail_timeout) if s.fail_timeout is defined else '' -}}
{{- ' backup' if s.backup | default(false) else '' -}}
{{- ' down' if s.down | default(false) else '' -}}
;
{% endfor %}
}
"""

# What one would write without the filter: the same lookups, done in the template for each host.
# (No validation, no sorting: the hosts are already in order; it trusts every variable.)
NAIVE = """\
upstream {{ name }} {
{% for host in hosts %}
{% set hv = hostvars[host] %}
{% set server = hv.flask_app_server | default('gunicorn') %}
{% set bind = hv.gunicorn_bind if server == 'gunicorn' else hv.uwsgi_socket %}
{% if bind is defined and (bind.startswith('/') or bind.startswith('unix:')) %}
{% set where = 'unix:' ~ (bind[5:] if bind.startswith('unix:') else bind) %}
{% else %}
{% set port = bind.rsplit(':', 1)[1] if bind is defined else hv.flask_app_port | default(8000) %}
{% set address = hv.flaskstack_upstream_address | default(hv.ansible_host | default(host)) %}
{% set where = ('[' ~ address ~ ']' if ':' in address else address) ~ ':' ~ port %}
{% endif %}
{% if hv.flaskstack_upstream_weight is defined %}
{% set weight = hv.flaskstack_upstream_weight | int %}
{% elif hv.ansible_facts is defined %}
{% set weight = hv.ansible_facts.processor_vcpus * arch_weights.get(hv.ansible_facts.architecture, 1) %}
{% else %}
{% set weight = 1 %}
{% endif %}
    server {{ where }}
{{- (' weight=' ~ weight) if weight != 1 else '' -}}
{{- ' backup' if hv.flaskstack_upstream_backup | default(false) else '' -}}
{{- ' down' if host in down or hv.flaskstack_upstream_down | default(false) else '' -}}
;
{% endfor %}
}
"""


def inventory(size):
    hosts = ["app%d" % i for i in range(1, size + 1)]
    hostvars = {}
    for i, host in enumerate(hosts, 1):
        arch, vcpus = ARCHES[i % len(ARCHES)]
        hv = {
            "ansible_host": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255),
            "ansible_facts": {"architecture": arch, "processor_vcpus": vcpus, "processor_count": 1},
            "flask_app_port": 8000,
        }
        if i % 2:
            hv.update(flask_app_server="uwsgi", uwsgi_protocol="http", uwsgi_socket="0.0.0.0:8001")
        else:
            hv.update(flask_app_server="gunicorn", gunicorn_bind="0.0.0.0:8000")
        if i % 97 == 0:
            hv["flaskstack_upstream_backup"] = True
        if i % 101 == 0:
            hv["flaskstack_upstream_down"] = True
        hostvars[host] = hv
    # Hosts of other groups are in hostvars too.
    for i in range(size // 10):
        hostvars["lb%d" % i] = {"ansible_host": "192.0.2.%d" % (i % 250)}
    return hosts, hostvars


def timed(repeat, func):
    """((first, best, median) in seconds, func's result): first is the warm-up run, best and median of the
    repeat runs after it."""
    start = time.perf_counter()
    result = func()
    first = time.perf_counter() - start
    times = []
    for _run in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return (first, min(times), statistics.median(times)), result


def milliseconds(seconds):
    return "%.2f" % (seconds * 1000)


def ratio(slow, fast):
    return "%.1fx" % (slow / fast) if fast > 0 else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=0,
        help="runs per measurement (default: %s by size)" % ", ".join(str(r) for r in REPEATS),
    )
    args = parser.parse_args()

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.Undefined)
    render = env.from_string(RENDER)
    naive = env.from_string(NAIVE)
    arch_weights = dict(DEFAULT_ARCH_WEIGHTS)  # what the filter uses when not told otherwise

    rows = []
    mismatches = []
    for size, default_repeat in zip(SIZES, REPEATS):
        repeat = max(args.repeat or default_repeat, 1)
        hosts, hostvars = inventory(size)
        down = ["app%d" % (size // 2)]

        forget()  # the first run starts cold: no host name or address seen before
        t_filter, pool = timed(repeat, lambda: upstream_servers(hosts, hostvars, down=down))
        t_both, text = timed(repeat, lambda: render.render(pool=upstream_servers(hosts, hostvars, down=down)))
        t_naive, naive_text = timed(
            repeat,
            lambda: naive.render(name="app", hosts=hosts, hostvars=hostvars, down=down, arch_weights=arch_weights),
        )
        if text.split() != naive_text.split():
            mismatches.append(size)
        rows.append((size, len(pool["servers"]), repeat, t_filter, t_both, t_naive))

    print("## upstream_servers benchmark")
    print()
    print("Python %s, Jinja2 %s, %s, os.cpu_count() = %s" % (
        platform.python_version(), jinja2.__version__, platform.machine(), os.cpu_count()))
    print()
    print("| hosts | servers | runs | filter (ms) first | best | median | filter + render (ms) best | median "
          "| naive Jinja2 loop (ms) best | median | naive / filter | naive / (filter + render) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, count, repeat, t_filter, t_both, t_naive in rows:
        print("| {:,} | {:,} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            size, count, repeat,
            milliseconds(t_filter[0]), milliseconds(t_filter[1]), milliseconds(t_filter[2]),
            milliseconds(t_both[1]), milliseconds(t_both[2]),
            milliseconds(t_naive[1]), milliseconds(t_naive[2]),
            ratio(t_naive[2], t_filter[2]), ratio(t_naive[2], t_both[2])))
    print()
    print("filter: upstream_servers on plain dicts (validation, natural sort, weights from facts).")
    print("filter + render: that, then the nginx role's server lines rendered from its output.")
    print("naive: one Jinja2 template doing the hostvars lookups itself (no validation, no sorting).")
    print("first: the warm-up run, which fills the filter's memory of host names and addresses (a playbook")
    print("renders the same pool for every task and load balancer); best and median: the runs after it.")
    print("The ratios compare medians.")
    if mismatches:
        print()
        print("MISMATCH: the filter and the naive loop rendered different server lines for %s hosts"
              % ", ".join(str(m) for m in mismatches))
        return 1
    print("Both render identical server lines at every size.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
