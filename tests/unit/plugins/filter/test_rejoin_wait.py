"""The rejoin wait: nginx's fail_timeout read as nginx reads it, through the filter and through a real play
that loads playbooks/vars/stack.yml as rolling_update.yml does."""

import json
import pathlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.flaskstack.deploy.plugins.filter.rejoin_wait import rejoin_wait
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.values import InputError
from ansible_collections.flaskstack.deploy.plugins.module_utils._pool import rejoin

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("pool, wait", [
    ("10s", 11), ("1m30s", 91), ("1m", 61), ("1h", 3601), ("1d", 86401), (30, 31), ("45", 46), ("0", 1),
    (None, 11), ("", 11),
])
def test_the_wait_is_the_pools_fail_timeout_in_seconds_plus_one(pool, wait):
    assert rejoin.rejoin_wait([("app1", None), ("app2", "")], pool) == wait


def test_the_longest_fail_timeout_of_the_batch_wins_and_a_hosts_own_comes_first():
    batch = [("app1", None), ("app2", "1m30s"), ("app3", "5s")]
    assert rejoin.rejoin_wait(batch, "1h") == 3601
    assert rejoin.rejoin_wait(batch, "2s") == 91
    assert rejoin.rejoin_wait([("app3", "5s")], "1d") == 6
    assert rejoin.rejoin_wait([], "1d") == 1


@pytest.mark.parametrize("pool, host, message", [
    ("500ms", None, "flaskstack_pool_fail_timeout: '500ms': nginx takes whole seconds here, not milliseconds"),
    ("1m 30s", None, "flaskstack_pool_fail_timeout: '1m 30s': write it without blanks, such as 1m30s"),
    ("10s", "30s1m", "flaskstack_upstream_fail_timeout (host app1): '30s1m' is not an nginx time"),
    ("soon", None, "flaskstack_pool_fail_timeout: 'soon' is not an nginx time"),
])
def test_a_time_nginx_would_refuse_is_refused_naming_its_variable(pool, host, message):
    with pytest.raises(InputError) as caught:
        rejoin.rejoin_wait([("app1", host)], pool)
    assert str(caught.value).startswith(message)


def test_the_filter_reads_each_hosts_variable():
    hostvars = {"app1": {}, "app2": {"flaskstack_upstream_fail_timeout": "2m"}}
    assert rejoin_wait(["app1", "app2"], hostvars, "1m30s") == 121
    with pytest.raises(AnsibleFilterError, match="^flaskstack_pool_fail_timeout: '500ms'"):
        rejoin_wait(["app1"], hostvars, "500ms")
    with pytest.raises(AnsibleFilterError, match="list of host names"):
        rejoin_wait("app1", hostvars)


PLAYBOOK = """
- name: The rejoin wait as rolling_update.yml computes it, without touching any host
  hosts: app
  gather_facts: false
  serial: 2
  vars_files:
    - %s/playbooks/vars/stack.yml
  tasks:
    - name: Write the wait of this batch
      ansible.builtin.copy:
        content: "{{ flaskstack_stack_rejoin_wait | to_json }}"
        dest: "{{ out }}/{{ ansible_play_batch | join('-') }}.json"
        mode: "0644"
      delegate_to: localhost
      run_once: true
""" % ROOT


@pytest.mark.parametrize("pool_time, waits", [
    ("500ms", None), ("10s", {"a1-a2": 11, "a3": 241}), ("1m30s", {"a1-a2": 91, "a3": 241}),
    ("1h", {"a1-a2": 3601, "a3": 241}), ("1d", {"a1-a2": 86401, "a3": 241}), ("", {"a1-a2": 11, "a3": 241}),
])
def test_the_playbooks_wait_for_the_batchs_fail_timeout(ansible_playbook, tmp_path, pool_time, waits):
    # a3 sets its own fail_timeout, which comes before the pool's.
    (tmp_path / "inventory.ini").write_text("[app]\na1\na2\na3 flaskstack_upstream_fail_timeout=4m\n")
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    extra = ["-e", json.dumps({"flaskstack_pool_fail_timeout": pool_time})] if pool_time else []
    run = ansible_playbook("-i", str(tmp_path / "inventory.ini"), "-c", "local", str(tmp_path / "playbook.yml"),
                           "-e", "out=%s" % tmp_path, *extra)
    written = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    if waits is None:
        assert run.returncode != 0 and not written
        assert "flaskstack_pool_fail_timeout: '500ms': nginx takes whole seconds here" in run.stdout
    else:
        assert run.returncode == 0, run.stdout + run.stderr
        assert written == waits
