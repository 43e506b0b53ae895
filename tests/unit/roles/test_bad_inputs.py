"""Every bad input is refused by the playbooks' first task, before any change, naming the variable.

Runs the real ``ansible-playbook flaskstack.deploy.site`` (by FQCN, through .cache/collections) in check mode
against fake hosts that use the local connection: nothing here connects anywhere. To stay fast, the cases set
as host variables share one run, each on a host of its own (the input check runs on every host before the
play stops, and reports per host); cases given as extra variables (-e) run one by one, side by side.
Each case asserts: the run failed, the only task that ran is the preflight input check, nothing changed,
and the case's host failed it with a line starting with the variable's name.
"""

import concurrent.futures
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")
CHECK_TASK = "Check every input before anything changes"
SECRET = "kept-in-vault-0123456789abcdef"  # the good key; never printed
SHORT_SECRET = "tiny-secret"


def site(**over):
    entry = {"name": "www", "server_name": "www.example.com", "upstream": "app"}
    entry.update(over)
    return {"flaskstack_sites": [entry]}


def pool(**over):
    entry = {"name": "api", "servers": [{"address": "10.0.0.5", "port": 8000}]}
    entry.update(over)
    return {"flaskstack_extra_upstreams": [entry]}


def server(**over):
    entry = {"address": "10.0.0.5", "port": 8000}
    entry.update(over)
    return pool(servers=[entry])


def uwsgi(**over):
    values = {"flask_app_server": "uwsgi"}
    values.update(over)
    return values


def supervisor_program(**over):
    entry = {"name": "worker", "command": "/usr/bin/true"}
    entry.update(over)
    return {"supervisor_programs": [entry]}


