"""benchmarks/gunicorn_reload.py's parts that start no gunicorn or nginx and use no network: options, variants,
the server's command line, nginx's configuration and error log, tallies, the report."""

import collections
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))

import gunicorn_reload as bench  # noqa: E402  pylint: disable=wrong-import-position


def result(kind, requests, failed=0, connections=1, **errors):
    one = bench.ClientResult(kind, requests=requests, connections=connections)
    for name, count in errors.items():
        for dummy in range(count):
            one.fail(name)
    assert one.failed == failed
    return one


def row(variant, mode, run, fresh_failed=0, kept_failed=0, requests=1000, nginx=None):
    results = [result("fresh", requests, fresh_failed, connections=requests, ConnectionResetError=fresh_failed),
               result("kept-alive", requests, kept_failed, connections=4 + kept_failed, RemoteDisconnected=kept_failed)]
    return bench.tally(variant, mode, run, results, boots=27, seconds=15.2, nginx=nginx)


VARIANTS = ["23.0.0-stock", "23.0.0-draining", "27.0.1-stock"]
INFO = bench.RunInfo("2026-12-07 21:47 UTC", 2, "x86_64", "3.11.7", (16.8, 18.0, 14.75), VARIANTS, list(bench.MODES),
                     8, 2, "nginx/1.22.1", "", "0123456789ab")
# What nginx 1.22 writes at `error_log ... warn` when gunicorn (127.0.0.1:40123) closes a reused connection.
NGINX_LOG = "\n".join([
    '2026/12/07 21:47:03 [error] 20#20: *1021 upstream prematurely closed connection while reading response header'
    ' from upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:40123/",'
    ' host: "127.0.0.1:40200"',
    '2026/12/07 21:47:03 [warn] 20#20: *1021 upstream server temporarily disabled while reading response header'
    ' from upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:40123/",'
    ' host: "127.0.0.1:40200"',
    '2026/12/07 21:47:04 [error] 20#20: *1090 recv() failed (104: Connection reset by peer) while reading response'
    ' header from upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream:'
    ' "http://127.0.0.1:40123/", host: "127.0.0.1:40200"',
    '2026/12/07 21:47:04 [error] 20#20: *1091 no live upstreams while connecting to upstream, client: 127.0.0.1,'
    ' server: , request: "GET / HTTP/1.1", upstream: "http://gunicorn/", host: "127.0.0.1:40200"',
    '2026/12/07 21:47:04 [error] 20#20: *1092 no live upstreams while connecting to upstream, client: 127.0.0.1,'
    ' server: , request: "GET / HTTP/1.1", upstream: "http://gunicorn/", host: "127.0.0.1:40200"',
    # the draining stand-in (another port), the client's side, another gunicorn's port, nginx's own notes: not counted
    '2026/12/07 21:47:02 [warn] 20#20: *1000 upstream server temporarily disabled while reading response header'
    ' from upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:40124/",'
    ' host: "127.0.0.1:40200"',
    '2026/12/07 21:47:05 [info] 20#20: *1200 writev() failed (104: Connection reset by peer) while sending to'
    ' client, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:40123/",'
    ' host: "127.0.0.1:40200"',
    '2026/12/07 21:47:05 [error] 20#20: *1201 upstream prematurely closed connection while reading response header'
    ' from upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:4012/",'
    ' host: "127.0.0.1:40200"',
    '2026/12/07 21:47:01 [notice] 19#19: using the "epoll" event method',
    '2026/12/07 21:47:06 [error] 20#20: *1300 upstream sent invalid header while reading response header from'
    ' upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:40123/",'
    ' host: "127.0.0.1:40200"',
])


# --- options -------------------------------------------------------------------------------------------------


