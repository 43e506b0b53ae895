"""benchmarks/stack.py's parts that need no lab: wrk parsing, the recipes' configurations, ratios, report, teardown."""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))

import stack  # noqa: E402  pylint: disable=wrong-import-position
import stack_configs as configs  # noqa: E402  pylint: disable=wrong-import-position
import stack_report as report  # noqa: E402  pylint: disable=wrong-import-position

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)), None
)
NGINX_CONF_DIR = pathlib.Path("/etc/nginx")

WRK_OUTPUT = """Running 10s test @ http://172.18.0.2/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.32ms   20.11ms 202.30ms   99.12%
    Req/Sec   520.11     80.20   710.00     70.00%
  Latency Distribution
     50%    8.10ms
     75%   15.00ms
     90%   40.00ms
     99%  %s
  10439 requests in 10.04s, 3.21MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1040.12
Transfer/sec:    327.00KB
"""


def row(target, rps, p99_ms=10.0):
    return {
        "target": target,
        "label": target + " label",
        "short": target,
        "backends": "app1",
        "rps": rps,
        "p99_ms": p99_ms,
        "requests": int(rps * 10),
        "failed": 0,
    }


# --- wrk -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p99, expected_ms", [("102.80ms", 102.8), ("950.00us", 0.95), ("1.20s", 1200.0)])
def test_parse_wrk_reads_rate_p99_and_failures(p99, expected_ms):
    result = stack.parse_wrk(WRK_OUTPUT.replace("%s", p99))
    assert result["rps"] == pytest.approx(1040.12)
    assert result["p99_ms"] == pytest.approx(expected_ms)
    assert result["requests"] == 10439
    assert result["failed"] == 2 + 1 + 4


def test_parse_wrk_without_errors_counts_none_failed():
    out = WRK_OUTPUT.replace("%s", "5.00ms")
    out = "\n".join(line for line in out.splitlines() if "errors" not in line and "Non-2xx" not in line)
    assert stack.parse_wrk(out)["failed"] == 0


def test_parse_wrk_without_latency_distribution_is_an_error():
    out = "\n".join(line for line in WRK_OUTPUT.splitlines() if "%" not in line)
    with pytest.raises(stack.BenchError, match="unexpected wrk output"):
        stack.parse_wrk(out)


def test_wrk_argv_is_the_same_for_every_target_but_url_and_host():
    base = stack.wrk_argv("http://10.0.0.1/", 10, 16)
    with_host = stack.wrk_argv("http://10.0.0.2:8081/", 10, 16, "localhost")
    assert base[:-1] == ["wrk", "-t2", "-c16", "-d10s", "--timeout", "10s", "--latency"]
    assert with_host[:-1] == base[:-1] + ["-H", "Host: localhost"]


# --- command line -------------------------------------------------------------------------------------------


def test_parse_targets_keeps_the_measuring_order():
    assert stack.parse_targets("seed002, role,direct") == ["role", "direct", "seed002"]


@pytest.mark.parametrize("text", ["", "role,nope", ","])
def test_parse_targets_refuses_unknown_or_empty(text):
    with pytest.raises(Exception, match="target"):
        stack.parse_targets(text)


def test_defaults_keep_the_existing_options():
    args = stack.parse_args([])
    assert (args.duration, args.connections, args.skip_site) == (10, 16, False)
    assert args.targets == list(stack.TARGETS)
    assert args.output.endswith("docs/benchmarks/stack.md") and args.plot.endswith("docs/benchmarks/stack.png")


def test_help_runs_without_a_lab():
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "stack.py"), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "--targets" in proc.stdout and "seed000" in proc.stdout


# --- the recipes' configurations -----------------------------------------------------------------------------


def ini_settings(text):
    return [line.split(" = ", 1) for line in text.splitlines() if " = " in line and not line.startswith(";")]


