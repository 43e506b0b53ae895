#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Count the requests gunicorn's gthread workers fail through graceful reloads and recycles, side by side in
one run: gunicorn 23.0.0's stock worker, 23.0.0 with the gunicorn role's DrainingThreadWorker, 27.0.1's stock
worker; hit directly and behind a local nginx.

Why: the gunicorn role pins gunicorn 23.0.0 and runs it with a worker of its own, DrainingThreadWorker
(roles/gunicorn/files/flaskstack_gunicorn_worker.py), because 23.0.0's stock gthread worker drops a few
connections whenever a worker exits gracefully (a HUP, a TTOU, a max_requests recycle; upstream issue
benoitc/gunicorn#3394). gunicorn 27's rewritten gthread worker drains on a direct HUP (stops accepting, serves
what it accepted, keeps kept-alive connections about 2 s). The role tried 27.0.1 and went back to 23.0.0:
behind nginx, which keeps kept-alive connections to gunicorn (`keepalive 32` in the upstream), a recycling 27
worker was seen closing connections nginx was reusing (the project's rolling-update test: "upstream
prematurely closed connection", "connection reset by peer"); nginx marked the host failed for fail_timeout
and, the other host draining, answered 502. The nginx modes look for those upstream errors here. What they
measured on 2026-12-07 (docs/benchmarks.md): upstream errors from 23.0.0's stock worker (27 in 40 s; with the
other server draining, 5 of them meant 502s for most of the run), none from the role's DrainingThreadWorker or
27.0.1's stock worker; the 27.0.1 failure of the rolling-update test did not reproduce on one machine over
loopback.

What runs, for every variant (--variants: <version>-stock or <version>-draining; each version from its own
scratch virtualenv under --cache-dir, made once with pip and `gunicorn==<version>` only, reused while its
pins match) and mode (--modes), one after the other:
  server  gunicorn -w <workers> --threads 2 --keep-alive 5 -b 127.0.0.1:<a free port>, a WSGI app written to
          a temporary directory that answers 200 "ok"; -k gthread (stock), or (draining) the role's worker as
          the role uses it: -k flaskstack_gunicorn_worker.DrainingThreadWorker with --pythonpath
          roles/gunicorn/files, the module read from this checkout
  modes   hup: 3 workers, HUPs only; hup+max_requests: 3 workers, HUPs and --max-requests 200
          --max-requests-jitter 50;
          nginx: 5 workers with the role's recycling defaults (--max-requests 1000 --max-requests-jitter 100),
          no HUP, 20 s of load sent to a local nginx (the `nginx` on PATH, or --nginx) with its own prefix and
          configuration in the temporary directory, listening on 127.0.0.1 only, 1 worker process, proxying to
          gunicorn as the nginx role does: an upstream with `keepalive 32` and `max_fails=1 fail_timeout=10s`,
          `proxy_http_version 1.1`, `proxy_set_header Connection ""`, `proxy_next_upstream error timeout
          http_502 http_503 http_504`, `proxy_next_upstream_tries 2`;
          nginx+draining: the same, the upstream holding a second server that answers 503 to everything (a
          host a rolling update drains), so that nginx has gunicorn alone to send to, as in the rolling update
          that answered 502
  load    2 client threads opening a new connection per request (Connection: close) and 4 reusing kept-alive
          HTTP/1.1 connections (a new one after Connection: close or an error), back to back, 5 s timeout
  reloads hup modes: --hups HUPs to the master, one every 1.5 s, the load running from 1.5 s before the first
          to 3 s after the last; then the load stops, nginx and the server get TERM (KILL for their process
          groups after 3 s)
A failure is a status other than 200 or any exception (reset, refused, closed without an answer, timeout). In
the nginx modes it also counts nginx's error log lines about the gunicorn upstream: connection errors
("upstream prematurely closed connection", "(104: Connection reset by peer)", ...), and "upstream server
temporarily disabled" / "no live upstreams". Without nginx the nginx modes are skipped, and the report says so.
A hup variant takes 4.5 s + 1.5 s per HUP of load, plus its start and stop: about 18 s with the default 8 HUPs,
at most about 32 s; an nginx variant about 24 s, at most about 47 s. All 12 variants: about 4 minutes per
--repeat, which runs all of them again, interleaved; the report lists every run.

It writes a Markdown report (--report) and, when matplotlib is importable (benchmarks/requirements.txt), a
plot (--plot). It never fails on a number; it exits non-zero only if the benchmark could not run (a virtualenv
that pip could not make, a gunicorn or nginx that did not start or died). Load goes only to 127.0.0.1.

Usage (from the checkout root):
  .venv/bin/python benchmarks/gunicorn_reload.py [--hups 8] [--repeat 1]
      [--variants 23.0.0-stock,23.0.0-draining,27.0.1-stock] [--modes hup,hup+max_requests,nginx,nginx+draining]