def test_defaults(monkeypatch):
    monkeypatch.setattr(bench.shutil, "which", lambda name: "/usr/sbin/%s" % name)
    args = bench.parse_args([])
    assert (args.hups, args.repeat, args.variants) == (8, 1, ["23.0.0-stock", "23.0.0-draining", "27.0.1-stock"])
    assert args.modes == ["hup", "hup+max_requests", "nginx", "nginx+draining"]
    assert args.nginx == "/usr/sbin/nginx"
    assert args.report == str(ROOT / "docs" / "benchmarks" / "gunicorn_reload.md")
    assert args.plot == str(ROOT / "docs" / "benchmarks" / "gunicorn_reload.png")
    assert args.cache_dir == str(ROOT / ".cache" / "bench")


def test_options():
    args = bench.parse_args(["--hups", "0", "--repeat", "3", "--variants", " 27.0.1, 22.0.0rc1-draining,27.0.1-stock",
                             "--modes", "nginx, hup", "--nginx", "/opt/nginx/sbin/nginx",
                             "--report", "/tmp/r.md", "--plot", "/tmp/r.png", "--cache-dir", "/tmp/c"])
    assert (args.hups, args.repeat, args.variants) == (0, 3, ["27.0.1-stock", "22.0.0rc1-draining"])
    assert args.modes == ["hup", "nginx"]  # in the benchmark's order
    assert args.nginx == "/opt/nginx/sbin/nginx"
    assert (args.report, args.plot, args.cache_dir) == ("/tmp/r.md", "/tmp/r.png", "/tmp/c")


def test_no_nginx_on_path(monkeypatch):
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    assert bench.parse_args([]).nginx is None


@pytest.mark.parametrize("argv", [
    ["--repeat", "0"], ["--hups", "-1"], ["--hups", "x"], ["--variants", ""], ["--variants", ","],
    ["--variants", "23.0.0,latest"], ["--variants", "23.0.0; rm -rf /"], ["--variants", "gunicorn==23.0.0"],
    ["--variants", "23.0.0-gevent"], ["--variants", "23.0.0-"], ["--variants", "-draining"], ["--modes", ""],
    ["--modes", "hup,nginx-draining"], ["--modes", "nginx,,x"],
])
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_help_runs_without_gunicorn():
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "gunicorn_reload.py"), "--help"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "--hups" in proc.stdout and "--variants" in proc.stdout and "benoitc/gunicorn#3394" in proc.stdout
    assert "DrainingThreadWorker" in proc.stdout and "went back to 23.0.0" in proc.stdout


# --- variants ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, variant, label", [
    ("23.0.0", "23.0.0-stock", "23.0.0 stock gthread"),
    ("23.0.0-stock", "23.0.0-stock", "23.0.0 stock gthread"),
    ("23.0.0-draining", "23.0.0-draining", "23.0.0 + the role's DrainingThreadWorker"),
    ("27.0.1", "27.0.1-stock", "27.0.1 stock gthread"),
    ("22.0.0rc1-draining", "22.0.0rc1-draining", "22.0.0rc1 + the role's DrainingThreadWorker"),
])
def test_variant_names(text, variant, label):
    assert bench.parse_variant(text) == variant
    assert bench.variant_label(variant) == label
    assert bench.variant_version(variant) == text.split("-")[0]
    assert bench.variant_worker(variant) in bench.WORKER_KINDS


def test_the_role_s_worker_is_read_from_the_checkout():
    assert bench.WORKER_FILE == ROOT / "roles" / "gunicorn" / "files" / "flaskstack_gunicorn_worker.py"
    assert bench.WORKER_FILE.is_file()
    module, name = bench.WORKER_CLASS.rsplit(".", 1)
    assert module == bench.WORKER_FILE.stem
    assert "class %s(" % name in bench.WORKER_FILE.read_text()
    assert "class %s(" % name not in (BENCHMARKS / "gunicorn_reload.py").read_text()  # not copied


# --- the virtualenvs and the server's command line --------------------------------------------------------------


def test_one_virtualenv_per_version_keyed_by_its_pins():
    assert bench.venv_dir(ROOT / ".cache" / "bench", "23.0.0") == ROOT / ".cache" / "bench" / "gunicorn-23.0.0"
    assert bench.pins("27.0.1") == ["gunicorn==27.0.1"]