@pytest.mark.parametrize("source", configs.UWSGI_SOURCES)
def test_seed000_uwsgi_ini_is_the_recipes(source):
    ini = configs.render_seed000_uwsgi_ini(configs.AppLayout(), source)
    settings = dict(ini_settings(ini))
    assert settings["socket"] == "0.0.0.0:8081"
    assert "http-socket" not in settings
    assert settings["master"] == "true"
    assert (settings["processes"], settings["threads"]) == ("4", "2")  # issue 11: 4 processes x 2 threads (the recipe: 2 x 4)
    assert settings["chdir"] == "/srv/flask_app/current/"
    assert (settings["wsgi-file"], settings["callable"]) == ("app.py", "app")
    assert settings["stats"] == "127.0.0.1:9091"
    assert settings["pidfile"] == configs.SEED000_UWSGI_PID
    assert settings["daemonize"].startswith(configs.SCRATCH + "/")
    assert ("plugins" in settings) == (source == "debian")
    assert settings.get("virtualenv") == (None if source == "scratch" else "/srv/flask_app/current/venv")


def test_seed000_uwsgi_ini_refuses_an_unknown_source():
    with pytest.raises(ValueError):
        configs.render_seed000_uwsgi_ini(configs.AppLayout(), "conda")


def test_app_layout_follows_the_inventory_and_refuses_factories():
    app = configs.AppLayout.from_hostvars({"flask_app_name": "shop", "flask_app_module": "shop.wsgi"})
    assert (app.user, app.current, app.venv, app.env_file) == (
        "shop",
        "/srv/shop/current",
        "/srv/shop/current/venv",
        "/srv/shop/shared/env",
    )
    assert app.wsgi_file == "shop/wsgi.py"
    with pytest.raises(ValueError, match="factory"):
        configs.AppLayout.from_hostvars({"flask_app_callable": "create_app()"})


def test_seed000_nginx_conf_is_the_recipes_with_scratch_paths():
    conf = configs.render_seed000_nginx_conf("/w", ["app1:8081", "app2:8081"], configs.AppLayout())
    for line in (
        "worker_processes  2;",
        "use epoll;",
        "multi_accept on;",
        "upstream my_servers {",
        "server app1:8081;",
        "server app2:8081;",
        "listen       8081;",
        "uwsgi_pass my_servers;",
        "include uwsgi_params;",
        "uwsgi_param UWSGI_CHDIR /srv/flask_app/current/;",
        "uwsgi_param UWSGI_SCRIPT app;",
        "error_page   500 502 503 504  /50x.html;",
        "uwsgi_temp_path /w/tmp/uwsgi;",
    ):
        assert line in conf
    assert conf.count("{") == conf.count("}")
    assert "/var/" not in conf and "/mydata" not in conf.split("\n", 3)[3]


def test_seed002_configs_are_the_recipes():
    conf = configs.render_seed002_nginx_conf("/w")
    site = configs.render_seed002_site_conf("/w", ["app1:8082"])
    assert "worker_processes  1;" in conf and "include       sites/*.conf;" in conf
    assert "listen 80" not in conf + site and "/var/" not in conf + site
    for line in (
        "proxy_pass       http://gunicorn_servers;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "server app1:8082;",
        "listen      8082;",
    ):
        assert line in site
    assert (conf + site).count("{") == (conf + site).count("}")


def test_seed002_gunicorn_command_is_the_recipes():
    argv = configs.seed002_gunicorn_argv("/v/bin/gunicorn", configs.AppLayout())
    assert argv[0] == "/v/bin/gunicorn" and argv[-1] == "app:app"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--worker-class") + 1] == "gevent"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8082"
    assert argv[argv.index("--pid") + 1].startswith(configs.SCRATCH + "/")


def test_scratch_pins_are_the_gunicorn_roles():
    role_vars = (ROOT / "roles" / "gunicorn" / "vars" / "main.yml").read_text(encoding="utf-8")
    assert configs.GUNICORN_PIN in role_vars
    assert configs.GEVENT_PIN in role_vars


