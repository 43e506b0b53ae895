# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What benchmarks/stack.py makes of its measurements: ratios, the markdown report and the plot.

No I/O but the plot file. A row is one wrk run: a dict with target (role, role-port, direct:<host>, dev,
seed000, seed002), label, short (the plot's name), backends, rps, p99_ms, requests and failed.
"""

import collections
import dataclasses

Ratio = collections.namedtuple("Ratio", "key text value")

NOT_MEASURED = "n/a (a target was not measured in this run)"

# Bar colours of the plot: the role stack, the hand-written recipes, everything else (hosts hit directly, dev server).
COLOURS = {"role": "#2b6cb0", "seed": "#dd6b20", "other": "#a0aec0"}


@dataclasses.dataclass
class RunInfo:
    """What the report says about the run itself."""

    date: str
    cores: int
    machine: str
    duration: int
    connections: int


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _field(row, name):
    return row[name] if row else None


def compute_ratios(rows, dev_host):
    """The ratios the report gives, each None where a target it needs was not measured."""
    by_target = {row["target"]: row for row in rows}
    role, seed000, seed002, dev = (by_target.get(name) for name in ("role", "seed000", "seed002", "dev"))
    direct = [row for row in rows if row["target"].startswith("direct:")]
    direct_rps = [row["rps"] for row in direct]
    dev_direct = by_target.get("direct:" + dev_host)
    return [
        Ratio("role/seed000 rps", "role stack / seed-000, requests/s", ratio(_field(role, "rps"), _field(seed000, "rps"))),
        Ratio("role/seed000 p99", "role stack / seed-000, p99 latency", ratio(_field(role, "p99_ms"), _field(seed000, "p99_ms"))),
        Ratio("role/seed002 rps", "role stack / seed-002, requests/s", ratio(_field(role, "rps"), _field(seed002, "rps"))),
        Ratio("role/seed002 p99", "role stack / seed-002, p99 latency", ratio(_field(role, "p99_ms"), _field(seed002, "p99_ms"))),
        Ratio(
            "proxy/sum",
            "proxy overhead: role stack (through lb1) / sum of the app hosts hit directly, requests/s",
            ratio(_field(role, "rps"), sum(direct_rps) if direct_rps else None),
        ),
        Ratio(
            "proxy/best",
            "proxy overhead: role stack (through lb1) / the fastest app host hit directly, requests/s",
            ratio(_field(role, "rps"), max(direct_rps) if direct_rps else None),
        ),
        Ratio("role/dev", "role stack / the Flask development server, requests/s", ratio(_field(role, "rps"), _field(dev, "rps"))),
        Ratio(
            "direct/dev",
            "%s hit directly / the Flask development server on the same host, requests/s" % dev_host,
            ratio(_field(dev_direct, "rps"), _field(dev, "rps")),
        ),
    ]


def format_ratio(value):
    return NOT_MEASURED if value is None else "%.2f" % value


def results_table(rows):
    lines = [
        "| target | backends | requests/s | p99 latency | requests | failed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            "| %s | %s | %.0f | %.1f ms | %d | %d |"
            % (row["label"], row["backends"], row["rps"], row["p99_ms"], row["requests"], row["failed"])
        )
    return lines


def details(summary, text, language=""):
    """A collapsed code block (GitHub renders <details>)."""
    return ["<details><summary>%s</summary>" % summary, "", "```" + language, text.rstrip("\n"), "```", "", "</details>", ""]


def render_report(info, rows, ratios, target_sections, site=None, plot_link=None):
    """docs/benchmarks/stack.md. target_sections: markdown lines saying what each target is; site: (seconds, changed)."""
    lines = [
        "# Benchmarks",
        "",
        "Measured by `benchmarks/stack.py` (`make bench`) on the running lab (`make lab`), every figure in one run,",
        "one target after the other with the same wrk settings. Numbers vary from run to run and machine to machine;",
        "only the ratios within one run mean much. They never fail CI.",
        "",
        "- Date: %s" % info.date,
        "- Machine: %d cores (`os.cpu_count()`), %s; the lab's containers share them, app3 is arm64 under qemu"
        % (info.cores, info.machine),
        "- wrk: 2 threads, %d connections, %d s per target, new requests on keep-alive connections"
        % (info.connections, info.duration),
        "",
    ]
    if plot_link:
        lines += ["![requests/s and p99 latency per target, same run](%s)" % plot_link, ""]
    lines += results_table(rows)
    lines += [
        "",
        "Ratios (same run; above 1 in requests/s, or below 1 in p99 latency, favours the role stack):",
        "",
    ]
    lines += ["- %s: %s" % (item.text, format_ratio(item.value)) for item in ratios]
    if site is not None:
        lines += [
            "",
            "No-op re-run of `site.yml` on the lab after the benchmark's teardown (4 hosts, one emulated arm64):"
            " %.0f s, changed=%d." % site,
        ]
    lines += ["", "## What each target is", ""]
    lines += target_sections
    lines += [
        "## Reading the numbers",
        "",
        "All hosts run on one 2-core machine, so the load balancer, the app hosts and wrk compete for the same",
        "cores: through-the-balancer figures here measure the stack's overhead, not the scaling a cluster of",
        "separate machines would show. Through the balancer every request costs nginx's CPU as well as an app",
        "server's, and part of the requests go to the emulated arm64 host, where qemu spends several times the",
        "CPU of an x86 request: the role stack weights its hosts by architecture, the recipes' upstreams do not",
        "(equal round robin, as they are written), so they send that host an equal share. The recipes' servers run",
        "beside the role stack's on the same containers; each stack is idle while another is measured.",
        "",
    ]
    return "\n".join(lines)


def colour(target):
    if target.startswith("role"):
        return COLOURS["role"]
    if target.startswith("seed"):
        return COLOURS["seed"]
    return COLOURS["other"]


def plot_results(rows, path, title):
    """requests/s and p99 latency per target, side by side, as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = [row["short"] for row in rows]
    colours = [colour(row["target"]) for row in rows]
    positions = list(range(len(rows)))
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 1.5 + 0.45 * len(rows)), sharey=True)
    for axes, key, label, fmt in (
        (left, "rps", "requests/s (higher is better)", "%.0f"),
        (right, "p99_ms", "p99 latency, ms (lower is better)", "%.1f"),
    ):
        bars = axes.barh(positions, [row[key] for row in rows], color=colours)
        axes.bar_label(bars, fmt=fmt, padding=3, fontsize=8)
        axes.set_xlabel(label)
        axes.margins(x=0.15)
        axes.grid(axis="x", alpha=0.3)
    left.set_yticks(positions, names)
    left.invert_yaxis()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