def test_a_reused_virtualenv_is_not_touched(tmp_path, monkeypatch):
    path = bench.venv_dir(tmp_path, "27.0.1")
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "gunicorn").write_text("")
    (path / "flaskstack-bench.json").write_text(
        '{"pins": ["gunicorn==27.0.1"], "python": "%s"}' % bench.platform.python_version())

    def no_subprocess(*args, **kwargs):
        raise AssertionError("no pip for a virtualenv whose pins match")

    monkeypatch.setattr(bench.subprocess, "run", no_subprocess)
    assert bench.ensure_venv(tmp_path, "27.0.1") == path / "bin" / "gunicorn"


@pytest.mark.parametrize("mode", list(bench.MODES))
def test_gunicorn_argv(mode):
    argv = bench.gunicorn_argv("/v/bin/gunicorn", "27.0.1-stock", mode, 40123, "/tmp/app")
    workers = "5" if mode.startswith("nginx") else "3"
    assert argv[:11] == ["/v/bin/gunicorn", "-k", "gthread", "-w", workers, "--threads", "2", "--keep-alive", "5",
                         "-b", "127.0.0.1:40123"]
    assert argv[11:13] == ["--chdir", "/tmp/app"]
    assert argv[-1] == "app:application"
    recycles = {"hup": [], "hup+max_requests": ["--max-requests", "200", "--max-requests-jitter", "50"],
                "nginx": ["--max-requests", "1000", "--max-requests-jitter", "100"]}
    assert argv[13:-1] == recycles.get(mode, recycles["nginx"])


def test_gunicorn_argv_with_the_role_s_worker():
    argv = bench.gunicorn_argv("/v/bin/gunicorn", "23.0.0-draining", "nginx", 40123, "/tmp/app")
    worker_dir = str(ROOT / "roles" / "gunicorn" / "files")
    assert argv[:5] == ["/v/bin/gunicorn", "-k", "flaskstack_gunicorn_worker.DrainingThreadWorker", "--pythonpath",
                        worker_dir]
    assert argv[5:] == bench.gunicorn_argv("/v/bin/gunicorn", "23.0.0-stock", "nginx", 40123, "/tmp/app")[3:]


def test_the_modes():
    assert [(name, mode.workers, mode.hups, mode.nginx) for name, mode in bench.MODES.items()] == [
        ("hup", 3, True, ""), ("hup+max_requests", 3, True, ""), ("nginx", 5, False, "alone"),
        ("nginx+draining", 5, False, "draining")]
    # the role's defaults (roles/gunicorn/defaults/main.yml) behind nginx
    defaults = (ROOT / "roles" / "gunicorn" / "defaults" / "main.yml").read_text()
    for name, value in (("max_requests", 1000), ("max_requests_jitter", 100), ("keepalive", 5), ("threads", 2)):
        assert "gunicorn_%s: %d" % (name, value) in defaults, name
    assert (bench.ROLE_MAX_REQUESTS, bench.ROLE_MAX_REQUESTS_JITTER, bench.KEEP_ALIVE) == (1000, 100, 5)


# --- nginx -----------------------------------------------------------------------------------------------------


def test_nginx_conf():
    text = bench.nginx_conf("/tmp/w/nginx-x", 40200, 40123)
    lines = [line.strip() for line in text.splitlines()]
    for line in ("daemon off;", "worker_processes 1;", "pid /tmp/w/nginx-x/nginx.pid;",
                 "error_log /tmp/w/nginx-x/error.log warn;", "access_log off;",
                 "proxy_temp_path /tmp/w/nginx-x/proxy;", "client_body_temp_path /tmp/w/nginx-x/client_body;",
                 "upstream gunicorn {", "server 127.0.0.1:40123 max_fails=1 fail_timeout=10s;", "keepalive 32;",
                 "listen 127.0.0.1:40200;", "proxy_pass http://gunicorn;", "proxy_http_version 1.1;",
                 'proxy_set_header Connection "";', "proxy_next_upstream error timeout http_502 http_503 http_504;",
                 "proxy_next_upstream_tries 2;"):
        assert line in lines, line
    listens = [line for line in lines if line.startswith("listen ")]
    assert listens == ["listen 127.0.0.1:40200;"]  # loopback only, one server
    assert "return 503;" not in lines and not any(line.startswith("user ") for line in lines)
    assert text.count("{") == text.count("}")