@pytest.mark.skipif(NGINX is None or not (NGINX_CONF_DIR / "uwsgi_params").exists(), reason="no nginx on this machine")
@pytest.mark.parametrize("seed", ["seed000", "seed002"])
def test_recipes_nginx_configs_pass_nginx_t(tmp_path, seed):
    """The way start_seed_nginx runs them: own prefix, -c, -e; loopback addresses stand in for the app hosts."""
    workdir = tmp_path / seed
    for name in ("log", "logs", "pid", "sites", "tmp", "www"):
        (workdir / name).mkdir(parents=True)
    for name in ("mime.types", "uwsgi_params"):
        shutil.copy(NGINX_CONF_DIR / name, workdir / name)
    if seed == "seed000":
        (workdir / "nginx.conf").write_text(
            configs.render_seed000_nginx_conf(str(workdir), ["127.0.0.1:8081", "127.0.0.2:8081"], configs.AppLayout())
        )
        error_log = workdir / "log" / "error.log"
    else:
        (workdir / "nginx.conf").write_text(configs.render_seed002_nginx_conf(str(workdir)))
        (workdir / "sites" / "app.conf").write_text(configs.render_seed002_site_conf(str(workdir), ["127.0.0.1:8082"]))
        error_log = workdir / "logs" / "error.log"
    proc = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(workdir) + "/", "-c", str(workdir / "nginx.conf"), "-e", str(error_log)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (workdir / "tmp").iterdir()) == sorted(configs.NGINX_TEMP_PATHS)


# --- where the servers come from -----------------------------------------------------------------------------


def test_parse_probe_and_scratch_packages():
    found = stack.parse_probe("uwsgi=debian\ngevent=scratch\n")
    assert found == {"uwsgi": "debian", "gevent": "scratch"}
    assert stack.scratch_packages(found["uwsgi"], found["gevent"]) == [configs.GUNICORN_PIN, configs.GEVENT_PIN]
    assert stack.scratch_packages("scratch", None) == [configs.PYUWSGI_PIN]
    assert stack.scratch_packages("release", "release") == []
    assert stack.scratch_packages(None, None) == []


def test_backend_binaries():
    backend = stack.Backend("app2", "c", "c", "10.0.0.3", configs.AppLayout(), "scratch", "release")
    assert backend.uwsgi_binary == configs.SCRATCH_VENV + "/bin/uwsgi"
    assert backend.gunicorn_binary == "/srv/flask_app/current/venv/bin/gunicorn"
    backend.uwsgi_source, backend.gevent_source = "debian", "scratch"
    assert backend.uwsgi_binary == "/usr/bin/uwsgi"
    assert backend.gunicorn_binary == configs.SCRATCH_VENV + "/bin/gunicorn"


def test_lb_nginx_paths():
    assert stack.lb_nginx_paths({}) == ("/usr/sbin/nginx", "/etc/nginx")
    assert stack.lb_nginx_paths({"nginx_install_method": "source"}) == ("/usr/local/nginx/sbin/nginx", "/usr/local/nginx/conf")


# --- uwsgi protocol probe ------------------------------------------------------------------------------------


def test_uwsgi_packet_layout():
    packet = stack.uwsgi_packet({"A": "bc", "PATH_INFO": "/"})
    body = b"\x01\x00A\x02\x00bc" + b"\x09\x00PATH_INFO\x01\x00/"
    assert packet == bytes([0, len(body), 0, 0]) + body


