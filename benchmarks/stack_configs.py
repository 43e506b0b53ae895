# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The hand-written configurations benchmarks/stack.py deploys next to the role stack, rendered as text.

Pure functions, no I/O. Two of the recipes this collection replaces (DESIGN.md, "The recipes it replaces"),
written the way the recipes write them, with only what the lab forces changed (each change is a comment in
the rendered file):

- seed-000: nginx load-balancing the app hosts over `uwsgi_pass` to uWSGI on a TCP `socket` (uwsgi
  protocol): the recipe's uwsgi8081.ini (master, processes = 2, threads = 4, stats, logdate, daemonize,
  pidfile) and its nginx.conf (globals, `upstream my_servers`, `include uwsgi_params`, UWSGI_CHDIR and
  UWSGI_SCRIPT params, error_page 50x).
- seed-002: nginx `proxy_pass` with the X-Real-IP / Host / X-Forwarded-For headers to
  `gunicorn --workers 3 --worker-class gevent`: the stock nginx.conf of a source build plus the recipe's
  `include sites/*.conf` and its sites/app.conf.

Everything runs from a scratch directory (SCRATCH) in the lab containers, on ports the role stack does not use,
so that the role-managed files, services and ports stay untouched.
"""

import dataclasses

# Everything the benchmark writes in a container lives here; teardown removes it.
SCRATCH = "/tmp/flaskstack-bench"
# A word every process the benchmark starts has in its command line: teardown checks it before a signal.
MARKER = "flaskstack-bench"
SCRATCH_VENV = SCRATCH + "/venv"

# seed-000: uWSGI on each app host (the recipe's first node: socket 8081, stats 9091), nginx on lb1.
SEED000_PORT = 8081
SEED000_STATS = "127.0.0.1:9091"
# Issue 11 states the target as 4 processes x 2 threads; the recipe's own ini says processes = 2,
# threads = 4. The same 8 threads per host; issue 11's split is used.
SEED000_PROCESSES = 4
SEED000_THREADS = 2
SEED000_NGINX_WORKERS = 2
SEED000_UWSGI_DIR = SCRATCH + "/seed000-uwsgi"
SEED000_UWSGI_PID = "%s/pids/uwsgi%d.pid" % (SEED000_UWSGI_DIR, SEED000_PORT)
SEED000_NGINX_DIR = SCRATCH + "/seed000-nginx"
SEED000_NGINX_PID = SEED000_NGINX_DIR + "/pid/nginx.pid"

# seed-002: gunicorn on each app host, nginx on lb1.
SEED002_PORT = 8082
SEED002_WORKERS = 3
SEED002_GUNICORN_DIR = SCRATCH + "/seed002-gunicorn"
SEED002_GUNICORN_PID = SEED002_GUNICORN_DIR + "/gunicorn.pid"
SEED002_NGINX_DIR = SCRATCH + "/seed002-nginx"
SEED002_NGINX_PID = SEED002_NGINX_DIR + "/logs/nginx.pid"

# The gunicorn role's pins (roles/gunicorn/vars/main.yml), so that both stacks run the same versions, and the
# wheel of uWSGI for a host that has no uWSGI at all (no compiler needed).
GUNICORN_PIN = "gunicorn==23.0.0"
GEVENT_PIN = "gevent==25.9.1"
PYUWSGI_PIN = "pyuwsgi==2.0.30.post1"

# Where uWSGI comes from on a host: the release virtualenv (uwsgi_install_method: pip), Debian's package
# (apt, with its python3 plugin) or the scratch virtualenv (pyuwsgi).
UWSGI_SOURCES = ("release", "debian", "scratch")

# nginx's compiled-in temporary paths (Debian: /var/lib/nginx/*) are shared with the role's nginx, and a master
# started as root chowns them to its worker user: every seed nginx gets its own.
NGINX_TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclasses.dataclass(frozen=True)
class AppLayout:
    """Where flask_app put the app on a host (role defaults unless the inventory says otherwise)."""

    name: str = "flask_app"
    user: str = "flask_app"
    base_dir: str = "/srv/flask_app"
    module: str = "app"
    app_callable: str = "app"
    requirements: str = "requirements.txt"

    @property
    def current(self):
        return self.base_dir + "/current"

    @property
    def venv(self):
        return self.current + "/venv"

    @property
    def env_file(self):
        return self.base_dir + "/shared/env"

    @property
    def wsgi_file(self):
        """The module as a file under `current`, for uWSGI's wsgi-file (the recipe's main.py)."""
        return self.module.replace(".", "/") + ".py"

    @classmethod
    def from_hostvars(cls, hostvars):
        name = hostvars.get("flask_app_name", cls.name)
        app_callable = hostvars.get("flask_app_callable", cls.app_callable)
        if "(" in app_callable:
            raise ValueError("flask_app_callable %r is an app factory: the recipes need a plain callable" % app_callable)
        return cls(
            name=name,
            user=hostvars.get("flask_app_user", name),
            base_dir=hostvars.get("flask_app_base_dir", "/srv/" + name),
            module=hostvars.get("flask_app_module", cls.module),
            app_callable=app_callable,
            requirements=hostvars.get("flask_app_requirements_file", cls.requirements),
        )


def upstream_block(name, servers, indent="    "):
    """An nginx upstream of plain `server host:port;` lines: round robin, equal weights, as the recipes write it."""
    lines = ["%supstream %s {" % (indent, name)]
    lines += ["%s    server %s;" % (indent, server) for server in servers]
    lines.append("%s}" % indent)
    return lines


def nginx_temp_paths(workdir, indent="    "):
    return ["%s%s_temp_path %s/tmp/%s;" % (indent, kind, workdir, kind) for kind in NGINX_TEMP_PATHS]


def render_seed000_uwsgi_ini(app, uwsgi_source, workdir=SEED000_UWSGI_DIR):
    """seed-000's uwsgi8081.ini for one app host.

    uwsgi_source: release (the release virtualenv's uwsgi), debian (/usr/bin/uwsgi) or scratch (pyuwsgi in the
    scratch virtualenv, which has the app's requirements).
    """
    if uwsgi_source not in UWSGI_SOURCES:
        raise ValueError("unknown uWSGI source %r" % uwsgi_source)
    lines = [
        "; seed-000 (uwsgi%d.ini), as the recipe writes it. Lab changes: the recipe's /mydata/openmind_server is"
        % SEED000_PORT,
        "; %s; the socket listens on every address, since nginx runs on another host." % workdir,
        "[uwsgi]",
        "socket = 0.0.0.0:%d" % SEED000_PORT,
        "master = true",
        "pidfile = %s/pids/uwsgi%d.pid" % (workdir, SEED000_PORT),
        "chdir = %s/" % app.current,
        "wsgi-file = %s" % app.wsgi_file,
        "callable = %s" % app.app_callable,
        "processes = %d" % SEED000_PROCESSES,
        "threads = %d" % SEED000_THREADS,
        "stats = %s" % SEED000_STATS,
        "logdate = true",
        "daemonize = %s/logs/flask%d.log" % (workdir, SEED000_PORT),
    ]
    if uwsgi_source == "debian":
        lines += ["; Lab change: Debian's uWSGI loads Python as a plugin.", "plugins = python3"]
    if uwsgi_source in ("release", "debian"):
        lines += [
            "; Lab change: Flask comes from the release's virtualenv (the recipe pip-installs it system-wide).",
            "virtualenv = %s" % app.venv,
        ]
    return "\n".join(lines) + "\n"


def render_seed000_nginx_conf(workdir, servers, app, listen=SEED000_PORT):
    """seed-000's nginx.conf: the recipe's globals and server block, its upstream listing the given servers."""
    lines = [
        "# seed-000 nginx.conf, as the recipe writes it. Lab changes: its /mydata/nginx paths are under %s;" % workdir,
        "# it listens on %d (lb1's port 80 is the role stack's); the upstream lists the lab's app hosts;" % listen,
        "# temporary paths of its own (benchmark isolation: see NGINX_TEMP_PATHS in benchmarks/stack_configs.py);",
        "# mime.types and uwsgi_params beside it are copies of the role-managed nginx's.",
        "worker_processes  %d;" % SEED000_NGINX_WORKERS,
        "error_log  %s/log/error.log;" % workdir,
        "pid        %s/pid/nginx.pid;" % workdir,
        "",
        "events {",
        "    use epoll;",
        "    multi_accept on;",
        "    worker_connections  1024;",
        "}",
        "",
        "http {",
        "    include       mime.types;",
        "    default_type  application/octet-stream;",
        "",
        "    server_names_hash_bucket_size 128;",
        "    client_header_buffer_size 32k;",
        "    client_body_buffer_size 512k;",
        "    client_max_body_size 32m;",
        "    large_client_header_buffers 4 32k;",
        "",
        "    access_log  %s/log/access.log;" % workdir,
        "",
        "    sendfile        on;",
        "    tcp_nodelay on;",
        "    server_tokens off;",
        "    access_log off;",
        "    charset UTF-8;",
        "    keepalive_timeout  60;",
        "",
        "    open_file_cache max=1024 inactive=20s;",
        "    open_file_cache_valid 60s;",
        "    open_file_cache_min_uses 2;",
        "",
    ]
    lines += nginx_temp_paths(workdir)
    lines.append("")
    lines += upstream_block("my_servers", servers)
    lines += [
        "",
        "    server {",
        "        listen       %d;" % listen,
        "        server_name  localhost default backlog=256;",
        "        access_log  %s/log/host.access.log;" % workdir,
        "",
        "        location / {",
        "            uwsgi_pass my_servers;",
        "            include uwsgi_params;",
        "            uwsgi_param UWSGI_CHDIR %s/;" % app.current,
        "            uwsgi_param UWSGI_SCRIPT %s;" % app.module,
        "        }",
        "",
        "        error_page   500 502 503 504  /50x.html;",
        "        location = /50x.html {",
        "            root   html;",
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_seed002_nginx_conf(workdir):
    """seed-002's nginx.conf: a source build's stock nginx.conf plus the recipe's `include sites/*.conf`."""
    lines = [
        "# seed-002 nginx.conf: the stock nginx.conf of a source build (/usr/local/nginx/conf), which the recipe",
        "# edits only to add `include sites/*.conf`. Lab changes: the stock example server on port 80 is left out",
        "# (lb1's port 80 is the role stack's); pid, logs and temporary paths under %s;" % workdir,
        "# mime.types beside it is a copy of the role-managed nginx's.",
        "worker_processes  1;",
        "error_log  %s/logs/error.log;" % workdir,
        "pid        %s/logs/nginx.pid;" % workdir,
        "",
        "events {",
        "    worker_connections  1024;",
        "}",
        "",
        "http {",
        "    include       mime.types;",
        "    default_type  application/octet-stream;",
        "    access_log  %s/logs/access.log;" % workdir,
        "",
        "    sendfile        on;",
        "    keepalive_timeout  65;",
        "",
    ]
    lines += nginx_temp_paths(workdir)
    lines += [
        "",
        "    include       sites/*.conf;",
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_seed002_site_conf(workdir, servers, listen=SEED002_PORT):
    """seed-002's sites/app.conf: static files by regex location, everything else proxied to gunicorn."""
    lines = [
        "# seed-002 sites/app.conf, as the recipe writes it. Lab changes: it listens on %d; proxy_pass goes to an" % listen,
        "# upstream of the lab's app hosts (the recipe: http://127.0.0.1:8000, gunicorn on the nginx host); lb1 has",
        "# no copy of the app, so the static root is an empty scratch directory.",
    ]
    lines += upstream_block("gunicorn_servers", servers, indent="")
    lines += [
        "",
        "server {",
        "    listen      %d;" % listen,
        "",
        "    root        %s/www;" % workdir,
        "    server_name localhost;",
        "",
        "    location ~ ^\\/static\\/.*$ {",
        "        root %s/www;" % workdir,
        "    }",
        "",
        "    location / {",
        "        proxy_pass       http://gunicorn_servers;",
        "        proxy_set_header X-Real-IP $remote_addr;",
        "        proxy_set_header Host $host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def seed002_gunicorn_argv(gunicorn, app, pidfile=SEED002_GUNICORN_PID, port=SEED002_PORT):
    """The recipe's supervisor command, `gunicorn --bind ... --workers 3 --worker-class gevent index:app`.

    Lab changes: it binds every address on `port` (nginx is on another host) and writes a pid file for teardown.
    """
    return [
        gunicorn,
        "--bind",
        "0.0.0.0:%d" % port,
        "--workers",
        str(SEED002_WORKERS),
        "--worker-class",
        "gevent",
        "--pid",
        pidfile,
        "%s:%s" % (app.module, app.app_callable),
    ]