def test_nginx_conf_with_a_draining_server_and_a_user():
    text = bench.nginx_conf("/tmp/w/n", 40200, 40123, draining_port=40124, user="nobody nogroup")
    lines = [line.strip() for line in text.splitlines()]
    assert "user nobody nogroup;" in lines
    servers = [line for line in lines if line.startswith("server 127.0.0.1:")]
    assert servers == ["server 127.0.0.1:40123 max_fails=1 fail_timeout=10s;",
                       "server 127.0.0.1:40124 max_fails=1 fail_timeout=10s;  # a host a rolling update drains"]
    listens = [line for line in lines if line.startswith("listen ")]
    assert listens == ["listen 127.0.0.1:40200;", "listen 127.0.0.1:40124;"]
    assert "return 503;" in lines
    assert text.count("{") == text.count("}")


def test_nginx_argv():
    assert bench.nginx_argv("/usr/sbin/nginx", "/tmp/w/n") == [
        "/usr/sbin/nginx", "-p", "/tmp/w/n/", "-c", "/tmp/w/n/nginx.conf", "-e", "/tmp/w/n/error.log"]


def test_nginx_upstream_events():
    events = bench.nginx_upstream_events(NGINX_LOG, 40123)
    assert events == collections.Counter({"prematurely closed": 1, "reset by peer": 1, "temporarily disabled": 1,
                                          "no live upstreams": 2, "other": 1})
    assert bench.upstream_errors(events) == 3  # the connection errors, not what nginx did about them
    assert bench.nginx_upstream_events(NGINX_LOG, 40124) == {"temporarily disabled": 1, "no live upstreams": 2}
    assert bench.nginx_upstream_events("", 40123) == {}
    assert bench.upstream_errors(collections.Counter()) == 0
    assert bench.upstream_errors(None) is None


def test_nginx_text():
    assert bench.nginx_text(None) == "—"
    assert bench.nginx_text(collections.Counter()) == "—"
    assert bench.nginx_text(bench.nginx_upstream_events(NGINX_LOG, 40123)) == (
        "other × 1, prematurely closed × 1, reset by peer × 1; no live upstreams × 2, temporarily disabled × 1")
    assert bench.nginx_text(collections.Counter({"no live upstreams": 79262})) == "no live upstreams × 79,262"


def test_the_load_goes_only_to_loopback():
    assert bench.HOST == "127.0.0.1"
    assert (bench.FRESH_CLIENTS, bench.KEPT_ALIVE_CLIENTS) == (2, 4)


def test_a_variant_is_bounded():
    """Start, load through the default 8 HUPs (or nginx's 20 s), the clients' last requests, stop."""
    load = bench.HUP_INTERVAL * 8 + bench.SETTLE
    worst = bench.START_TIMEOUT + load + bench.CLIENT_TIMEOUT + 0.5 + bench.STOP_TIMEOUT
    assert load == 15
    assert worst <= 32
    behind = bench.START_TIMEOUT + bench.NGINX_START_TIMEOUT + bench.NGINX_LOAD + bench.CLIENT_TIMEOUT + 0.5 \
        + 2 * bench.STOP_TIMEOUT
    assert bench.NGINX_LOAD == 20
    assert behind <= 47


