"""Benchmarks the running lab (make lab) side by side, in one run, and writes docs/benchmarks.md.

Measures with wrk, one target after the other with the same settings:
  - the load balancer (lb1's nginx, role defaults) in front of every app host, at 127.0.0.1:LAB_PORT;
  - each app host hit directly on its app-server port (the lab's Docker network is reachable from here);
  - the Flask development server (`app.run(threaded=True)`) with the same release on one app host;
then times a no-op re-run of site.yml. Reports requests/s, p99 latency and ratios. Never fails on a number.

Usage (from the checkout root, lab running):  make bench   or
  .venv/bin/python benchmarks/stack.py [--duration 10] [--connections 16] [--skip-site]
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEV_PORT = 5000
DEV_HOST = "app2"


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def container(host):
    return "flaskstack-lab-%s" % host


def container_ip(host):
    out = run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", container(host)]).stdout
    networks = json.loads(out)
    return networks["flaskstack-lab"]["IPAddress"]


def lab_inventory():
    out = run(["ansible-inventory", "-i", str(ROOT / "inventory" / "lab"), "--list"], cwd=ROOT).stdout
    data = json.loads(out)
    hostvars = data["_meta"]["hostvars"]
    return data["app"]["hosts"], hostvars


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, duration, connections, host_header=None):
    argv = ["wrk", "-t2", "-c%d" % connections, "-d%ds" % duration, "--timeout", "10s", "--latency"]
    if host_header:
        argv += ["-H", "Host: %s" % host_header]
    out = run(argv + [url]).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    failed = (sum(int(n) for n in errors.groups()) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"rps": rps, "p99_ms": to_ms(*p99.groups()), "requests": total, "failed": failed}


def start_dev_server(host, hostvars):
    """The Flask development server on the same release, as the app user, on DEV_PORT."""
    script = (
        "set -a; . /srv/flask_app/shared/env; set +a; cd /srv/flask_app/current && "
        "exec setpriv --reuid=flask_app --regid=flask_app --init-groups "
        "/srv/flask_app/current/venv/bin/python -c "
        "\"from app import app; app.run(host='0.0.0.0', port=%d, threaded=True)\"" % DEV_PORT
    )
    run(["docker", "exec", "-d", container(host), "bash", "-c", script + " >/tmp/flask-dev.log 2>&1"])
    for dummy in range(30):
        probe = subprocess.run(
            ["docker", "exec", container(host), "curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/" % DEV_PORT],
            check=False,
        )
        if probe.returncode == 0:
            return
        time.sleep(1)
    raise SystemExit("the Flask development server did not start on %s (see /tmp/flask-dev.log there)" % host)


def stop_dev_server(host):
    subprocess.run(["docker", "exec", container(host), "pkill", "-f", "from app import app"], check=False)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--skip-site", action="store_true", help="do not time a no-op site.yml")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv[1:])

    lb_port = os.environ.get("LAB_PORT", "8080")
    app_hosts, hostvars = lab_inventory()
    rows = []

    def measure(label, url, host_header=None):
        print("==> wrk %s (%s)" % (label, url), flush=True)
        result = wrk(url, args.duration, args.connections, host_header)
        result["label"] = label
        rows.append(result)
        print("    %.0f requests/s, p99 %.1f ms, %d failed" % (result["rps"], result["p99_ms"], result["failed"]))

    # lb1 on the lab network, like the app hosts below; then through the published port (docker-proxy).
    measure("through lb1 (nginx, role defaults) → %s" % ", ".join(app_hosts), "http://%s/" % container_ip("lb1"), "localhost")
    measure("through lb1 via 127.0.0.1:%s (Docker's port proxy in front)" % lb_port, "http://127.0.0.1:%s/" % lb_port, "localhost")
    for host in app_hosts:
        server = hostvars[host].get("flask_app_server", "gunicorn")
        port = hostvars[host].get("flask_app_port", 8000)
        arch = hostvars[host].get("lab_arch", "amd64")
        measure("%s directly (%s, %s)" % (host, server, arch), "http://%s:%s/" % (container_ip(host), port))
    start_dev_server(DEV_HOST, hostvars)
    try:
        measure("%s Flask development server (threaded)" % DEV_HOST, "http://%s:%d/" % (container_ip(DEV_HOST), DEV_PORT))
    finally:
        stop_dev_server(DEV_HOST)

    site_seconds = None
    site_changed = None
    if not args.skip_site:
        print("==> no-op re-run of site.yml", flush=True)
        start = time.monotonic()
        out = run(["ansible-playbook", "site.yml"], cwd=ROOT, env=dict(os.environ, ANSIBLE_FORCE_COLOR="0")).stdout
        site_seconds = time.monotonic() - start
        site_changed = sum(int(n) for n in re.findall(r"changed=(\d+)", out))
        print("    %.0f s, changed=%d" % (site_seconds, site_changed))

    write_report(args, rows, site_seconds, site_changed)
    print("==> wrote %s" % args.output)
    return 0


def write_report(args, rows, site_seconds, site_changed):
    lb = rows[0]
    direct = [row for row in rows[2:] if "development" not in row["label"]]
    dev = [row for row in rows if "development" in row["label"]][0]
    lines = [
        "# Benchmarks",
        "",
        "Measured by `benchmarks/stack.py` (`make bench`) on the running lab (`make lab`), every figure in one run,",
        "one target after the other with the same wrk settings. Numbers vary from run to run and machine to machine;",
        "only the ratios within one run mean much. They never fail CI.",
        "",
        "- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- Machine: %d cores (`os.cpu_count()`), %s; the lab's containers share them, app3 is arm64 under qemu"
        % (os.cpu_count(), platform.machine()),
        "- wrk: 2 threads, %d connections, %d s per target, new requests on keep-alive connections"
        % (args.connections, args.duration),
        "",
        "| target | requests/s | p99 latency | requests | failed |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            "| %s | %.0f | %.1f ms | %d | %d |" % (row["label"], row["rps"], row["p99_ms"], row["requests"], row["failed"])
        )
    best = max(direct, key=lambda row: row["rps"])
    lines += [
        "",
        "Ratios (same run):",
        "",
        "- through the load balancer / sum of the app hosts hit directly: %.2f" % (lb["rps"] / sum(r["rps"] for r in direct)),
        "- through the load balancer / the fastest single app host: %.2f" % (lb["rps"] / best["rps"]),
        "- %s / the Flask development server on the same host: %.2f"
        % (
            [r for r in direct if r["label"].startswith(DEV_HOST)][0]["label"],
            [r for r in direct if r["label"].startswith(DEV_HOST)][0]["rps"] / dev["rps"],
        ),
    ]
    if site_seconds is not None:
        lines += [
            "",
            "No-op re-run of `site.yml` on the lab (4 hosts, one emulated arm64): %.0f s, changed=%d."
            % (site_seconds, site_changed),
        ]
    lines += [
        "",
        "All hosts run on one 2-core machine, so the load balancer, the app hosts and wrk compete for the same",
        "cores: through-the-balancer figures here measure the stack's overhead, not the scaling a cluster of",
        "separate machines would show. Through the balancer every request costs nginx's CPU as well as an app",
        "server's, and one request in five (weight 2 of 10) goes to the emulated arm64 host, where qemu spends",
        "several times the CPU of an x86 request; that is why the pool is slower here than one x86 host alone.",
        "",
    ]
    pathlib.Path(args.output).write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