"""

import argparse
import collections
import dataclasses
import datetime
import grp
import hashlib
import http.client
import json
import os
import pathlib
import platform
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The gunicorn role's worker, used from the checkout as the role uses it (its directory on gunicorn's path).
WORKER_FILE = ROOT / "roles" / "gunicorn" / "files" / "flaskstack_gunicorn_worker.py"
WORKER_CLASS = "flaskstack_gunicorn_worker.DrainingThreadWorker"
VARIANTS = ("23.0.0-stock", "23.0.0-draining", "27.0.1-stock")
WORKER_KINDS = ("stock", "draining")
WIDTH = 115  # the report's prose lines, as in the other reports
HOST = "127.0.0.1"  # the only address the servers bind and the clients use
THREADS = 2
KEEP_ALIVE = 5
MAX_REQUESTS = 200
MAX_REQUESTS_JITTER = 50
ROLE_WORKERS = 5  # the nginx modes: the role's recycling defaults, a few more workers
ROLE_MAX_REQUESTS = 1000
ROLE_MAX_REQUESTS_JITTER = 100
FRESH_CLIENTS = 2
KEPT_ALIVE_CLIENTS = 4
HUP_INTERVAL = 1.5  # seconds between HUPs, and of load before the first
SETTLE = 3.0  # seconds of load after the last HUP: the old workers' draining (27: up to 2 s) happens under load
NGINX_LOAD = 20.0  # seconds of load in the nginx modes (no HUP: max_requests recycles the workers)
START_TIMEOUT = 8  # seconds gunicorn has to answer its first request (and boot its workers)
NGINX_START_TIMEOUT = 5
CLIENT_TIMEOUT = 5
STOP_TIMEOUT = 3  # seconds between TERM and KILL, the load stopped: no connection left to drain
PIP_TIMEOUT = 600
KINDS = ("fresh", "kept-alive")
# nginx as the nginx role configures an HTTP pool (roles/nginx/templates/upstreams.conf.j2, site.conf.j2)
UPSTREAM = "gunicorn"
UPSTREAM_KEEPALIVE = 32
MAX_FAILS = 1
FAIL_TIMEOUT = 10
NEXT_UPSTREAM = "error timeout http_502 http_503 http_504"
NEXT_UPSTREAM_TRIES = 2


@dataclasses.dataclass(frozen=True)
class Mode:
    """How a variant runs: the table's text, the plot's and the summary's, gunicorn's options, HUPs or not,
    and nginx in front ("" none, "alone": gunicorn the only server, "draining": a second server answering 503)."""

    text: str
    short: str
    workers: int
    options: tuple = ()
    hups: bool = True
    nginx: str = ""


RECYCLES = ("--max-requests", str(MAX_REQUESTS), "--max-requests-jitter", str(MAX_REQUESTS_JITTER))
ROLE_RECYCLES = ("--max-requests", str(ROLE_MAX_REQUESTS), "--max-requests-jitter", str(ROLE_MAX_REQUESTS_JITTER))
MODES = {
    "hup": Mode("HUPs", "HUPs only", 3),
    "hup+max_requests": Mode("HUPs + max_requests %d (jitter %d)" % (MAX_REQUESTS, MAX_REQUESTS_JITTER),
                             "HUPs + max_requests", 3, RECYCLES),
    "nginx": Mode("behind nginx: max_requests %d (jitter %d), no HUP" % (ROLE_MAX_REQUESTS, ROLE_MAX_REQUESTS_JITTER),
                  "behind nginx", ROLE_WORKERS, ROLE_RECYCLES, False, "alone"),
    "nginx+draining": Mode("behind nginx, the other server draining (503): max_requests %d (jitter %d), no HUP"
                           % (ROLE_MAX_REQUESTS, ROLE_MAX_REQUESTS_JITTER),
                           "behind nginx, other server draining", ROLE_WORKERS, ROLE_RECYCLES, False, "draining"),
}
APP = '''def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''
VERSION = r"[0-9]+(\.[0-9]+)*((a|b|rc|\.post|\.dev)[0-9]+)?"
VARIANT_RE = re.compile(r"^(?P<version>%s)(-(?P<worker>[a-z]+))?$" % VERSION)
BOOT_RE = re.compile(r"Booting worker with pid")
# nginx's error log about an upstream: (what the report calls it, the words in the line), checked in order.
NGINX_EVENTS = (
    ("prematurely closed", "upstream prematurely closed connection"),
    ("reset by peer", "(104: Connection reset by peer)"),
    ("broken pipe", "(32: Broken pipe)"),
    ("refused", "(111: Connection refused)"),
    ("timed out", "timed out"),
    ("temporarily disabled", "upstream server temporarily disabled"),
    ("no live upstreams", "no live upstreams"),
)
NOT_CONNECTION_ERRORS = ("temporarily disabled", "no live upstreams")  # consequences, not errors of a connection
# Settings the server must not pick up from the environment this script runs in.
DROPPED_ENV = ("GUNICORN_CMD_ARGS", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


class BenchError(Exception):
    """The benchmark could not run (not a number: a setup that failed)."""


@dataclasses.dataclass
class ClientResult:
    """What one client thread saw."""

    kind: str
    requests: int = 0
    failed: int = 0
    connections: int = 0
    errors: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def fail(self, what):
        self.failed += 1
        self.errors[what] += 1


@dataclasses.dataclass
class RunInfo:
    """What the report says about the run itself."""

    date: str
    nproc: int
    machine: str
    python: str
    loadavg: tuple
    variants: list
    modes: list
    hups: int
    repeat: int
    nginx: str = ""  # "nginx/1.22.1", or "" when the nginx modes did not run
    skipped: str = ""  # why modes were left out
    worker_sha: str = ""  # the role's worker module as read from the checkout


# --- Pure parts: options, variants, nginx's configuration and log, tallies, the report --------------------


def parse_variant(text):
    """"23.0.0" or "23.0.0-stock" -> "23.0.0-stock"; "23.0.0-draining" -> "23.0.0-draining"."""
    match = VARIANT_RE.match(text)
    if not match or (match.group("worker") or "stock") not in WORKER_KINDS:
        raise ValueError(text)
    return "%s-%s" % (match.group("version"), match.group("worker") or "stock")


def parse_variants(text):
    items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        variants = [parse_variant(item) for item in items]
    except ValueError:
        variants = []
    if not variants:
        raise argparse.ArgumentTypeError(
            "not a list of gunicorn variants such as 23.0.0-stock,23.0.0-draining,27.0.1-stock: %r" % text)
    return list(dict.fromkeys(variants))


def parse_modes(text):
    modes = [item.strip() for item in text.split(",") if item.strip()]
    if not modes or any(mode not in MODES for mode in modes):
        raise argparse.ArgumentTypeError("not a list of modes from %s: %r" % (",".join(MODES), text))
    return [mode for mode in MODES if mode in modes]


def variant_version(variant):
    return variant.rsplit("-", 1)[0]


def variant_worker(variant):
    return variant.rsplit("-", 1)[1]


def variant_label(variant):
    """The variant's name in the report: "23.0.0 stock gthread", "23.0.0 + the role's DrainingThreadWorker"."""
    if variant_worker(variant) == "draining":
        return "%s + the role's DrainingThreadWorker" % variant_version(variant)
    return "%s stock gthread" % variant_version(variant)


