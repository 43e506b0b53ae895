# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmarks the running lab (make lab) side by side, in one run; writes docs/benchmarks/stack.md and a plot.

What is measured: wrk (2 threads, --connections, --duration per target, keep-alive, 10 s timeout), one target
after the other with the same settings, in this order (--targets picks a subset):
  role       lb1's nginx as site.yml configured it (role defaults) in front of every app host, on the lab network
  role-port  the same through 127.0.0.1:LAB_PORT (Docker's port proxy in front)
  direct     each app host's app server (uWSGI or gunicorn, as site.yml deployed it) hit directly
  dev        the Flask development server (`app.run(threaded=True)`) with the same release on app2
  seed000    the hand-written nginx + uWSGI recipe: a second nginx on lb1 (port 8081, the recipe's nginx.conf)
             with `uwsgi_pass` over TCP to a second uWSGI on each app host (port 8081, the recipe's
             uwsgi8081.ini: master, 2 processes x 4 threads)
  seed002    the hand-written nginx + gunicorn recipe: a second nginx on lb1 (port 8082) with `proxy_pass` and the
             X-Real-IP / Host / X-Forwarded-For headers to `gunicorn --workers 3 --worker-class gevent` on each
             app host (port 8082)
then, unless --skip-site, times a no-op re-run of site.yml. It reports requests/s and p99 latency per target and
the ratios role stack / seed000, role stack / seed002, through nginx / app servers hit directly (proxy overhead)
and role stack / dev server, as a table and a PNG plot. It never fails on a number.

How the recipes are deployed: on the same app hosts as the role stack (--seed-hosts), from the release site.yml
deployed (/srv/<app>/current), as the app user, with the app's environment file. uWSGI comes from the release
virtualenv (pip hosts) or is Debian's with that virtualenv (apt hosts), else pyuwsgi; gunicorn + gevent come
from the release virtualenv if it has both, else from a scratch virtualenv made in the container (the release's
requirements plus the gunicorn role's pins, wheels only, from the machine's configured package index, bounded
by --venv-timeout). The configurations are rendered by benchmarks/stack_configs.py and copied into the report.

Teardown: everything the benchmark starts or writes in a container lives under /tmp/flaskstack-bench there, and
every process it starts writes a pid file there. Before deploying (leftovers of an interrupted run) and at the
end (try/finally, also on Ctrl-C and SIGTERM) every lab container runs the same script: signal each recorded
pid whose command line names flaskstack-bench (nginx QUIT, uWSGI and gunicorn INT, the dev server TERM), wait
up to 10 s, kill what is left, remove the directory. The role-managed nginx, its files, the supervisor programs
and their ports are never touched. Load goes only to the lab's containers and to 127.0.0.1.

Usage (from the checkout root, lab running):  make bench   or
  .venv/bin/python benchmarks/stack.py [--duration 10] [--connections 16] [--skip-site] [--targets role,seed000]
"""

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import pathlib
import platform
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

import stack_configs as configs
import stack_report as report

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGETS = ("role", "role-port", "direct", "dev", "seed000", "seed002")
SEEDS = ("seed000", "seed002")
DEV_PORT = 5000
DEV_HOST = "app2"
DEV_DIR = configs.SCRATCH + "/dev"
DEV_PID = DEV_DIR + "/flask-dev.pid"
# Seconds a started server has to answer (uWSGI and gunicorn load Flask under qemu on the arm64 host).
START_TIMEOUT = 120
# Every pid file the benchmark may leave in a container, and the signal that stops that server.
TEARDOWN_ENTRIES = (
    (configs.SEED000_NGINX_PID, "QUIT"),
    (configs.SEED002_NGINX_PID, "QUIT"),
    (configs.SEED000_UWSGI_PID, "INT"),
    (configs.SEED002_GUNICORN_PID, "INT"),
    (DEV_PID, "TERM"),
)
UWSGI_SOURCE_TEXT = {
    "release": "uWSGI from the release virtualenv",
    "debian": "Debian's uWSGI (python3 plugin) with the release virtualenv",
    "scratch": "pyuwsgi (%s) from the scratch virtualenv" % configs.PYUWSGI_PIN,
}
GEVENT_SOURCE_TEXT = {
    "release": "gunicorn and gevent from the release virtualenv",
    "scratch": "%s and %s from the scratch virtualenv" % (configs.GUNICORN_PIN, configs.GEVENT_PIN),
}
SEED_TITLES = {
    "seed000": "seed-000: nginx `uwsgi_pass` → uWSGI over a TCP socket",
    "seed002": "seed-002: nginx `proxy_pass` → gunicorn, gevent workers",
}
SEED_SUMMARIES = {
    "seed000": (
        "The hand-written recipe of nginx load-balancing Flask nodes over the uwsgi protocol: its nginx.conf "
        "(globals, `upstream my_servers`, `uwsgi_pass`, UWSGI_CHDIR / UWSGI_SCRIPT) as a second nginx master on "
        "lb1, port %d, and its uwsgi8081.ini (`socket`, `master`, %d processes × %d threads, stats, daemonize) as "
        "a second uWSGI on each backend, port %d."
        % (configs.SEED000_PORT, configs.SEED000_PROCESSES, configs.SEED000_THREADS, configs.SEED000_PORT)
    ),
    "seed002": (
        "The hand-written recipe of nginx as a reverse proxy to gunicorn: a source build's stock nginx.conf plus "
        "`include sites/*.conf` and its sites/app.conf (`proxy_pass` with X-Real-IP, Host, X-Forwarded-For) as a "
        "second nginx master on lb1, port %d, and its supervisor command, `gunicorn --workers %d --worker-class "
        "gevent`, on each backend, port %d (started by the benchmark, not by supervisor, so that the role's "
        "supervisor configuration stays untouched; run as the app user, where the recipe says www-data)."
        % (configs.SEED002_PORT, configs.SEED002_WORKERS, configs.SEED002_PORT)
    ),
}


class BenchError(Exception):
    """The lab could not be benchmarked (not a number: a setup that failed)."""


# --- Commands ---------------------------------------------------------------------------------------------


def tail(text, count=15):
    return "\n".join((text or "").strip().splitlines()[-count:])


def run(argv, timeout=120, stdin=None, check=True, cwd=None, env=None):
    try:
        proc = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env
        )
    except subprocess.TimeoutExpired:
        raise BenchError("no answer within %d s from: %s" % (timeout, shlex.join(argv)[:300]))
    if check and proc.returncode != 0:
        raise BenchError(
            "exit %d from: %s\n%s" % (proc.returncode, shlex.join(argv)[:300], tail(proc.stderr or proc.stdout))
        )
    return proc


def sh(container, script, timeout=120, stdin=None, check=True, detach=False):
    """A bash script in a lab container (as root)."""
    argv = ["docker", "exec"] + (["-i"] if stdin is not None else []) + (["-d"] if detach else [])
    return run(argv + [container, "bash", "-c", script], timeout=timeout, stdin=stdin, check=check)


def put_file(container, path, text):
    sh(container, "cat > %s" % shlex.quote(path), stdin=text)


def log_tail(container, path):
    proc = sh(container, "tail -n 20 %s" % shlex.quote(path), check=False)
    return "\n--- %s:%s ---\n%s" % (container, path, proc.stdout.strip() or proc.stderr.strip())


def start_daemon(container, command, log):
    """Run a command that daemonizes itself (uWSGI's daemonize, nginx); its early messages go to log."""
    proc = sh(container, "%s </dev/null >/dev/null 2>>%s" % (command, shlex.quote(log)), check=False)
    if proc.returncode != 0:
        raise BenchError("exit %d from %s on %s%s" % (proc.returncode, command[:200], container, log_tail(container, log)))


def env_prefix(app):
    """Export the app's environment file (secret key and the app's variables), as the app servers get it."""
    return "set -a; . %s; set +a; " % shlex.quote(app.env_file)


def as_user(user, argv):
    return shlex.join(["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"] + list(argv))


# --- The lab ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Lab:
    """The lab's hosts as inventory/lab describes them."""

    lb: str
    app_hosts: list
    hostvars: dict

    def container(self, host):
        return self.hostvars[host].get("ansible_host", "flaskstack-lab-" + host)

    def ip(self, host):
        """The container's address on the lab network (reachable from this machine)."""
        out = run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", self.container(host)]).stdout
        return json.loads(out)[self.hostvars[host].get("lab_network", "flaskstack-lab")]["IPAddress"]

    def app(self, host):
        try:
            return configs.AppLayout.from_hostvars(self.hostvars[host])
        except ValueError as error:
            raise BenchError("%s: %s" % (host, error))

    def server(self, host):
        return self.hostvars[host].get("flask_app_server", "gunicorn")

    def describe(self, host):
        return "%s, %s" % (self.server(host), self.hostvars[host].get("lab_arch", "amd64"))


def load_lab():
    out = run(["ansible-inventory", "-i", str(ROOT / "inventory" / "lab"), "--list"], cwd=ROOT).stdout
    data = json.loads(out)
    return Lab(lb=data["lb"]["hosts"][0], app_hosts=data["app"]["hosts"], hostvars=data["_meta"]["hostvars"])


def require_running(lab):
    for host in [lab.lb] + list(lab.app_hosts):
        try:
            lab.ip(host)
        except (BenchError, KeyError, ValueError) as error:
            raise BenchError("%s is not on the lab network: is the lab running (make lab)?\n%s" % (lab.container(host), error))


def lb_nginx_paths(lb_vars):
    """(binary, configuration directory) of the role's nginx on the load balancer."""
    if lb_vars.get("nginx_install_method", "apt") == "apt":
        return "/usr/sbin/nginx", "/etc/nginx"
    prefix = lb_vars.get("nginx_source_prefix", "/usr/local/nginx")
    return prefix + "/sbin/nginx", prefix + "/conf"


def role_pool(lab):
    """The upstream pools of lb1's role-managed nginx, as deployed (read only)."""
    conf_dir = lb_nginx_paths(lab.hostvars[lab.lb])[1]
    proc = sh(lab.container(lab.lb), "cat %s/flaskstack.d/upstreams.conf" % conf_dir, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return "\n".join(lines) or "(could not read %s/flaskstack.d/upstreams.conf on %s)" % (conf_dir, lab.lb)


# --- wrk ------------------------------------------------------------------------------------------------


def wrk_argv(url, duration, connections, host_header=None):
    argv = ["wrk", "-t2", "-c%d" % connections, "-d%ds" % duration, "--timeout", "10s", "--latency"]
    if host_header:
        argv += ["-H", "Host: %s" % host_header]
    return argv + [url]


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out):
    """requests/s, p99 latency (ms), requests and failed requests (socket errors + non-2xx/3xx) of a wrk run."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    total = re.search(r"(\d+) requests in", out)
    if not (rps and p99 and total):
        raise BenchError("unexpected wrk output:\n%s" % tail(out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = (sum(int(n) for n in errors.groups()) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"rps": float(rps.group(1)), "p99_ms": to_ms(*p99.groups()), "requests": int(total.group(1)), "failed": failed}


def measure(row, url, args, host_header=None):
    """One wrk run; row: target, label, short and backends of the result."""
    print("==> wrk %s (%s)" % (row["label"], url), flush=True)
    out = run(wrk_argv(url, args.duration, args.connections, host_header), timeout=args.duration + 60).stdout
    row = dict(row, **parse_wrk(out))
    print("    %.0f requests/s, p99 %.1f ms, %d failed" % (row["rps"], row["p99_ms"], row["failed"]), flush=True)
    return row


# --- Is it up? --------------------------------------------------------------------------------------------

# No proxy from the environment: these requests go to the lab's containers only.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url, host_header=None):
    request = urllib.request.Request(url, headers={"Host": host_header} if host_header else {})
    try:
        with HTTP.open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def uwsgi_packet(variables):
    """A uwsgi-protocol request: modifier1 0, the size of the variables (little endian), modifier2 0, then each
    variable as (size, key, size, value)."""
    body = b""
    for key, value in variables.items():
        for item in (key.encode(), value.encode()):
            body += struct.pack("<H", len(item)) + item
    return struct.pack("<BHB", 0, len(body), 0) + body


def status_of(response_head):
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response_head)
    return int(match.group(1)) if match else None


def uwsgi_status(address, port, variables):
    """The HTTP status a uWSGI socket answers to one request sent the way nginx's uwsgi_pass sends it."""
    try:
        with socket.create_connection((address, port), timeout=5) as conn:
            conn.sendall(uwsgi_packet(variables))
            head = b""
            while b"\r\n" not in head and len(head) < 4096:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return None
    return status_of(head)


def seed000_probe_variables(app):
    """What nginx sends for GET / with the recipe's uwsgi_params and its two uwsgi_param lines."""
    return {
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": "/",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "UWSGI_CHDIR": app.current + "/",
        "UWSGI_SCRIPT": app.module,
    }


def wait_for(check, what, logs=(), seconds=START_TIMEOUT):
    """Poll check() until it is true; else fail, with the tails of the logs ((container, path) pairs)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise BenchError("%s did not answer within %d s%s" % (what, seconds, "".join(log_tail(*log) for log in logs)))


# --- The recipes' servers on the app hosts ---------------------------------------------------------------

PROBE_SCRIPT = """
venv=%(venv)s
if [ -x "$venv/bin/uwsgi" ]; then echo uwsgi=release
elif [ -x /usr/bin/uwsgi ] && ls /usr/lib/uwsgi/plugins/python3*_plugin.so >/dev/null 2>&1; then echo uwsgi=debian
else echo uwsgi=scratch; fi
if "$venv/bin/python" -c 'import gunicorn, gevent' 2>/dev/null; then echo gevent=release; else echo gevent=scratch; fi
"""


def parse_probe(text):
    """PROBE_SCRIPT's answer: {'uwsgi': release|debian|scratch, 'gevent': release|scratch}."""
    return dict(line.split("=", 1) for line in text.split() if "=" in line)


def scratch_packages(uwsgi_source, gevent_source):
    """What a host's scratch virtualenv needs besides the release's requirements (None: that seed is not run)."""
    packages = []
    if gevent_source == "scratch":
        packages += [configs.GUNICORN_PIN, configs.GEVENT_PIN]
    if uwsgi_source == "scratch":
        packages.append(configs.PYUWSGI_PIN)
    return packages


@dataclasses.dataclass
class Backend:
    """An app host that runs the recipes' app servers, and where they come from there."""

    host: str
    container: str
    address: str
    ip: str
    app: configs.AppLayout
    uwsgi_source: str = None
    gevent_source: str = None

    @property
    def uwsgi_binary(self):
        return {
            "release": self.app.venv + "/bin/uwsgi",
            "debian": "/usr/bin/uwsgi",
            "scratch": configs.SCRATCH_VENV + "/bin/uwsgi",
        }[self.uwsgi_source]

    @property
    def gunicorn_binary(self):
        venv = self.app.venv if self.gevent_source == "release" else configs.SCRATCH_VENV
        return venv + "/bin/gunicorn"


def probe_backend(lab, host, seeds):
    app = lab.app(host)
    container = lab.container(host)
    found = parse_probe(sh(container, PROBE_SCRIPT % {"venv": shlex.quote(app.venv)}).stdout)
    return Backend(
        host=host,
        container=container,
        address=container,
        ip=lab.ip(host),
        app=app,
        uwsgi_source=found.get("uwsgi") if "seed000" in seeds else None,
        gevent_source=found.get("gevent") if "seed002" in seeds else None,
    )


def build_scratch_venv(backend, packages, seconds):
    """The release's requirements plus packages, in SCRATCH_VENV (wheels only: nothing to compile)."""
    requirements = "%s/%s" % (backend.app.current, backend.app.requirements)
    venv = configs.SCRATCH_VENV
    script = "set -e; install -d -m 0755 %s; timeout %d /usr/bin/python3 -m venv %s; " % (configs.SCRATCH, seconds, venv)
    script += "timeout %d %s/bin/pip install -q --disable-pip-version-check --only-binary=:all: -r %s %s" % (
        seconds,
        venv,
        shlex.quote(requirements),
        shlex.join(packages),
    )
    print("==> %s: scratch virtualenv %s (%s, %s)" % (backend.host, venv, requirements, ", ".join(packages)), flush=True)
    start = time.monotonic()
    sh(backend.container, script, timeout=2 * seconds + 30)
    return time.monotonic() - start


def start_seed000_uwsgi(backend):
    """The recipe's uwsgi8081.ini, run the recipe's way (`uwsgi --ini`, daemonize) as the app user."""
    app = backend.app
    workdir = configs.SEED000_UWSGI_DIR
    ini = configs.render_seed000_uwsgi_ini(app, backend.uwsgi_source, workdir)
    ini_path = "%s/uwsgi%d.ini" % (workdir, configs.SEED000_PORT)
    sh(backend.container, "install -d -o %s %s %s/pids %s/logs" % (app.user, workdir, workdir, workdir))
    put_file(backend.container, ini_path, ini)
    command = env_prefix(app) + "exec " + as_user(app.user, [backend.uwsgi_binary, "--ini", ini_path])
    start_daemon(backend.container, command, workdir + "/logs/startup.log")
    return ini_path, ini


def start_seed002_gunicorn(backend):
    """The recipe's supervisor command, in the foreground of a detached `docker exec`, as the app user."""
    app = backend.app
    workdir = configs.SEED002_GUNICORN_DIR
    argv = configs.seed002_gunicorn_argv(backend.gunicorn_binary, app)
    sh(backend.container, "install -d -o %s %s" % (app.user, workdir))
    script = env_prefix(app) + "cd %s && exec %s </dev/null >>%s/gunicorn.log 2>&1" % (
        shlex.quote(app.current),
        as_user(app.user, argv),
        workdir,
    )
    sh(backend.container, script, detach=True)
    return "cd %s && %s   # as %s, the app's environment file exported" % (app.current, shlex.join(argv), app.user)


# --- The recipes' nginx on the load balancer --------------------------------------------------------------


def start_seed_nginx(lab, workdir, files, error_log):
    """A separate nginx master on lb1 with its own prefix, configuration, pid and logs (`nginx -p -c -e`).

    files: {path relative to workdir: text}. mime.types and uwsgi_params are copied from the role's nginx
    configuration directory, so that the recipes' relative includes work unchanged.
    """
    container = lab.container(lab.lb)
    binary, conf_dir = lb_nginx_paths(lab.hostvars[lab.lb])
    subdirs = " ".join("%s/%s" % (workdir, name) for name in ("log", "logs", "pid", "sites", "tmp", "www"))
    sh(container, "install -d %s %s && cp %s/mime.types %s/uwsgi_params %s/" % (workdir, subdirs, conf_dir, conf_dir, workdir))
    for path, text in files.items():
        put_file(container, "%s/%s" % (workdir, path), text)
    argv = [binary, "-p", workdir + "/", "-c", workdir + "/nginx.conf", "-e", error_log]
    sh(container, shlex.join(argv + ["-t", "-q"]))
    start_daemon(container, shlex.join(argv), workdir + "/startup.log")


# --- Deploying the recipes --------------------------------------------------------------------------------


@dataclasses.dataclass
class SeedDeployment:
    """What was deployed for the recipes, for the report: per seed, notes and (title, text, language) configs."""

    hosts: list
    notes: dict
    configs: dict


def prepare_backends(lab, seeds, seed_hosts, venv_timeout, deployment):
    backends = [probe_backend(lab, host, seeds) for host in seed_hosts]
    for backend in backends:
        packages = scratch_packages(backend.uwsgi_source, backend.gevent_source)
        if packages:
            seconds = build_scratch_venv(backend, packages, venv_timeout)
            note = "%s: scratch virtualenv %s built in %.0f s (the release's %s plus %s)" % (
                backend.host,
                configs.SCRATCH_VENV,
                seconds,
                backend.app.requirements,
                ", ".join(packages),
            )
            if backend.uwsgi_source == "scratch":
                deployment.notes["seed000"].append(note)
            if backend.gevent_source == "scratch":
                deployment.notes["seed002"].append(note)
    return backends


def deploy_seed000(lab, backends, deployment):
    for backend in backends:
        path, ini = start_seed000_uwsgi(backend)
        deployment.notes["seed000"].append("%s: %s" % (backend.host, UWSGI_SOURCE_TEXT[backend.uwsgi_source]))
        deployment.configs["seed000"].append(("%s:%s" % (backend.host, path), ini, "ini"))
    servers = ["%s:%d" % (backend.address, configs.SEED000_PORT) for backend in backends]
    workdir = configs.SEED000_NGINX_DIR
    conf = configs.render_seed000_nginx_conf(workdir, servers, backends[0].app)
    start_seed_nginx(lab, workdir, {"nginx.conf": conf}, workdir + "/log/error.log")
    deployment.configs["seed000"].insert(0, ("%s:%s/nginx.conf" % (lab.lb, workdir), conf, "nginx"))
    for backend in backends:
        variables = seed000_probe_variables(backend.app)
        wait_for(
            lambda b=backend, v=variables: uwsgi_status(b.ip, configs.SEED000_PORT, v) == 200,
            "seed-000 uWSGI on %s" % backend.host,
            [(backend.container, "%s/logs/flask%d.log" % (configs.SEED000_UWSGI_DIR, configs.SEED000_PORT))],
        )
    url = "http://%s:%d/" % (lab.ip(lab.lb), configs.SEED000_PORT)
    wait_for(
        lambda: http_status(url, "localhost") == 200,
        "seed-000 nginx on %s" % lab.lb,
        [(lab.container(lab.lb), workdir + "/log/error.log")],
    )


def deploy_seed002(lab, backends, deployment):
    for backend in backends:
        command = start_seed002_gunicorn(backend)
        deployment.notes["seed002"].append("%s: %s" % (backend.host, GEVENT_SOURCE_TEXT[backend.gevent_source]))
        deployment.configs["seed002"].append(("%s: command" % backend.host, command, "sh"))
    servers = ["%s:%d" % (backend.address, configs.SEED002_PORT) for backend in backends]
    workdir = configs.SEED002_NGINX_DIR
    conf = configs.render_seed002_nginx_conf(workdir)
    site = configs.render_seed002_site_conf(workdir, servers)
    start_seed_nginx(lab, workdir, {"nginx.conf": conf, "sites/app.conf": site}, workdir + "/logs/error.log")
    deployment.configs["seed002"][:0] = [
        ("%s:%s/nginx.conf" % (lab.lb, workdir), conf, "nginx"),
        ("%s:%s/sites/app.conf" % (lab.lb, workdir), site, "nginx"),
    ]
    for backend in backends:
        wait_for(
            lambda b=backend: http_status("http://%s:%d/" % (b.ip, configs.SEED002_PORT)) == 200,
            "seed-002 gunicorn on %s" % backend.host,
            [(backend.container, configs.SEED002_GUNICORN_DIR + "/gunicorn.log")],
        )
    url = "http://%s:%d/" % (lab.ip(lab.lb), configs.SEED002_PORT)
    wait_for(
        lambda: http_status(url, "localhost") == 200,
        "seed-002 nginx on %s" % lab.lb,
        [(lab.container(lab.lb), workdir + "/logs/error.log")],
    )


def deploy_seeds(lab, seeds, seed_hosts, venv_timeout):
    deployment = SeedDeployment(hosts=seed_hosts, notes={seed: [] for seed in seeds}, configs={seed: [] for seed in seeds})
    backends = prepare_backends(lab, seeds, seed_hosts, venv_timeout, deployment)
    if "seed000" in seeds:
        print("==> seed-000: uWSGI on %s, nginx on %s" % (", ".join(seed_hosts), lab.lb), flush=True)
        deploy_seed000(lab, backends, deployment)
    if "seed002" in seeds:
        print("==> seed-002: gunicorn (gevent) on %s, nginx on %s" % (", ".join(seed_hosts), lab.lb), flush=True)
        deploy_seed002(lab, backends, deployment)
    return deployment


# --- The Flask development server -------------------------------------------------------------------------


def start_dev_server(lab, host):
    """The Flask development server on the same release, as the app user, on DEV_PORT."""
    app = lab.app(host)
    code = "from %s import %s as app; app.run(host='0.0.0.0', port=%d, threaded=True)" % (
        app.module,
        app.app_callable,
        DEV_PORT,
    )
    # MARKER as an argument (sys.argv[1]): teardown signals only processes whose command line has it.
    command = as_user(app.user, [app.venv + "/bin/python", "-c", code, configs.MARKER])
    script = "install -d -m 0755 %s && %scd %s && echo $$ > %s && exec %s </dev/null >%s/flask-dev.log 2>&1" % (
        DEV_DIR,
        env_prefix(app),
        shlex.quote(app.current),
        DEV_PID,
        command,
        DEV_DIR,
    )
    sh(lab.container(host), script, detach=True)
    url = "http://%s:%d/" % (lab.ip(host), DEV_PORT)
    wait_for(
        lambda: http_status(url) == 200,
        "the Flask development server on %s" % host,
        [(lab.container(host), DEV_DIR + "/flask-dev.log")],
    )


def measure_dev_server(lab, args):
    start_dev_server(lab, DEV_HOST)
    try:
        row = {
            "target": "dev",
            "label": "%s Flask development server (threaded)" % DEV_HOST,
            "short": "Flask dev server (%s)" % DEV_HOST,
            "backends": DEV_HOST,
        }
        return measure(row, "http://%s:%d/" % (lab.ip(DEV_HOST), DEV_PORT), args)
    finally:
        sh(lab.container(DEV_HOST), render_teardown_script([(DEV_PID, "TERM")]), check=False)


# --- Teardown ---------------------------------------------------------------------------------------------


def render_teardown_script(entries, remove_dir=None, marker=configs.MARKER, wait_steps=40):
    """Stop each (pid file, signal) entry's process, if it is ours; wait up to wait_steps / 4 s; kill what is
    left (and its children); then remove remove_dir. Exits 1 if something had to be killed."""
    lines = [
        "status=0",
        "alive() {  # a zombie has ended: only its parent has not collected it yet",
        '    kill -0 "$1" 2>/dev/null || return 1',
        '    case "$(ps -o stat= -p "$1")" in Z*) return 1;; esac',
        "}",
        "stop() {",
        '    [ -s "$1" ] || return 0',
        '    pid=$(cat "$1")',
        '    case "$pid" in ""|*[!0-9]*) return 0;; esac',
        '    grep -qa -- %s "/proc/$pid/cmdline" 2>/dev/null || return 0' % shlex.quote(marker),
        '    kill -s "$2" "$pid" 2>/dev/null || return 0',
        '    for i in $(seq %d); do alive "$pid" || return 0; sleep 0.25; done' % wait_steps,
        '    echo "$1: pid $pid still running after SIG$2: killed" >&2',
        '    pkill -KILL -P "$pid"; kill -KILL "$pid" 2>/dev/null; status=1',
        "}",
    ]
    lines += ["stop %s %s" % (shlex.quote(pidfile), signame) for pidfile, signame in entries]
    if remove_dir:
        lines.append("rm -rf %s" % shlex.quote(remove_dir))
    lines.append("exit $status")
    return "\n".join(lines) + "\n"


def teardown(lab):
    """Every lab container: stop what the benchmark started, remove its scratch directory. Returns the problems."""
    script = render_teardown_script(TEARDOWN_ENTRIES, remove_dir=configs.SCRATCH)
    problems = []
    for host in [lab.lb] + list(lab.app_hosts):
        try:
            proc = sh(lab.container(host), script, timeout=90, check=False)
        except BenchError as error:
            problems.append("%s: %s" % (host, error))
            continue
        if proc.returncode != 0:
            problems.append("%s: %s" % (host, tail(proc.stderr) or "exit %d" % proc.returncode))
    for problem in problems:
        print("warning: teardown: %s" % problem, file=sys.stderr)
    return problems


# --- Measuring --------------------------------------------------------------------------------------------


def measure_role(lab, args):
    pool = ", ".join(lab.app_hosts)
    rows = []
    if "role" in args.targets:
        row = {"target": "role", "label": "role stack: lb1's nginx (role defaults) → %s" % pool, "short": "role stack (lb1)"}
        rows.append(measure(dict(row, backends=pool), "http://%s/" % lab.ip(lab.lb), args, "localhost"))
    if "role-port" in args.targets:
        lb_port = os.environ.get("LAB_PORT", "8080")
        row = {
            "target": "role-port",
            "label": "role stack via 127.0.0.1:%s (Docker's port proxy in front)" % lb_port,
            "short": "role stack via 127.0.0.1:%s" % lb_port,
            "backends": pool,
        }
        rows.append(measure(row, "http://127.0.0.1:%s/" % lb_port, args))
    return rows


def measure_direct(lab, args):
    rows = []
    for host in lab.app_hosts:
        row = {
            "target": "direct:" + host,
            "label": "%s directly (%s)" % (host, lab.describe(host)),
            "short": "%s direct (%s)" % (host, lab.describe(host)),
            "backends": host,
        }
        port = lab.hostvars[host].get("flask_app_port", 8000)
        rows.append(measure(row, "http://%s:%s/" % (lab.ip(host), port), args))
    return rows


def measure_seed(lab, args, seed, deployment):
    port = configs.SEED000_PORT if seed == "seed000" else configs.SEED002_PORT
    row = {
        "target": seed,
        "label": SEED_TITLES[seed],
        "short": SEED_TITLES[seed].split(":")[0] + (" (uWSGI socket)" if seed == "seed000" else " (gunicorn gevent)"),
        "backends": ", ".join(deployment.hosts),
    }
    return measure(row, "http://%s:%d/" % (lab.ip(lab.lb), port), args, "localhost")


def measure_targets(lab, args, deployment):
    rows = measure_role(lab, args)
    if "direct" in args.targets:
        rows += measure_direct(lab, args)
    if "dev" in args.targets:
        rows.append(measure_dev_server(lab, args))
    rows += [measure_seed(lab, args, seed, deployment) for seed in SEEDS if seed in args.targets]
    return rows


def run_benchmark(lab, args):
    """Deploy the recipes, measure every target, tear down. Returns (rows, deployment)."""
    print("==> clearing what an interrupted run may have left in the lab (%s)" % configs.SCRATCH, flush=True)
    teardown(lab)
    deployment = None
    try:
        seeds = [target for target in args.targets if target in SEEDS]
        if seeds:
            deployment = deploy_seeds(lab, seeds, args.seed_hosts, args.venv_timeout)
        return measure_targets(lab, args, deployment), deployment
    finally:
        print("==> teardown: stopping what the benchmark started, removing %s" % configs.SCRATCH, flush=True)
        teardown(lab)


def time_site():
    """(seconds, changed) of a no-op re-run of site.yml."""
    print("==> no-op re-run of site.yml", flush=True)
    start = time.monotonic()
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0")
    out = run(["ansible-playbook", "site.yml"], timeout=3600, cwd=ROOT, env=env).stdout
    seconds = time.monotonic() - start
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", out))
    print("    %.0f s, changed=%d" % (seconds, changed))
    return seconds, changed


# --- Report -----------------------------------------------------------------------------------------------


def role_sections(lab, args, pool_text):
    lines = []
    if "role" in args.targets or "role-port" in args.targets:
        lines += [
            "### role stack (`role`, `role-port`)",
            "",
            "lb1's nginx as `site.yml` configured it (role defaults), `Host: localhost`; `role-port` goes through",
            "Docker's port proxy on 127.0.0.1 first. Its pool, as deployed (lb1, `flaskstack.d/upstreams.conf`):",
            "",
            "```nginx",
            pool_text,
            "```",
            "",
            "App servers as `site.yml` deployed them: %s." % "; ".join("%s %s" % (h, lab.describe(h)) for h in lab.app_hosts),
            "",
        ]
    if "direct" in args.targets:
        lines += ["### app hosts hit directly (`direct`)", "", "Each role-managed app server on its own port, no nginx.", ""]
    if "dev" in args.targets:
        lines += [
            "### Flask development server (`dev`)",
            "",
            "`app.run(threaded=True)` on %s, port %d, from the release and its virtualenv, as the app user." % (DEV_HOST, DEV_PORT),
            "",
        ]
    return lines


def seed_sections(lab, deployment):
    lines = []
    for seed in SEEDS:
        if not deployment or seed not in deployment.configs:
            continue
        lines += [
            "### %s (`%s`)" % (SEED_TITLES[seed], seed),
            "",
            SEED_SUMMARIES[seed],
            "",
            "Backends: %s (the role stack's: %s), `Host: localhost`; nginx on %s." % (
                ", ".join(deployment.hosts),
                ", ".join(lab.app_hosts),
                lab.lb,
            ),
            "",
        ]
        lines += ["- %s" % note for note in deployment.notes[seed]]
        lines.append("")
        for title, text, language in deployment.configs[seed]:
            lines += report.details("<code>%s</code>, as deployed" % title, text, language)
    return lines


def write_outputs(args, lab, rows, deployment, pool_text, site):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = report.RunInfo(now, os.cpu_count(), platform.machine(), args.duration, args.connections)
    ratios = report.compute_ratios(rows, DEV_HOST)
    plot_link = None
    if not args.no_plot:
        title = "flaskstack lab, %s: wrk 2 threads, %d connections, %d s per target" % (now, args.connections, args.duration)
        report.plot_results(rows, args.plot, title)
        plot_link = os.path.relpath(args.plot, os.path.dirname(os.path.abspath(args.output)))
        print("==> wrote %s" % args.plot)
    sections = role_sections(lab, args, pool_text) + seed_sections(lab, deployment)
    text = report.render_report(info, rows, ratios, sections, site, plot_link)
    pathlib.Path(args.output).write_text(text, encoding="utf-8")
    print("==> wrote %s" % args.output)
    for item in ratios:
        print("    %s: %s" % (item.text, report.format_ratio(item.value)))


# --- Command line -----------------------------------------------------------------------------------------


def parse_targets(text):
    """--targets: names from TARGETS, comma-separated, in any order; measured in TARGETS' order."""
    wanted = {name.strip() for name in text.split(",") if name.strip()}
    unknown = wanted - set(TARGETS)
    if unknown or not wanted:
        raise argparse.ArgumentTypeError("unknown target(s) %s: choose from %s" % (", ".join(sorted(unknown)) or "''", ", ".join(TARGETS)))
    return [name for name in TARGETS if name in wanted]


def parse_hosts(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Targets: %s. Read the module docstring (benchmarks/stack.py) for what each is." % ", ".join(TARGETS),
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--skip-site", action="store_true", help="do not time a no-op site.yml")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks" / "stack.md"), help="the markdown report")
    parser.add_argument(
        "--targets", type=parse_targets, default=list(TARGETS), help="comma-separated subset of: %s (default: all)" % ", ".join(TARGETS)
    )
    parser.add_argument(
        "--seed-hosts", type=parse_hosts, default=None, help="app hosts for the recipes' servers, comma-separated (default: all app hosts)"
    )
    parser.add_argument(
        "--venv-timeout", type=int, default=600, help="seconds for each step of a scratch virtualenv (venv, pip) (default 600)"
    )
    parser.add_argument("--plot", default=str(ROOT / "docs" / "benchmarks" / "stack.png"), help="the PNG plot")
    parser.add_argument("--no-plot", action="store_true", help="no plot (matplotlib not needed)")
    return parser.parse_args(argv)


def check_args(args, lab):
    if args.seed_hosts is None:
        args.seed_hosts = list(lab.app_hosts)
    unknown = [host for host in args.seed_hosts if host not in lab.app_hosts]
    if unknown or not args.seed_hosts:
        raise BenchError("--seed-hosts: %s not in the app group (%s)" % (", ".join(unknown) or "none", ", ".join(lab.app_hosts)))
    if "dev" in args.targets and DEV_HOST not in lab.app_hosts:
        raise BenchError("the dev target runs on %s, which is not an app host of the lab" % DEV_HOST)
    if not args.no_plot and importlib.util.find_spec("matplotlib") is None:
        raise BenchError(
            "matplotlib is missing: `make bench` installs benchmarks/requirements.txt into the venv (or pass --no-plot)"
        )


def exit_on_sigterm():
    """SIGTERM ends the run like Ctrl-C does: through the finally blocks, so teardown runs."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv):
    args = parse_args(argv[1:])
    exit_on_sigterm()
    try:
        lab = load_lab()
        check_args(args, lab)
        require_running(lab)
        pool_text = role_pool(lab)
        rows, deployment = run_benchmark(lab, args)
        site = None if args.skip_site else time_site()
    except BenchError as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    write_outputs(args, lab, rows, deployment, pool_text, site)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