# (id, where, variables, the variable the message must start with)
# where: app / lb = host variables of an app host / a load balancer; extra = -e; extra:<playbook> = -e with
# another playbook.
CASES = [
    # --- flask_app ---
    ("secret-missing", "app", {"flask_app_secret_key": ""}, "flask_app_secret_key"),
    # A line break would add a variable of its own to the app's environment file.
    ("secret-line-break", "app", {"flask_app_secret_key": SECRET + "\nFLASK_DEBUG=1"}, "flask_app_secret_key"),
    ("env-carriage-return", "app", {"flask_app_env": {"A": "1\rFLASK_DEBUG=1"}}, "flask_app_env.A"),
    ("base-dir-escapes", "app", {"flask_app_base_dir": "/srv/../etc/shop"}, "flask_app_base_dir"),
    ("static-alias-escapes", "lb", site(static=[{"location": "/static/", "alias": "/srv/flask_app/current/../../../etc/"}]),
     "flaskstack_sites[0].static[0].alias"),
    ("uwsgi-socket-mode-decimal", "app", uwsgi(uwsgi_socket_mode=660), "uwsgi_socket_mode"),
    ("uwsgi-logto-line-break", "app", uwsgi(uwsgi_logto="/var/log/u.log\nuid = root"), "uwsgi_logto"),
    ("uwsgi-extra-option-line-break", "app", uwsgi(uwsgi_extra_options={"cron": "x\nuid = root"}),
     "uwsgi_extra_options.cron"),
    ("secret-short", "app", {"flask_app_secret_key": SHORT_SECRET}, "flask_app_secret_key"),
    ("app-port-70000", "app", {"flask_app_port": 70000}, "flask_app_port"),
    ("ansible-host-with-port", "app", {"ansible_host": "10.0.0.1:2222"}, "ansible_host"),
    ("ansible-host-zone-id", "app", {"ansible_host": "fe80::1%eth0"}, "ansible_host"),
    ("upstream-address-port", "app", {"flaskstack_upstream_address": "[2001:db8::1]:8000"},
     "flaskstack_upstream_address"),
    ("app-port-0", "app", {"flask_app_port": 0}, "flask_app_port"),
    ("app-port-text", "app", {"flask_app_port": "http"}, "flask_app_port"),
    ("app-module-empty", "app", {"flask_app_module": ""}, "flask_app_module"),
    ("app-module-path", "app", {"flask_app_module": "shop/wsgi.py"}, "flask_app_module"),
    ("app-module-dash", "app", {"flask_app_module": "my-app"}, "flask_app_module"),
    ("app-callable-blank", "app", {"flask_app_callable": "create app"}, "flask_app_callable"),
    ("app-callable-code", "app", {"flask_app_callable": "create_app(os.system('x'))"}, "flask_app_callable"),
    ("app-callable-colon", "app", {"flask_app_callable": "app:app"}, "flask_app_callable"),
    ("app-base-relative", "app", {"flask_app_base_dir": "srv/app"}, "flask_app_base_dir"),
    ("app-health-relative", "app", {"flask_app_health_path": "healthz"}, "flask_app_health_path"),
    ("app-health-status-700", "app", {"flask_app_health_status": [200, 700]}, "flask_app_health_status[1]"),
    ("app-health-status-text", "app", {"flask_app_health_status": ["ok"]}, "flask_app_health_status"),
    ("app-health-retries-0", "app", {"flask_app_health_retries": 0}, "flask_app_health_retries"),
    ("app-pip-timeout-0", "app", {"flask_app_pip_timeout": 0}, "flask_app_pip_timeout"),
    ("app-static-dotdot", "app", {"flask_app_static_dir": "../etc"}, "flask_app_static_dir"),
    ("app-static-absolute", "app", {"flask_app_static_dir": "/var/www"}, "flask_app_static_dir"),
    ("app-name-slash", "app", {"flask_app_name": "shop/app"}, "flask_app_name"),
    ("app-user-blank", "app", {"flask_app_user": "web user"}, "flask_app_user"),
    ("app-keep-1", "app", {"flask_app_keep_releases": 1}, "flask_app_keep_releases"),
    ("app-release-id-slash", "app", {"flask_app_release_id": "v1/2"}, "flask_app_release_id"),
    ("app-server-unknown", "app", {"flask_app_server": "waitress"}, "flask_app_server"),
    ("app-bind-address-blank", "app", {"flask_app_bind_address": "0.0.0.0 x"}, "flask_app_bind_address"),
    ("app-env-name", "app", {"flask_app_env": {"BAD-NAME": "x"}}, "flask_app_env"),
    ("app-git-version-empty", "app", {"flask_app_git_repo": "file:///nowhere", "flask_app_git_version": ""},
     "flask_app_git_version"),
    ("app-git-cache-relative", "app", {"flask_app_git_repo": "file:///nowhere", "flask_app_git_cache_dir": "cache"},
     "flask_app_git_cache_dir"),
    ("pool-weight-0", "app", {"flaskstack_upstream_weight": 0}, "flaskstack_upstream_weight"),
    ("pool-address-blank", "app", {"flaskstack_upstream_address": "10.0.0.1 x"}, "flaskstack_upstream_address"),
    ("pool-backup-maybe", "app", {"flaskstack_upstream_backup": "maybe"}, "flaskstack_upstream_backup"),
    # --- gunicorn ---
    ("gunicorn-worker-class", "app", {"gunicorn_worker_class": "eventlet"}, "gunicorn_worker_class"),
    ("gunicorn-workers-negative", "app", {"gunicorn_workers": -1}, "gunicorn_workers"),
    ("gunicorn-threads-0", "app", {"gunicorn_threads": 0}, "gunicorn_threads"),
    ("gunicorn-bind-70000", "app", {"gunicorn_bind": "0.0.0.0:70000"}, "gunicorn_bind"),
    ("gunicorn-bind-relative-unix", "app", {"gunicorn_bind": "unix:run/g.sock"}, "gunicorn_bind"),
    ("gunicorn-bind-no-port", "app", {"gunicorn_bind": "0.0.0.0"}, "gunicorn_bind"),
    ("gunicorn-log-level", "app", {"gunicorn_log_level": "verbose"}, "gunicorn_log_level"),
    ("gunicorn-access-log-relative", "app", {"gunicorn_access_log": "access.log"}, "gunicorn_access_log"),
    # --- uwsgi ---
    ("uwsgi-protocol-fastcgi", "app", uwsgi(uwsgi_protocol="fastcgi"), "uwsgi_protocol"),
    ("uwsgi-socket-relative", "app", uwsgi(uwsgi_socket="uwsgi.sock"), "uwsgi_socket"),
    ("uwsgi-socket-70000", "app", uwsgi(uwsgi_socket="127.0.0.1:70000"), "uwsgi_socket"),
    ("uwsgi-install-method", "app", uwsgi(uwsgi_install_method="yum"), "uwsgi_install_method"),
    ("uwsgi-threads-0", "app", uwsgi(uwsgi_threads=0), "uwsgi_threads"),
    ("uwsgi-socket-mode", "app", uwsgi(uwsgi_socket_mode="rw-rw----"), "uwsgi_socket_mode"),
    ("uwsgi-stats-bad", "app", uwsgi(uwsgi_stats="localhost"), "uwsgi_stats"),
    ("uwsgi-buffer-size", "app", uwsgi(uwsgi_buffer_size=100000), "uwsgi_buffer_size"),
    # --- supervisor ---
    ("supervisor-autorestart", "app", supervisor_program(autorestart="sometimes"),
     "supervisor_programs[0].autorestart"),
    ("supervisor-command-empty", "app", supervisor_program(command=" "), "supervisor_programs[0].command"),
    ("supervisor-startretries", "app", supervisor_program(startretries=-1), "supervisor_programs[0].startretries"),
    ("supervisor-program-slash", "app", supervisor_program(name="../x"), "supervisor_programs[0].name"),
    ("supervisor-log-dir-relative", "app", {"supervisor_log_dir": "log/supervisor"}, "supervisor_log_dir"),
    ("supervisor-inet-port-70000", "app", {"supervisor_inet_http_server_port": "127.0.0.1:70000"},
     "supervisor_inet_http_server_port"),
    ("supervisor-inet-no-password", "app", {"supervisor_inet_http_server_enabled": True},
     "supervisor_inet_http_server_password"),
    ("supervisor-loglevel", "app", {"supervisor_loglevel": "loud"}, "supervisor_loglevel"),
    ("supervisor-socket-mode", "app", {"supervisor_socket_mode": "0777"}, "supervisor_socket_mode"),
    # --- nginx (load balancers) ---
    ("nginx-version-two-parts", "lb", {"nginx_version": "1.14"}, "nginx_version"),
    ("nginx-version-too-old", "lb", {"nginx_version": "1.12.2"}, "nginx_version"),
    ("nginx-source-unknown-version", "lb", {"nginx_install_method": "source", "nginx_version": "1.15.0"},
     "nginx_version"),
    ("nginx-install-method", "lb", {"nginx_install_method": "yum"}, "nginx_install_method"),
    ("nginx-keepalive-negative", "lb", {"nginx_keepalive_timeout": -5}, "nginx_keepalive_timeout"),
    ("nginx-build-timeout-text", "lb", {"nginx_source_build_timeout": "an hour"}, "nginx_source_build_timeout"),
    ("nginx-error-page-root-relative", "lb", {"nginx_error_page_root": "html"}, "nginx_error_page_root"),
    ("nginx-worker-processes", "lb", {"nginx_worker_processes": "many"}, "nginx_worker_processes"),
    ("nginx-client-max-body-size", "lb", {"nginx_client_max_body_size": "10 MB"}, "nginx_client_max_body_size"),
    ("nginx-extra-directive", "lb", {"nginx_http_extra_directives": ["gzip on"]}, "nginx_http_extra_directives[0]"),
    ("site-listen-70000", "lb", site(listen=70000), "flaskstack_sites[0].listen"),
    ("site-server-name-blank", "lb", site(server_name="a.example.com b"), "flaskstack_sites[0].server_name"),
    ("site-server-name-injection", "lb", site(server_name="a.example.com; return 200"),
     "flaskstack_sites[0].server_name"),
    ("site-server-name-list", "lb", site(server_name=["ok.example.com", "x{"]), "flaskstack_sites[0].server_name[1]"),
    ("site-name-slash", "lb", site(name="www/x"), "flaskstack_sites[0].name"),
    ("site-unknown-upstream", "lb", site(upstream="nowhere"), "flaskstack_sites[0].upstream"),
    ("site-static-alias-relative", "lb", site(static=[{"location": "/static/", "alias": "static/"}]),
     "flaskstack_sites[0].static[0].alias"),
    ("site-static-location-blank", "lb", site(static=[{"location": "/st atic/", "alias": "/srv/static/"}]),
     "flaskstack_sites[0].static[0].location"),
    ("site-unknown-key", "lb", site(servername="typo.example.com"), "flaskstack_sites[0]"),
    ("site-tls-listen", "lb", site(tls={"certificate": "/c.pem", "certificate_key": "/k.pem", "listen": 0}),
     "flaskstack_sites[0].tls.listen"),
    ("site-tls-relative-cert", "lb", site(tls={"certificate": "c.pem", "certificate_key": "/k.pem"}),
     "flaskstack_sites[0].tls.certificate"),
    ("sites-duplicate", "lb", {"flaskstack_sites": [site()["flaskstack_sites"][0]] * 2}, "flaskstack_sites[1].name"),
    ("sites-empty", "lb", {"flaskstack_sites": []}, "flaskstack_sites"),
    ("extra-pool-port-70000", "lb", server(port=70000), "flaskstack_extra_upstreams[0].servers[0].port"),
    ("extra-pool-weight-0", "lb", server(weight=0), "flaskstack_extra_upstreams[0].servers[0].weight"),
    ("extra-pool-weight-negative", "lb", server(weight=-3), "flaskstack_extra_upstreams[0].servers[0].weight"),
    ("extra-pool-duplicate-server", "lb", pool(servers=[{"address": "10.0.0.5", "port": 8000}] * 2),
     "flaskstack_extra_upstreams[0].servers[1]"),
    ("extra-pool-name-blank", "lb", pool(name="my pool"), "flaskstack_extra_upstreams[0].name"),
    ("extra-pool-name-taken", "lb", pool(name="app"), "flaskstack_extra_upstreams[0].name"),
    ("extra-pool-no-servers", "lb", pool(servers=[]), "flaskstack_extra_upstreams[0].servers"),
    ("extra-pool-protocol", "lb", pool(protocol="fastcgi"), "flaskstack_extra_upstreams[0].protocol"),
    ("extra-pool-keepalive", "lb", pool(keepalive=-1), "flaskstack_extra_upstreams[0].keepalive"),
    ("extra-pool-fail-timeout", "lb", server(fail_timeout="soon"),
     "flaskstack_extra_upstreams[0].servers[0].fail_timeout"),
    ("server-names-blank", "lb", {"flaskstack_server_names": ["www.example.com other"]}, "flaskstack_server_names[0]"),
    # --- the playbooks' settings, as extra variables ---
    # A drained batch answers 503 to what nginx may resend: nginx must be able to try one host more.
    ("tries-vs-batch", "lb", {"nginx_next_upstream_tries": 1}, "nginx_next_upstream_tries"),
    ("serial-0", "extra:rolling_update", {"flaskstack_serial": 0}, "flaskstack_serial"),
    ("serial-word", "extra:rolling_update", {"flaskstack_serial": "one"}, "flaskstack_serial"),
    ("serial-percent", "extra:rollback", {"flaskstack_serial": "130%"}, "flaskstack_serial"),
    ("pool-protocol", "extra", {"flaskstack_pool_protocol": "fastcgi"}, "flaskstack_pool_protocol"),
    ("pool-balance", "extra", {"flaskstack_pool_balance": "random"}, "flaskstack_pool_balance"),
    ("pool-max-fails", "extra", {"flaskstack_pool_max_fails": -1}, "flaskstack_pool_max_fails"),
    ("pool-fail-timeout", "extra", {"flaskstack_pool_fail_timeout": "later"}, "flaskstack_pool_fail_timeout"),
    # nginx reads fail_timeout in whole seconds (it refuses 500ms) and as one word (a server's parameter).
    ("pool-fail-timeout-ms", "extra", {"flaskstack_pool_fail_timeout": "500ms"}, "flaskstack_pool_fail_timeout"),
    ("pool-fail-timeout-blank", "extra", {"flaskstack_pool_fail_timeout": "1m 30s"}, "flaskstack_pool_fail_timeout"),
    ("host-fail-timeout-order", "app", {"flaskstack_upstream_fail_timeout": "30s1m"},
     "flaskstack_upstream_fail_timeout"),
    ("pool-name-blank", "extra", {"flaskstack_pool_name": "app pool"}, "flaskstack_pool_name"),
    ("arch-weights", "extra", {"flaskstack_arch_weights": {"x86_64": 0}}, "flaskstack_arch_weights.x86_64"),
    ("drained-unknown", "extra", {"flaskstack_drained": ["app9"]}, "flaskstack_drained"),
    ("extra-secret-short", "extra", {"flask_app_secret_key": SHORT_SECRET}, "flask_app_secret_key"),
    ("extra-app-port", "extra", {"flask_app_port": 70000}, "flask_app_port"),
]