def at_least(minimum):
    def convert(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError("%d is below %d" % (value, minimum))
        return value

    convert.__name__ = "integer"  # argparse's message for a value int() refuses: "invalid integer value"
    return convert


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hups", type=at_least(0), default=8, help="HUPs per hup variant, 1.5 s apart (default 8)")
    parser.add_argument("--repeat", type=at_least(1), default=1, help="runs of every variant (default 1)")
    parser.add_argument("--variants", type=parse_variants, default=list(VARIANTS),
                        help="gunicorn versions and workers, comma-separated: <version>-stock (gunicorn's gthread)"
                        " or <version>-draining (the role's DrainingThreadWorker) (default %s)" % ",".join(VARIANTS))
    parser.add_argument("--modes", type=parse_modes, default=list(MODES),
                        help="comma-separated (default %s)" % ",".join(MODES))
    parser.add_argument("--nginx", default=shutil.which("nginx"),
                        help="the nginx binary for the nginx modes (default: `nginx` on PATH; none: they are skipped)")
    parser.add_argument("--report", default=str(ROOT / "docs" / "benchmarks" / "gunicorn_reload.md"),
                        help="the Markdown report (default docs/benchmarks/gunicorn_reload.md)")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "benchmarks" / "gunicorn_reload.png"),
                        help="the PNG plot, drawn when matplotlib is importable"
                        " (default docs/benchmarks/gunicorn_reload.png)")
    parser.add_argument("--cache-dir", default=str(ROOT / ".cache" / "bench"),
                        help="where the virtualenvs gunicorn-<version> live (default .cache/bench)")
    return parser.parse_args(argv)


def pins(version):
    return ["gunicorn==%s" % version]


def venv_dir(cache_dir, version):
    return pathlib.Path(cache_dir) / ("gunicorn-%s" % version)


def gunicorn_argv(gunicorn, variant, mode, port, app_dir, worker_dir=WORKER_FILE.parent):
    if variant_worker(variant) == "draining":
        worker = ["-k", WORKER_CLASS, "--pythonpath", str(worker_dir)]
    else:
        worker = ["-k", "gthread"]
    return [str(gunicorn)] + worker + ["-w", str(MODES[mode].workers), "--threads", str(THREADS),
                                       "--keep-alive", str(KEEP_ALIVE), "-b", "%s:%d" % (HOST, port),
                                       "--chdir", str(app_dir)] + list(MODES[mode].options) + ["app:application"]


def nginx_conf(prefix, port, gunicorn_port, draining_port=None, user=None):
    """nginx.conf for the nginx modes: everything under prefix, 127.0.0.1 only, the nginx role's proxying."""
    prefix = str(prefix)
    servers = ["        server %s:%d max_fails=%d fail_timeout=%ds;" % (HOST, gunicorn_port, MAX_FAILS, FAIL_TIMEOUT)]
    draining = []
    if draining_port:
        servers.append("        server %s:%d max_fails=%d fail_timeout=%ds;  # a host a rolling update drains"
                       % (HOST, draining_port, MAX_FAILS, FAIL_TIMEOUT))
        draining = [
            "    server {",
            "        listen %s:%d;" % (HOST, draining_port),
            "        location / {",
            "            return 503;",
            "        }",
            "    }",
        ]
    lines = ["daemon off;", "worker_processes 1;"]
    if user:
        lines.append("user %s;" % user)
    lines += [
        "pid %s/nginx.pid;" % prefix,
        "error_log %s/error.log warn;" % prefix,
        "events {",
        "    worker_connections 1024;",
        "}",
        "http {",
        "    access_log off;",
    ]
    temp_paths = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    lines += ["    %s_temp_path %s/%s;" % (name, prefix, name) for name in temp_paths]
    lines += ["    upstream %s {" % UPSTREAM] + servers + [
        "        keepalive %d;" % UPSTREAM_KEEPALIVE,
        "    }",
        "    server {",
        "        listen %s:%d;" % (HOST, port),
        "        location / {",
        "            proxy_pass http://%s;" % UPSTREAM,
        "            proxy_http_version 1.1;",
        "            proxy_set_header Connection \"\";",
        "            proxy_set_header Host $host;",
        "            proxy_next_upstream %s;" % NEXT_UPSTREAM,
        "            proxy_next_upstream_tries %d;" % NEXT_UPSTREAM_TRIES,
        "            proxy_connect_timeout 5s;",
        "            proxy_read_timeout 60s;",
        "        }",
        "    }",
    ] + draining + ["}"]
    return "\n".join(lines) + "\n"


