"""uwsgi pool → uwsgi_pass; mixed pool → HTTP; impossible pools refused before any change."""

import json
import os
import pathlib
import re

import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("lb")
WORK = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def ask(host, name):
    result = host.run("curl -s -m 5 -H 'Host: %s' -w '\\n%%{http_code}' http://127.0.0.1/" % name)
    body, code = result.stdout.rsplit("\n", 1)
    assert code == "200", result.stdout
    return json.loads(body)


def test_uwsgi_pool_speaks_the_uwsgi_protocol(host):
    conf = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert "# uwsgi_pool: uwsgi protocol" in conf
    assert "uwsgi_pass uwsgi_pool;" in host.file("/etc/nginx/flaskstack.d/site-uwsgi.conf").content_string
    # The uWSGI host serves only the uwsgi protocol on its port: plain HTTP there gets no valid answer.
    app = RUNNER.get_host("protocols-uwsgi")
    assert app.run("curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/").stdout != "200"
    assert ask(host, "uwsgi.test")["hostname"] == "protocols-uwsgi"


def test_mixed_pool_speaks_http(host):
    conf = host.file("/etc/nginx/flaskstack.d/upstreams.conf").content_string
    assert "# mixed_pool: http protocol" in conf
    assert "proxy_pass http://mixed_pool;" in host.file("/etc/nginx/flaskstack.d/site-mixed.conf").content_string
    seen = {ask(host, "mixed.test")["hostname"] for dummy in range(8)}
    assert seen == {"protocols-gunicorn", "protocols-uwsgi-http"}


def check_refused(host, name, pattern):
    output = (WORK / ("site-%s.out" % name)).read_text()
    assert output.startswith("rc=2"), output[:300]
    assert re.search(pattern, output), output
    # Stopped in the preflight play: no play after it started and no host changed.
    assert "PLAY [App tier]" not in output
    for line in output.split("PLAY RECAP", 1)[1].splitlines():
        if ":" in line and "changed=" in line:
            assert "changed=0" in line, line
    assert host.run("find /etc/nginx -type f -print0 | sort -z | xargs -0 sha256sum").stdout == host.file(
        "/root/nginx-before"
    ).content_string


def test_forced_protocol_mismatch_is_refused_naming_the_host(host):
    check_refused(host, "forced", r"protocols-gunicorn.*gunicorn.*(only|speaks).*http")


def test_pool_with_no_common_protocol_is_refused_naming_the_host(host):
    check_refused(host, "mixed", r"uwsgi_protocol: http.*protocols-uwsgi|protocols-uwsgi.*uwsgi_protocol")