def test_count_boots():
    log = "\n".join([
        "[2026-12-07 21:47:01 +0000] [100] [INFO] Starting gunicorn 27.0.1",
        "[2026-12-07 21:47:01 +0000] [101] [INFO] Booting worker with pid: 101",
        "[2026-12-07 21:47:01 +0000] [102] [INFO] Booting worker with pid: 102",
        "[2026-12-07 21:47:02 +0000] [100] [INFO] Handling signal: hup",
        "[2026-12-07 21:47:02 +0000] [103] [INFO] Booting worker with pid: 103",
    ])
    assert bench.count_boots(log) == 3
    assert bench.count_boots("") == 0


# --- tallies and the report ---------------------------------------------------------------------------------------


def test_tally_sums_per_client_kind():
    results = [result("fresh", 100, 2, connections=100, ConnectionResetError=2), result("fresh", 50),
               result("kept-alive", 300, 1, connections=6, RemoteDisconnected=1),
               result("kept-alive", 200, 2, connections=3, RemoteDisconnected=1, BrokenPipeError=1)]
    one = bench.tally("23.0.0-stock", "hup", 2, results, boots=27, seconds=15.0)
    assert one["fresh"] == {"clients": 2, "requests": 150, "failed": 2, "connections": 101}
    assert one["kept-alive"] == {"clients": 2, "requests": 500, "failed": 3, "connections": 9}
    assert one["errors"] == collections.Counter(ConnectionResetError=2, RemoteDisconnected=2, BrokenPipeError=1)
    assert (one["variant"], one["mode"], one["run"], one["boots"], one["seconds"], one["nginx"]) == (
        "23.0.0-stock", "hup", 2, 27, 15.0, None)


def test_client_result_counts_failures_by_kind():
    one = bench.ClientResult("kept-alive")
    one.fail("status 502")
    one.fail("status 502")
    one.fail("TimeoutError")
    assert one.failed == 3
    assert one.errors == {"status 502": 2, "TimeoutError": 1}


EVENTS = collections.Counter({"reset by peer": 17, "prematurely closed": 2})


def test_render_table():
    lines = bench.render_table([row("23.0.0-stock", "hup+max_requests", 1, 3, 12, requests=5400),
                                row("27.0.1-stock", "hup", 2),
                                row("23.0.0-draining", "nginx", 1, nginx=collections.Counter()),
                                row("23.0.0-stock", "nginx+draining", 1, 0, 3, nginx=EVENTS + collections.Counter(
                                    {"temporarily disabled": 2, "no live upstreams": 1234}))])
    assert lines[0].startswith("| gunicorn | mode | run | fresh: requests | fresh: failed | kept-alive: requests |")
    assert lines[0].endswith("| failures seen | nginx: upstream errors | nginx's log |")
    assert lines[1] == "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
    assert lines[2] == ("| 23.0.0 stock gthread | HUPs + max_requests 200 (jitter 50) | 1 | 5,400 | 3 | 5,400 | 12 | 16"
                        " | 27 | RemoteDisconnected × 12, ConnectionResetError × 3 | — | — |")
    assert lines[3] == "| 27.0.1 stock gthread | HUPs | 2 | 1,000 | 0 | 1,000 | 0 | 4 | 27 | — | — | — |"
    assert lines[4] == ("| 23.0.0 + the role's DrainingThreadWorker | behind nginx: max_requests 1000 (jitter 100),"
                        " no HUP | 1 | 1,000 | 0 | 1,000 | 0 | 4 | 27 | — | 0 | — |")
    assert lines[5].startswith("| 23.0.0 stock gthread | behind nginx, the other server draining (503): max_requests"
                               " 1000 (jitter 100), no HUP | 1 |")
    assert lines[5].endswith("| 19 | reset by peer × 17, prematurely closed × 2; no live upstreams × 1,234,"
                             " temporarily disabled × 2 |")


def test_render_table_without_a_boot_count():
    one = bench.tally("27.0.1-stock", "hup", 1, [result("fresh", 10)])
    assert bench.render_table([one])[2] == (
        "| 27.0.1 stock gthread | HUPs | 1 | 10 | 0 | 0 | 0 | 0 | n/a | — | — | — |")