def nginx_argv(nginx, prefix):
    prefix = str(prefix)
    return [str(nginx), "-p", prefix + "/", "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"]


def nginx_upstream_events(log_text, gunicorn_port):
    """nginx's error log lines about the gunicorn upstream (its address, or the pool's name in "no live
    upstreams"), counted by what they say; lines on the client's side ("while sending to client") left out."""
    names = ('upstream: "http://%s:%d/' % (HOST, gunicorn_port), 'upstream: "http://%s/' % UPSTREAM)
    events = collections.Counter()
    for line in log_text.splitlines():
        if not any(name in line for name in names):
            continue
        message = line.split(", client: ", 1)[0]
        if "upstream" not in message:
            continue
        for label, words in NGINX_EVENTS:
            if words in message:
                events[label] += 1
                break
        else:
            events["other"] += 1
    return events


def upstream_errors(events):
    """The connection errors among nginx's upstream events (not the "temporarily disabled" that follow)."""
    if events is None:
        return None
    return sum(count for label, count in events.items() if label not in NOT_CONNECTION_ERRORS)


def count_boots(log_text):
    """Workers the master started (the first ones, then one per exit: HUPs and recycles)."""
    return len(BOOT_RE.findall(log_text))


def tally(variant, mode, run, results, boots=None, seconds=None, nginx=None):
    """One row of the report from the client threads' results of one variant's run (nginx: its upstream events)."""
    row = {"variant": variant, "mode": mode, "run": run, "boots": boots, "seconds": seconds,
           "errors": collections.Counter(), "nginx": nginx}
    for kind in KINDS:
        mine = [result for result in results if result.kind == kind]
        row[kind] = {
            "clients": len(mine),
            "requests": sum(result.requests for result in mine),
            "failed": sum(result.failed for result in mine),
            "connections": sum(result.connections for result in mine),
        }
        for result in mine:
            row["errors"].update(result.errors)
    return row


def number(value):
    return "n/a" if value is None else "{:,}".format(value)


def errors_text(errors):
    if not errors:
        return "—"
    return ", ".join("%s × %s" % (name, number(count))
                     for name, count in sorted(errors.items(), key=lambda i: (-i[1], i[0])))


def nginx_text(events):
    """nginx's upstream events: the connection errors, then what nginx did about them (disabled the server, found
    no live upstream)."""
    if events is None:
        return "—"
    errors = {label: count for label, count in events.items() if label not in NOT_CONNECTION_ERRORS}
    after = {label: count for label, count in events.items() if label in NOT_CONNECTION_ERRORS}
    return "; ".join(errors_text(part) for part in (errors, after) if part) or "—"


def render_table(rows):
    lines = [
        "| gunicorn | mode | run | fresh: requests | fresh: failed | kept-alive: requests | kept-alive: failed "
        "| kept-alive: connections | workers booted | failures seen | nginx: upstream errors | nginx's log |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for row in rows:
        fresh, kept = row["fresh"], row["kept-alive"]
        nginx = row.get("nginx")
        lines.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            variant_label(row["variant"]), MODES[row["mode"]].text, row["run"], number(fresh["requests"]),
            number(fresh["failed"]), number(kept["requests"]), number(kept["failed"]), number(kept["connections"]),
            number(row["boots"]), errors_text(row["errors"]),
            "—" if nginx is None else number(upstream_errors(nginx)), nginx_text(nginx)))
    return lines


def totals(rows):
    """{(variant, mode): {runs, requests, failed, fresh, kept, upstream, events}} in the rows' order."""
    result = {}
    for row in rows:
        item = result.setdefault((row["variant"], row["mode"]), {
            "runs": 0, "requests": 0, "failed": 0, "fresh": 0, "kept": 0, "upstream": None,
            "events": collections.Counter()})
        item["runs"] += 1
        item["requests"] += row["fresh"]["requests"] + row["kept-alive"]["requests"]
        item["failed"] += row["fresh"]["failed"] + row["kept-alive"]["failed"]
        item["fresh"] += row["fresh"]["failed"]
        item["kept"] += row["kept-alive"]["failed"]
        if row.get("nginx") is not None:
            item["upstream"] = (item["upstream"] or 0) + upstream_errors(row["nginx"])
            item["events"].update(row["nginx"])
    return result