def test_status_of():
    assert stack.status_of(b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n") == 200
    assert stack.status_of(b"HTTP/1.0 502 Bad Gateway\r\n") == 502
    assert stack.status_of(b"garbage") is None


# --- ratios and report ---------------------------------------------------------------------------------------


def test_ratios_of_a_full_run():
    rows = [
        row("role", 1000.0, 100.0),
        row("direct:app1", 2000.0),
        row("direct:app2", 1500.0),
        row("dev", 750.0),
        row("seed000", 500.0, 200.0),
        row("seed002", 2000.0, 50.0),
    ]
    ratios = {item.key: item.value for item in report.compute_ratios(rows, "app2")}
    assert ratios["role/seed000 rps"] == pytest.approx(2.0)
    assert ratios["role/seed000 p99"] == pytest.approx(0.5)
    assert ratios["role/seed002 rps"] == pytest.approx(0.5)
    assert ratios["role/seed002 p99"] == pytest.approx(2.0)
    assert ratios["proxy/sum"] == pytest.approx(1000.0 / 3500.0)
    assert ratios["proxy/best"] == pytest.approx(0.5)
    assert ratios["role/dev"] == pytest.approx(1000.0 / 750.0)
    assert ratios["direct/dev"] == pytest.approx(2.0)


def test_ratios_of_a_partial_run_are_not_measured():
    ratios = report.compute_ratios([row("seed000", 500.0)], "app2")
    assert all(item.value is None for item in ratios)
    assert report.format_ratio(None) == report.NOT_MEASURED
    assert report.ratio(1.0, 0.0) is None


def test_report_lists_every_row_ratio_and_the_plot():
    rows = [row("role", 1000.0), row("seed000", 500.0)]
    info = report.RunInfo("2026-01-01 00:00 UTC", 2, "x86_64", 10, 16)
    text = report.render_report(
        info, rows, report.compute_ratios(rows, "app2"), ["### section", ""], site=(146.0, 0), plot_link="benchmarks-stack.png"
    )
    assert "![requests/s and p99 latency per target, same run](benchmarks-stack.png)" in text
    assert "| role label | app1 | 1000 | 10.0 ms | 10000 | 0 |" in text
    assert "- role stack / seed-000, requests/s: 2.00" in text
    assert "- role stack / seed-002, requests/s: %s" % report.NOT_MEASURED in text
    assert "146 s, changed=0" in text and "### section" in text


def test_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plot.png"
    report.plot_results([row("role", 1000.0), row("seed000", 500.0), row("direct:app1", 2000.0)], str(path), "title")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- teardown ------------------------------------------------------------------------------------------------


def spawn(code, marker=True):
    argv = [sys.executable, "-c", code] + ([configs.MARKER] if marker else [])
    return subprocess.Popen(argv)  # pylint: disable=consider-using-with


def test_teardown_script_stops_ours_kills_the_stubborn_and_spares_the_rest(tmp_path):
    polite = spawn("import time; time.sleep(60)")
    stubborn = spawn("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)")
    stranger = spawn("import time; time.sleep(60)", marker=False)
    try:
        time.sleep(0.5)  # let the interpreters install their handlers
        entries = []
        for name, proc in (("polite", polite), ("stubborn", stubborn), ("stranger", stranger)):
            (tmp_path / (name + ".pid")).write_text("%d\n" % proc.pid)
            entries.append((str(tmp_path / (name + ".pid")), "TERM"))
        (tmp_path / "junk.pid").write_text("not a pid\n")
        entries += [(str(tmp_path / "junk.pid"), "TERM"), (str(tmp_path / "missing.pid"), "INT")]
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        script = stack.render_teardown_script(entries, remove_dir=str(scratch), wait_steps=8)
        proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False, timeout=30)
        assert proc.returncode == 1 and "stubborn.pid" in proc.stderr
        assert polite.wait(timeout=5) is not None and stubborn.wait(timeout=5) is not None
        assert stranger.poll() is None
        assert not scratch.exists()
    finally:
        for child in (polite, stubborn, stranger):
            if child.poll() is None:
                child.kill()
                child.wait()


# --- the whole run, with docker, wrk and ansible faked -------------------------------------------------------


def fake_lab():
    hostvars = {
        "lb1": {"ansible_host": "flaskstack-lab-lb1"},
        "app1": {"ansible_host": "flaskstack-lab-app1", "flask_app_server": "uwsgi"},
        "app2": {"ansible_host": "flaskstack-lab-app2", "flask_app_server": "gunicorn"},
        "app3": {"ansible_host": "flaskstack-lab-app3", "flask_app_server": "uwsgi", "lab_arch": "arm64"},
    }
    return stack.Lab(lb="lb1", app_hosts=["app1", "app2", "app3"], hostvars=hostvars)


class FakeCommands:
    """Answers stack.run for docker, wrk and ansible-playbook; records every call."""

    PROBES = {
        "flaskstack-lab-app1": "uwsgi=release\ngevent=scratch\n",
        "flaskstack-lab-app2": "uwsgi=scratch\ngevent=scratch\n",
        "flaskstack-lab-app3": "uwsgi=debian\ngevent=scratch\n",
    }

    def __init__(self):
        self.calls = []

    def __call__(self, argv, timeout=120, stdin=None, check=True, cwd=None, env=None):
        self.calls.append(argv)
        out = ""
        if argv[:2] == ["docker", "inspect"]:
            out = '{"flaskstack-lab": {"IPAddress": "192.0.2.%d"}}' % (1 + ["lb1", "app1", "app2", "app3"].index(argv[-1].rsplit("-", 1)[1]))
        elif argv[:2] == ["docker", "exec"] and "echo uwsgi=" in argv[-1]:
            out = self.PROBES[argv[-4]]
        elif argv[0] == "wrk":
            out = WRK_OUTPUT.replace("%s", "12.00ms")
        elif argv[0] == "ansible-playbook":
            out = "lb1 : ok=3 changed=0\napp1 : ok=9 changed=0\n"
        return subprocess.CompletedProcess(argv, 0, out, "")

    def scripts(self):
        """(container, script) of every docker exec."""
        return [(argv[-4], argv[-1]) for argv in self.calls if argv[:2] == ["docker", "exec"]]