def test_summary_one_bullet_per_mode():
    rows = [row("23.0.0-stock", "hup", 1, 1, 4), row("23.0.0-stock", "hup+max_requests", 1, 0, 20),
            row("27.0.1-stock", "hup", 1), row("27.0.1-stock", "hup+max_requests", 1),
            row("23.0.0-stock", "hup", 2, 0, 1), row("23.0.0-stock", "hup+max_requests", 2),
            row("27.0.1-stock", "hup", 2), row("27.0.1-stock", "hup+max_requests", 2)]
    lines = bench.summary(rows, 8)
    assert lines == [
        "Totals over 2 runs of each variant:",
        "- HUPs only (8 HUPs per run): 23.0.0 stock gthread failed 6 of 4,000 requests (1 on fresh connections, 5 on"
        " kept-alive ones); 27.0.1 stock gthread failed 0 of 4,000 requests.",
        "- HUPs + max_requests (8 HUPs per run): 23.0.0 stock gthread failed 20 of 4,000 requests (0 on fresh"
        " connections, 20 on kept-alive ones); 27.0.1 stock gthread failed 0 of 4,000 requests.",
    ]


def test_summary_behind_nginx():
    rows = [row("23.0.0-stock", "nginx", 1, nginx=EVENTS),
            row("23.0.0-draining", "nginx", 1, nginx=collections.Counter()),
            row("27.0.1-stock", "nginx", 1, nginx=collections.Counter()),
            row("23.0.0-stock", "nginx+draining", 1, 10, 20, nginx=collections.Counter(
                {"reset by peer": 1, "temporarily disabled": 1, "no live upstreams": 30}))]
    lines = bench.summary(rows, 8)
    assert lines[1] == (
        "- behind nginx (20 s of load per run, no HUP): 23.0.0 stock gthread failed 0 of 2,000 requests, nginx logged"
        " 19 upstream errors (reset by peer × 17, prematurely closed × 2); 23.0.0 + the role's DrainingThreadWorker"
        " failed 0 of 2,000 requests, nginx logged 0 upstream errors; 27.0.1 stock gthread failed 0 of 2,000"
        " requests, nginx logged 0 upstream errors.")
    assert lines[2] == (
        "- behind nginx, other server draining (20 s of load per run, no HUP): 23.0.0 stock gthread failed 30 of"
        " 2,000 requests (10 on fresh connections, 20 on kept-alive ones), nginx logged 1 upstream errors (reset by"
        " peer × 1; no live upstreams × 30, temporarily disabled × 1).")
    assert lines[3] == ("Behind nginx, upstream errors came from 23.0.0 stock gthread; none from 23.0.0 + the role's"
                        " DrainingThreadWorker and 27.0.1 stock gthread.")


def test_summary_when_nothing_failed():
    assert bench.summary([row("27.0.1-stock", "nginx", 1, nginx=collections.Counter())], 8)[-1] == (
        "Behind nginx, no variant caused an upstream error in these runs.")
    assert bench.summary([row("27.0.1-stock", "hup", 1)], 3) == [
        "Totals over one run of each variant:",
        "- HUPs only (3 HUPs per run): 27.0.1 stock gthread failed 0 of 2,000 requests."]
    assert bench.summary([], 8) == ["Nothing was measured."]