def summary(rows, hups):
    """What the rows show: a sentence on the runs, one bullet per mode, one sentence on nginx's upstream errors."""
    if not rows:
        return ["Nothing was measured."]
    by_variant = totals(rows)
    runs = max(item["runs"] for item in by_variant.values())
    lines = ["Totals over %s:" % ("%d runs of each variant" % runs if runs > 1 else "one run of each variant")]
    modes = list(dict.fromkeys(row["mode"] for row in rows))
    for mode in modes:
        parts = []
        for (variant, one_mode), item in by_variant.items():
            if one_mode != mode:
                continue
            text = "%s failed %s of %s requests" % (variant_label(variant), number(item["failed"]),
                                                    number(item["requests"]))
            if item["failed"]:
                text += " (%s on fresh connections, %s on kept-alive ones)" % (
                    number(item["fresh"]), number(item["kept"]))
            if item["upstream"] is not None:
                text += ", nginx logged %s upstream errors%s" % (
                    number(item["upstream"]), " (%s)" % nginx_text(item["events"]) if item["events"] else "")
            parts.append(text)
        what = MODES[mode].short + (" (%d HUP%s per run)" % (hups, "" if hups == 1 else "s") if MODES[mode].hups else
                                    " (%.0f s of load per run, no HUP)" % NGINX_LOAD)
        lines.append("- %s: %s." % (what, "; ".join(parts)))
    behind = [(variant, item) for (variant, mode), item in by_variant.items() if MODES[mode].nginx]
    if behind:
        with_errors = list(dict.fromkeys(variant_label(variant) for variant, item in behind if item["upstream"]))
        without = [label for label in dict.fromkeys(variant_label(variant) for variant, item in behind)
                   if label not in with_errors]
        if not with_errors:
            lines.append("Behind nginx, no variant caused an upstream error in these runs.")
        else:
            lines.append("Behind nginx, upstream errors came from %s%s." % (
                " and ".join(with_errors), "; none from %s" % " and ".join(without) if without else ""))
    return lines


def wrap(text, indent=""):
    """Markdown text folded at WIDTH (a list item's continuation lines indented)."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def render_report(info, rows, plot_link=None, plot_note=None):
    """The Markdown report: what ran, a table of every variant's runs, what the numbers show."""
    labels = ", ".join(variant_label(variant) for variant in info.variants)
    items = [
        "Date: %s" % info.date,
        "Machine: %d cores (`nproc`), %s, load average %s at the start; Python %s"
        % (info.nproc, info.machine, ", ".join("%.2f" % value for value in info.loadavg), info.python),
        "gunicorn: %s; each version from its own virtualenv (`pip install gunicorn==<version>`, nothing else)"
        % labels,
    ]
    if any(variant_worker(variant) == "draining" for variant in info.variants):
        items.append(
            "The role's worker: `roles/gunicorn/files/flaskstack_gunicorn_worker.py` from the checkout%s, as the"
            " role uses it: its directory on gunicorn's path (`--pythonpath`), `-k %s`"
            % (" (sha256 %s)" % info.worker_sha if info.worker_sha else "", WORKER_CLASS))
    items += [
        "Server: `gunicorn -w <workers> --threads %d --keep-alive %d -b %s:<free port>`, `-k gthread` or the role's"
        " worker, a WSGI app that answers 200 \"ok\"" % (THREADS, KEEP_ALIVE, HOST),
        "HUP modes: %d workers, %d HUPs to the master per run, one every %.1f s; the load runs from %.1f s before"
        " the first to %.1f s after the last; the max_requests variants add `--max-requests %d"
        " --max-requests-jitter %d`" % (MODES["hup"].workers, info.hups, HUP_INTERVAL, HUP_INTERVAL, SETTLE,
                                        MAX_REQUESTS, MAX_REQUESTS_JITTER),
    ]
    if info.nginx:
        items += [
            "nginx modes: %s (1 worker process, its own prefix and configuration in a temporary directory,"
            " 127.0.0.1 only) in front of gunicorn with %d workers and the role's recycling defaults"
            " `--max-requests %d --max-requests-jitter %d`, no HUP, %.0f s of load sent to nginx; the upstream as"
            " the nginx role writes it: `keepalive %d`, `max_fails=%d fail_timeout=%ds`, `proxy_http_version 1.1`,"
            " `proxy_set_header Connection \"\"`, `proxy_next_upstream %s`, `proxy_next_upstream_tries %d`; with"
            " gunicorn the only server (\"behind nginx\") nginx never takes it out of its turn (it ignores"
            " `max_fails` for a lone server)"
            % (info.nginx, ROLE_WORKERS, ROLE_MAX_REQUESTS, ROLE_MAX_REQUESTS_JITTER, NGINX_LOAD, UPSTREAM_KEEPALIVE,
               MAX_FAILS, FAIL_TIMEOUT, NEXT_UPSTREAM, NEXT_UPSTREAM_TRIES),
        ]
        if "nginx+draining" in info.modes:
            items.append(
                "\"the other server draining\": the upstream holds a second server that answers 503 to everything,"
                " as a host does that a rolling update drained; nginx resends to gunicorn and skips that server for"
                " `fail_timeout`, so gunicorn is all it has left")
        items += [
            "nginx: upstream errors: the lines of nginx's error log about a connection to gunicorn (\"upstream"
            " prematurely closed connection\", \"(104: Connection reset by peer)\", ...); nginx resends the request"
            " (a reused connection gets one more try), so a client rarely sees one; but each counts as a failure"
            " of gunicorn's server (`max_fails=1`): with another server in the pool nginx takes gunicorn out of its"
            " turn for `fail_timeout`, and when that other server is draining it has none left and answers 502"
            " (\"no live upstreams\") until then",
        ]
    if info.skipped:
        items.append("Not run: %s" % info.skipped)
    items += [
        "Load: %d client threads opening a new connection per request (`Connection: close`) and %d reusing"
        " kept-alive HTTP/1.1 connections (a new one after `Connection: close` or an error), back to back, %d s"
        " timeout, in the benchmark's process" % (FRESH_CLIENTS, KEPT_ALIVE_CLIENTS, CLIENT_TIMEOUT),
        "Runs: %d of every variant, interleaved (run 1 of each, then run 2 ...)" % info.repeat,
        "Failed: a status other than 200, or any exception (reset, refused, closed without an answer, timeout)",
    ]
    lines = ["# gunicorn gthread: failed requests through graceful reloads and recycles", ""]
    lines += wrap(
        "Measured by `benchmarks/gunicorn_reload.py` (`.venv/bin/python benchmarks/gunicorn_reload.py`), every"
        " variant in one run, one after the other on the same machine. The gunicorn role pins gunicorn 23.0.0 and"
        " runs it with its own `DrainingThreadWorker`, because 23.0.0's stock gthread worker drops connections"
        " when a worker exits gracefully (upstream issue benoitc/gunicorn#3394). gunicorn 27's stock gthread"
        " worker drains on a direct HUP. The role tried 27.0.1 and went back: behind nginx, which keeps"
        " kept-alive connections to gunicorn, a recycling 27 worker was seen closing connections nginx reused"
        " (the project's rolling-update test); nginx marked the host failed for `fail_timeout` and, the other"
        " host draining, answered 502. The nginx modes look for those upstream errors on this machine. The counts"
        " move from run to run; zero against not zero is what to read. They never fail CI.")
    lines.append("")
    for item in items:
        lines += wrap("- " + item, "  ")
    lines.append("")
    if plot_link:
        lines += ["![failed requests and nginx's upstream errors per variant and run](%s)" % plot_link, ""]
    elif plot_note:
        lines += wrap("(%s)" % plot_note) + [""]
    lines += render_table(rows)
    lines.append("")
    lines += wrap(
        "\"kept-alive: connections\" counts the connections the kept-alive clients opened (%d to begin with, then"
        " one after each `Connection: close` or error); \"workers booted\" the master's \"Booting worker\" log"
        " lines: the first %d (%d behind nginx), then one for each worker that a HUP or a max_requests recycle"
        " replaced." % (KEPT_ALIVE_CLIENTS, MODES["hup"].workers, ROLE_WORKERS))
    lines.append("")
    previous = None
    for line in summary(rows, info.hups):
        bullet = line.startswith("- ")
        if previous is not None and bullet != previous:
            lines.append("")  # a paragraph after the list must not continue its last item
        lines += wrap(line, "  " if bullet else "")
        previous = bullet
    lines.append("")
    return "\n".join(lines)