def written_paths(script):
    """Paths a script writes to: redirections, and the arguments of install -d, cp (destination) and rm -rf."""
    paths = re.findall(r">>?\s*(/[^\s;&|]+)", script)
    for segment in re.split(r"[;&|\n]+", script):
        words = segment.split()
        if words[:2] == ["install", "-d"] or words[:2] == ["rm", "-rf"]:
            paths += [word for word in words[2:] if word.startswith("/")]
        elif words[:1] == ["cp"]:
            paths.append(words[-1])
    return paths


def test_a_whole_run_writes_only_scratch_paths_and_tears_down_last(tmp_path, monkeypatch):
    fake = FakeCommands()
    monkeypatch.setattr(stack, "run", fake)
    monkeypatch.setattr(stack, "wait_for", lambda *args, **kwargs: None)
    monkeypatch.setattr(stack, "load_lab", fake_lab)
    output = tmp_path / "benchmarks.md"
    assert stack.main(["stack.py", "--output", str(output), "--no-plot"]) == 0

    scripts = fake.scripts()
    for container, script in scripts:
        for path in written_paths(script):
            assert path == "/dev/null" or path == configs.SCRATCH or path.startswith(configs.SCRATCH + "/"), (container, script)
        assert "/etc/nginx/flaskstack.d" not in script or script.startswith("cat /etc/nginx/flaskstack.d/upstreams.conf")
        assert "supervisorctl" not in script and "systemctl" not in script
    teardown = stack.render_teardown_script(stack.TEARDOWN_ENTRIES, remove_dir=configs.SCRATCH)
    containers = {container for container, dummy in scripts}
    assert len(containers) == 4
    for container in containers:
        mine = [script for name, script in scripts if name == container]
        assert mine[-1] == teardown
    first_wrk = next(i for i, argv in enumerate(fake.calls) if argv[0] == "wrk")
    last_wrk = max(i for i, argv in enumerate(fake.calls) if argv[0] == "wrk")
    teardowns = [i for i, argv in enumerate(fake.calls) if argv[-1] == teardown]
    assert teardowns[0] < first_wrk and teardowns[-1] > last_wrk
    for argv in fake.calls:
        if argv[0] == "wrk":
            assert re.match(r"http://(127\.0\.0\.1|192\.0\.2\.\d+)[:/]", argv[-1])

    text = output.read_text(encoding="utf-8")
    for target in ("role stack: lb1", "seed-000", "seed-002", "Flask development server", "app3 directly"):
        assert target in text
    assert "uwsgi_pass my_servers;" in text and "--worker-class gevent" in text
    assert "changed=0" in text and report.NOT_MEASURED not in text


def test_a_subset_run_deploys_no_recipe(tmp_path, monkeypatch):
    fake = FakeCommands()
    monkeypatch.setattr(stack, "run", fake)
    monkeypatch.setattr(stack, "wait_for", lambda *args, **kwargs: None)
    monkeypatch.setattr(stack, "load_lab", fake_lab)
    output = tmp_path / "benchmarks.md"
    assert stack.main(["stack.py", "--output", str(output), "--no-plot", "--skip-site", "--targets", "role,direct"]) == 0
    assert not any("uwsgi" in script and "--ini" in script for dummy, script in fake.scripts())
    assert [argv[0] for argv in fake.calls].count("wrk") == 4
    assert "role stack / seed-000, requests/s: %s" % report.NOT_MEASURED in output.read_text(encoding="utf-8")


def test_unknown_seed_host_is_refused_before_anything_runs(monkeypatch, capsys):
    fake = FakeCommands()
    monkeypatch.setattr(stack, "run", fake)
    monkeypatch.setattr(stack, "load_lab", fake_lab)
    assert stack.main(["stack.py", "--no-plot", "--seed-hosts", "app9"]) == 1
    assert "app9" in capsys.readouterr().err
    assert fake.calls == []