assert len(CASES) >= 60
assert len({case[0] for case in CASES}) == len(CASES)

GOOD_APP = {"flask_app_secret_key": SECRET}
GOOD_UWSGI_APP = {"flask_app_secret_key": SECRET, "flask_app_server": "uwsgi", "uwsgi_protocol": "http",
                  "flask_app_module": "shop.wsgi", "flask_app_callable": "create_app('prod')",
                  "flask_app_static_dir": "shop/assets", "flask_app_health_status": [200, 204],
                  "flask_app_health_text": "ok"}


def _host_vars():
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


def inventory(path, app_hosts, lb_hosts):
    """app_hosts / lb_hosts: host name -> its variables."""
    data = {
        "all": {
            "vars": _host_vars(),
            "children": {
                "app": {"hosts": dict(app_hosts)},
                "lb": {"hosts": dict(lb_hosts)},
            },
        }
    }
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def env(ansible_env):
    """The environment of every run here: a JSON report, ten hosts at a time."""
    return ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORKS="10")


def play(env, inventory_path, playbook="site", extra=None, tags=None):
    command = [str(PLAYBOOK), "-i", str(inventory_path), "flaskstack.deploy." + playbook, "--check"]
    if extra:
        command += ["-e", json.dumps(extra)]
    if tags:
        command += ["--tags", tags]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=300, cwd=ROOT)
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        raise AssertionError("no JSON report: %s %s" % (proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc, report


def tasks_run(report):
    """[(play name, task name, {host: result})] of every task that ran."""
    return [
        (p["play"]["name"], t["task"]["name"], t["hosts"])
        for p in report["plays"]
        for t in p["tasks"]
    ]


def _run_batch(env, tmp):
    """The app/lb cases, one host each, plus a good app host and a good load balancer, in one run."""
    app_hosts = {"good-app": dict(GOOD_APP)}
    lb_hosts = {"good-lb": {}}
    for case_id, where, values, _var in CASES:
        if where == "app":
            app_hosts[case_id] = dict(GOOD_APP, **values)
        elif where == "lb":
            lb_hosts[case_id] = dict(values)
    return play(env, inventory(tmp / "batch.json", app_hosts, lb_hosts))


def _run_extra(env, tmp, case_id, playbook, values):
    path = inventory(tmp / ("%s.json" % case_id), {"app1": dict(GOOD_APP)}, {"lb1": {}})
    return play(env, path, playbook=playbook, extra=values)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, env):
    """Every run of the table, side by side (two at a time): case id -> (process, report)."""
    tmp = tmp_path_factory.mktemp("bad_inputs")
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool_:
        futures = {pool_.submit(_run_batch, env, tmp): "batch"}
        for case_id, where, values, _var in CASES:
            if where.startswith("extra"):
                playbook = where.split(":", 1)[1] if ":" in where else "site"
                futures[pool_.submit(_run_extra, env, tmp, case_id, playbook, values)] = case_id
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
    return results


@pytest.mark.parametrize("case_id,where,values,variable", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_before_any_change(runs, case_id, where, values, variable):
    proc, report = runs["batch" if where in ("app", "lb") else case_id]
    assert proc.returncode != 0
    ran = tasks_run(report)
    # Only the preflight input check ran: nothing gathered, nothing of a later play, nothing changed.
    assert [task for _play, task, _hosts in ran] == [CHECK_TASK], ran
    assert not any(r.get("changed") for _p, _t, hosts in ran for r in hosts.values())
    hosts = ran[0][2]
    if where in ("app", "lb"):
        failed = {case_id: hosts[case_id]}
        # The good hosts of the batch pass the same check.
        assert not hosts["good-app"].get("failed"), hosts["good-app"]
        assert not hosts["good-lb"].get("failed"), hosts["good-lb"]
    else:
        failed = {h: r for h, r in hosts.items() if r.get("failed")}
    assert failed, hosts
    for host, result in failed.items():
        assert result.get("failed"), (host, result)
        lines = result["msg"].splitlines()
        assert any(line.startswith(variable + ":") or line.startswith(variable + ".")
                   or line.startswith(variable + "[") for line in lines), (variable, result["msg"])
    # Secrets are never printed; messages speak of the user's variables, not of filter arguments.
    output = proc.stdout + proc.stderr
    assert SECRET not in output
    assert SHORT_SECRET not in output
    assert "protocol=" not in output


def test_good_inputs_pass_every_check(tmp_path, env):
    """A good inventory passes the preflight check and the roles' own checks (only checks run: --tags)."""
    app_hosts = {"app1": dict(GOOD_APP), "app2": dict(GOOD_UWSGI_APP, flask_app_port=8001),
                 "app3": dict(GOOD_APP, gunicorn_bind="unix:/srv/flask_app/run/gunicorn.sock",
                              flask_app_callable="create_app()", gunicorn_worker_class="gevent")}
    lb_hosts = {"lb1": {"nginx_install_method": "source", "nginx_version": "1.14.2",
                        "flaskstack_server_names": ["www.example.com", "example.com"],
                        "flaskstack_extra_upstreams": [{"name": "api",
                                                        "servers": [{"address": "10.0.0.5", "port": 9000}]}],
                        "flaskstack_sites": [{"name": "www", "server_name": "www.example.com", "upstream": "app",
                                              "static": [{"location": "/static/",
                                                          "alias": "/srv/flask_app/current/static/"}]},
                                             {"name": "api", "server_name": ["api.example.com"], "upstream": "api",
                                              "listen": 8080}]}}
    proc, report = play(
        env, inventory(tmp_path / "good.json", app_hosts, lb_hosts),
        extra={"flaskstack_serial": "50%", "flaskstack_pool_protocol": "http"},
        tags="flaskstack-only-the-checks",  # no task has it: only `always` tasks (the checks) run
    )
    ran = tasks_run(report)
    checks = [(p, t, h) for p, t, h in ran if t == CHECK_TASK]
    assert checks, ran
    for _play, _task, hosts in checks:
        assert set(hosts) == set(app_hosts) | set(lb_hosts)
        for host, result in hosts.items():
            assert not result.get("failed"), (host, result.get("msg"))
            assert not result.get("changed")
    # The roles check their own input too (flask_app with its app server, nginx), and pass.
    role_checks = [(p, t, h) for p, t, h in ran if t.endswith(" : Check the role's input")]
    roles = {t.split(" : ")[0] for _p, t, _h in role_checks}
    assert roles == {"flaskstack.deploy.flask_app", "flaskstack.deploy.nginx"}
    for _play, _task, hosts in role_checks:
        assert not any(r.get("failed") for r in hosts.values()), hosts
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert SECRET not in proc.stdout + proc.stderr