# --- The scratch virtualenvs ------------------------------------------------------------------------------


def ensure_venv(cache_dir, version):
    """The virtualenv with gunicorn==version: reused when its marker has the same pins, else made anew."""
    path = venv_dir(cache_dir, version)
    marker = path / "flaskstack-bench.json"
    wanted = {"pins": pins(version), "python": platform.python_version()}
    gunicorn = path / "bin" / "gunicorn"
    try:
        if json.loads(marker.read_text()) == wanted and gunicorn.exists():
            return gunicorn
    except (OSError, ValueError):
        pass
    print("making %s (%s)" % (path, " ".join(pins(version))), flush=True)
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    for argv in ([sys.executable, "-m", "venv", str(path)],
                 [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
                 + pins(version)):
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise BenchError("no end within %d s: %s" % (PIP_TIMEOUT, " ".join(argv)))
        if proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip()[-2000:]
            raise BenchError("exit %d from %s:\n%s" % (proc.returncode, " ".join(argv), output))
    if not gunicorn.exists():
        raise BenchError("%s is missing after pip install %s" % (gunicorn, " ".join(pins(version))))
    marker.write_text(json.dumps(wanted) + "\n")
    return gunicorn


# --- One variant: server, nginx, load, HUPs ---------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def fresh_client(port, stop, result):
    """A new connection per request."""
    while not stop.is_set():
        result.requests += 1
        result.connections += 1
        conn = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
        try:
            conn.request("GET", "/", headers={"Connection": "close"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                result.fail("status %d" % response.status)
        except Exception as exc:  # pylint: disable=broad-except
            result.fail(type(exc).__name__)
        finally:
            conn.close()


def kept_alive_client(port, stop, result):
    """Requests on one HTTP/1.1 connection while the server keeps it; a new one after Connection: close or an error."""
    conn = None
    while not stop.is_set():
        if conn is None:
            conn = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
            result.connections += 1
        result.requests += 1
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                result.fail("status %d" % response.status)
            if response.will_close:
                conn.close()
                conn = None
        except Exception as exc:  # pylint: disable=broad-except
            result.fail(type(exc).__name__)
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


def log_tail(path, count=20):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-count:])
    except OSError:
        return ""


def answers(port):
    """Whether HOST:port answers a GET / with 200 (one request on a new connection)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_until_serving(proc, port, log_path, workers, name="gunicorn", timeout=START_TIMEOUT):
    """Until the server answers 200 and (gunicorn) has booted its workers (those: best effort) within timeout."""
    deadline = time.monotonic() + timeout
    answered = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError("%s exited (%d) before it answered:\n%s" % (name, proc.returncode, log_tail(log_path)))
        answered = answered or answers(port)
        if answered and (not workers or count_boots(log_tail(log_path, 200)) >= workers):
            return
        time.sleep(0.1)
    if not answered:
        raise BenchError("%s did not answer on %s:%d within %d s:\n%s"
                         % (name, HOST, port, timeout, log_tail(log_path)))


def stop_group(proc):
    """TERM for the master; KILL for its process group (the master and its workers) if it is not gone in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    # The group's id is the master's pid (start_new_session); workers a dead master left behind are in it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def nginx_user():
    """Run as root, nginx's workers need a user: nobody and its group (else nginx's own default)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return "nobody %s" % grp.getgrgid(entry.pw_gid).gr_name
    except KeyError:
        return None


def start_nginx(nginx, workdir, name, gunicorn_port, draining):
    """nginx in front of gunicorn, its prefix a directory of its own: (the process, its port, the prefix)."""
    prefix = pathlib.Path(workdir) / ("nginx-%s" % name)
    prefix.mkdir()
    prefix.chmod(0o755)  # its workers (nobody, when run as root) only use what the master opened
    port = free_port()
    draining_port = free_port() if draining else None
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, port, gunicorn_port, draining_port, nginx_user()))
    with open(prefix / "stderr.log", "wb") as log:
        proc = subprocess.Popen(nginx_argv(nginx, prefix), cwd=str(prefix), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc, port, prefix


def run_variant(gunicorn, variant, mode, run, hups, workdir, nginx=None):
    """Start the server (and nginx), load it, send the HUPs or let it recycle, stop everything: one row."""
    settings = MODES[mode]
    port = free_port()
    name = "%s-%s-%d" % (variant, mode, run)
    log_path = os.path.join(workdir, "gunicorn-%s.log" % name)
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    stop = threading.Event()
    results = [ClientResult("fresh") for dummy in range(FRESH_CLIENTS)] \
        + [ClientResult("kept-alive") for dummy in range(KEPT_ALIVE_CLIENTS)]
    began = time.monotonic()
    front = prefix = None
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(gunicorn_argv(gunicorn, variant, mode, port, workdir), cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_until_serving(proc, port, log_path, settings.workers)
        target = port
        if settings.nginx:
            front, target, prefix = start_nginx(nginx, workdir, name, port, settings.nginx == "draining")
            wait_until_serving(front, target, prefix / "error.log", 0, "nginx", NGINX_START_TIMEOUT)
        threads = [threading.Thread(target=fresh_client if result.kind == "fresh" else kept_alive_client,
                                    args=(target, stop, result), daemon=True) for result in results]
        start = time.monotonic()
        started = start - began
        for thread in threads:
            thread.start()
        if settings.hups:
            for dummy in range(hups):
                time.sleep(HUP_INTERVAL)
                if proc.poll() is not None:
                    raise BenchError("gunicorn exited (%d) during the run:\n%s" % (proc.returncode,
                                                                                   log_tail(log_path)))
                proc.send_signal(signal.SIGHUP)
            time.sleep(SETTLE if hups else HUP_INTERVAL + SETTLE)
        else:
            time.sleep(NGINX_LOAD)
        stop.set()
        joined = time.monotonic() + CLIENT_TIMEOUT + 0.5  # a request under way ends by its timeout at the latest
        for thread in threads:
            thread.join(max(0, joined - time.monotonic()))
        seconds = time.monotonic() - start
        for one, what, path in ((proc, "gunicorn", log_path), (front, "nginx", prefix and prefix / "error.log")):
            if one is not None and one.poll() is not None:
                raise BenchError("%s exited (%d) during the run:\n%s" % (what, one.returncode, log_tail(path)))
    finally:
        stop.set()
        if front is not None:
            stop_group(front)
        stop_group(proc)
    boots = count_boots(pathlib.Path(log_path).read_text(errors="replace"))
    events = None
    if settings.nginx:
        events = nginx_upstream_events((prefix / "error.log").read_text(errors="replace"), port)
    row = tally(variant, mode, run, results, boots, seconds, events)
    row["started"] = started
    return row


def run_all(args, binaries, modes):
    rows = []
    workdir = tempfile.mkdtemp(prefix="flaskstack-gunicorn-reload-")
    try:
        os.chmod(workdir, 0o755)  # nginx's prefix is inside
        pathlib.Path(workdir, "app.py").write_text(APP)
        for run in range(1, args.repeat + 1):
            for variant in args.variants:
                for mode in modes:
                    row = run_variant(binaries[variant_version(variant)], variant, mode, run, args.hups, workdir,
                                      args.nginx)
                    rows.append(row)
                    nginx = row["nginx"]
                    print("%s, %s, run %d: fresh %s requests, %s failed; kept-alive %s, %s failed; %s workers booted"
                          "%s (started in %.1f s, %.1f s of load)"
                          % (variant_label(variant), MODES[mode].text, run, number(row["fresh"]["requests"]),
                             number(row["fresh"]["failed"]), number(row["kept-alive"]["requests"]),
                             number(row["kept-alive"]["failed"]), number(row["boots"]),
                             "" if nginx is None else "; nginx: %s upstream errors (%s)"
                             % (number(upstream_errors(nginx)), nginx_text(nginx)),
                             row["started"], row["seconds"]), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


# --- Outputs ----------------------------------------------------------------------------------------------


def nproc():
    try:
        return int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        return os.cpu_count() or 0


def nginx_version(nginx):
    """"nginx/1.22.1" from `nginx -v` (which prints to stderr), or "nginx" when it says nothing readable."""
    try:
        proc = subprocess.run([str(nginx), "-v"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError("%s -v: %s" % (nginx, exc))
    match = re.search(r"nginx/\S+", proc.stderr + proc.stdout)
    return match.group(0) if match else "nginx"


def plot_rows(rows, path, hups):
    """Failed requests (fresh and kept-alive stacked) and nginx's upstream errors per variant and run
    (matplotlib, Agg backend)."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

    names = ["%s, %s, run %d" % (variant_label(row["variant"]), MODES[row["mode"]].short, row["run"]) for row in rows]
    fresh = [row["fresh"]["failed"] for row in rows]
    kept = [row["kept-alive"]["failed"] for row in rows]
    upstream = [upstream_errors(row.get("nginx")) for row in rows]
    behind = any(value is not None for value in upstream)
    positions = list(range(len(rows)))
    figure, panels = pyplot.subplots(1, 2 if behind else 1, sharey=True, squeeze=False,
                                     figsize=(15 if behind else 10, 1.5 + 0.4 * len(rows)))
    axes = panels[0][0]
    axes.barh(positions, fresh, color="#dd6b20", label="fresh connections")
    axes.barh(positions, kept, left=fresh, color="#2b6cb0", label="kept-alive connections")
    for position, row in zip(positions, rows):
        failed = row["fresh"]["failed"] + row["kept-alive"]["failed"]
        requests = row["fresh"]["requests"] + row["kept-alive"]["requests"]
        axes.annotate("%s of %s" % (number(failed), number(requests)), (failed, position), xytext=(4, 0),
                      textcoords="offset points", va="center", fontsize=8)
    axes.set_yticks(positions, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("symlog", linthresh=10)
    axes.set_xlim(0, max([10] + [a + b for a, b in zip(fresh, kept)]) * 8)
    axes.set_xlabel("failed requests (symlog scale; lower is better)")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title("as the clients saw them (HUP modes: %d HUPs per run)" % hups, fontsize=10)
    if behind:
        axes = panels[0][1]
        values = [value or 0 for value in upstream]
        axes.barh(positions, values, color="#c53030")
        for position, value in zip(positions, upstream):
            axes.annotate("not behind nginx" if value is None else number(value), (value or 0, position),
                          xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                          color="#718096" if value is None else "black")
        axes.set_xscale("symlog", linthresh=10)
        axes.set_xlim(0, max([10] + values) * 8)
        axes.set_xlabel("upstream errors (symlog scale; lower is better)")
        axes.grid(axis="x", alpha=0.3)
        axes.set_title("nginx's error log: prematurely closed, reset by peer ...", fontsize=10)
    figure.suptitle("gunicorn gthread workers through graceful reloads and max_requests recycles")
    figure.legend(*panels[0][0].get_legend_handles_labels(), loc="upper left", ncol=2, fontsize=8)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def exit_on_sigterm():
    """SIGTERM ends the run like Ctrl-C: through the finally blocks that stop gunicorn and nginx."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    exit_on_sigterm()
    modes = list(args.modes)
    skipped = ""
    behind = [mode for mode in modes if MODES[mode].nginx]
    if behind and not args.nginx:
        modes = [mode for mode in modes if mode not in behind]
        skipped = "%s: no nginx on PATH (`--nginx`)" % ", ".join("the %s mode" % mode for mode in behind)
        print("gunicorn_reload.py: %s, skipped" % skipped, file=sys.stderr)
    worker_sha = ""
    if any(variant_worker(variant) == "draining" for variant in args.variants):
        try:
            worker_sha = hashlib.sha256(WORKER_FILE.read_bytes()).hexdigest()[:12]
        except OSError as exc:
            print("gunicorn_reload.py: the benchmark could not run: the role's worker: %s" % exc, file=sys.stderr)
            return 1
    try:
        version = nginx_version(args.nginx) if any(MODES[mode].nginx for mode in modes) else ""
        info = RunInfo(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), nproc(),
                       platform.machine(), platform.python_version(), os.getloadavg(), args.variants, modes,
                       args.hups, args.repeat, version, skipped, worker_sha)
        versions = dict.fromkeys(variant_version(variant) for variant in args.variants)
        binaries = {version: ensure_venv(args.cache_dir, version) for version in versions}
        rows = run_all(args, binaries, modes) if modes else []
    except BenchError as exc:
        print("gunicorn_reload.py: the benchmark could not run: %s" % exc, file=sys.stderr)
        return 1
    plot_link = plot_note = None
    for path in (args.report, args.plot):
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        plot_rows(rows, args.plot, args.hups)
        plot_link = os.path.relpath(os.path.abspath(args.plot), os.path.dirname(os.path.abspath(args.report)))
    except ImportError:
        plot_note = "no plot: matplotlib is not importable (pip install -r benchmarks/requirements.txt)"
    text = render_report(info, rows, plot_link, plot_note)
    pathlib.Path(args.report).write_text(text)
    print("\n".join(render_table(rows)))
    print("\n" + "\n".join(summary(rows, args.hups)))
    print("\nwrote %s%s" % (args.report, "" if plot_note else " and " + args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