def test_render_report():
    rows = [row("23.0.0-stock", "hup", 1, 2, 5), row("23.0.0-draining", "hup", 1), row("27.0.1-stock", "hup", 1),
            row("27.0.1-stock", "nginx", 1, nginx=EVENTS)]
    text = bench.render_report(INFO, rows, plot_link="gunicorn_reload.png")
    lines = text.splitlines()
    assert lines[0] == "# gunicorn gthread: failed requests through graceful reloads and recycles"
    assert "- Date: 2026-12-07 21:47 UTC" in lines
    assert "- Machine: 2 cores (`nproc`), x86_64, load average 16.80, 18.00, 14.75 at the start; Python 3.11.7" in lines
    flat = " ".join(line.strip() for line in lines)
    for fragment in ("gunicorn: 23.0.0 stock gthread, 23.0.0 + the role's DrainingThreadWorker, 27.0.1 stock"
                     " gthread",
                     "`roles/gunicorn/files/flaskstack_gunicorn_worker.py` from the checkout (sha256 0123456789ab)",
                     "`-k flaskstack_gunicorn_worker.DrainingThreadWorker`", "(`--pythonpath`)",
                     "`gunicorn -w <workers> --threads 2 --keep-alive 5 -b 127.0.0.1:<free port>`",
                     "`--max-requests 200 --max-requests-jitter 50`", "2 client threads opening a new connection",
                     "4 reusing kept-alive HTTP/1.1 connections", "8 HUPs to the master per run, one every 1.5 s",
                     "nginx modes: nginx/1.22.1 (1 worker process", "127.0.0.1 only",
                     "with 5 workers and the role's recycling defaults `--max-requests 1000 --max-requests-jitter 100`",
                     "20 s of load sent to nginx", "`keepalive 32`", "`max_fails=1 fail_timeout=10s`",
                     "`proxy_http_version 1.1`", "`proxy_set_header Connection \"\"`",
                     "`proxy_next_upstream error timeout http_502 http_503 http_504`", "answers 503 to everything",
                     "Runs: 2 of every variant", "benoitc/gunicorn#3394", "pins gunicorn 23.0.0",
                     "27's stock gthread worker drains on a direct HUP", "The role tried 27.0.1 and went back",
                     "(the project's rolling-update test)"):
        assert fragment in flat, fragment
    assert "moved to gunicorn 27" not in flat and "Not run:" not in flat
    assert "![failed requests and nginx's upstream errors per variant and run](gunicorn_reload.png)" in lines
    for line in bench.render_table(rows):
        assert line in lines
    assert "Behind nginx, upstream errors came from 27.0.1 stock gthread." in flat
    assert all(len(line) <= bench.WIDTH for line in lines if not line.startswith("|"))
    assert text.endswith("\n")


def test_render_report_without_nginx_says_so():
    info = bench.RunInfo(INFO.date, 2, "x86_64", "3.11.7", (1.0, 1.0, 1.0), ["27.0.1-stock"], ["hup"], 8, 1, "",
                         "the nginx mode, the nginx+draining mode: no nginx on PATH (`--nginx`)")
    text = bench.render_report(info, [row("27.0.1-stock", "hup", 1)], plot_note="no plot: matplotlib is not importable")
    flat = " ".join(line.strip() for line in text.splitlines())
    assert "(no plot: matplotlib is not importable)" in text
    assert "![" not in text
    assert "- Not run: the nginx mode, the nginx+draining mode: no nginx on PATH (`--nginx`)" in flat
    assert "nginx modes:" not in flat
    assert "sha256" not in flat and "The role's worker" not in flat


def test_without_nginx_the_nginx_modes_are_skipped_and_reported(tmp_path, monkeypatch, capsys):
    def no_pip(cache_dir, version):
        return tmp_path / ("gunicorn-%s" % version) / "bin" / "gunicorn"

    def no_run(*args, **kwargs):
        raise AssertionError("nothing to run")

    monkeypatch.setattr(bench, "ensure_venv", no_pip)
    monkeypatch.setattr(bench, "run_variant", no_run)
    report = tmp_path / "r.md"
    code = bench.main(["--variants", "27.0.1", "--modes", "nginx,nginx+draining", "--nginx", "",
                       "--report", str(report), "--plot", str(tmp_path / "r.png")])
    assert code == 0
    assert "no nginx on PATH" in capsys.readouterr().err
    flat = " ".join(line.strip() for line in report.read_text().splitlines())
    assert "- Not run: the nginx mode, the nginx+draining mode: no nginx on PATH (`--nginx`)" in flat
    assert "Nothing was measured." in flat
