"""The shipped inventories give the pools their comments promise (playbooks/vars/stack.yml, real Ansible)."""

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

PLAYBOOK = """
- name: Compute the stack's pool as site.yml does, without touching any host
  hosts: localhost
  gather_facts: false
  vars_files:
    - %s/playbooks/vars/stack.yml
  tasks:
    - name: Write the pool
      ansible.builtin.copy:
        content: "{{ flaskstack_stack_upstreams | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
""" % ROOT


def stack_pool(ansible_playbook, tmp_path, inventory, *extra):
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    out = tmp_path / "pool.json"
    proc = ansible_playbook(
        "-i", str(ROOT / "inventory" / inventory), "-c", "local", str(tmp_path / "playbook.yml"), "-e", "out=%s" % out, *extra
    )
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_example_inventory_is_a_uwsgi_pool_with_the_pis_weighted_down(ansible_playbook, tmp_path):
    proc, upstreams = stack_pool(ansible_playbook, tmp_path, "example")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (pool,) = upstreams
    assert pool["name"] == "app" and pool["protocol"] == "uwsgi"
    servers = {server["address"]: server for server in pool["servers"]}
    assert sorted(servers) == ["10.0.0.11", "10.0.0.12", "10.0.0.21", "10.0.0.22"]
    for server in servers.values():
        assert server["port"] == 8000 and server["max_fails"] == 3 and server["fail_timeout"] == "10s"
    assert servers["10.0.0.21"]["weight"] == servers["10.0.0.22"]["weight"] == 1


def test_example_inventory_refuses_a_gunicorn_host_in_its_uwsgi_pool(ansible_playbook, tmp_path):
    proc, upstreams = stack_pool(
        ansible_playbook, tmp_path, "example", "-e", "flask_app_server=gunicorn", "-e", "flaskstack_pool_protocol=uwsgi"
    )
    assert upstreams is None and proc.returncode != 0
    assert "host app1.example.org runs gunicorn, which speaks only http" in proc.stdout + proc.stderr


@pytest.mark.parametrize("pattern", ["app", "app:!app2"])
def test_lab_inventory_is_an_http_pool_of_the_lab_containers(ansible_playbook, tmp_path, pattern):
    proc, upstreams = stack_pool(ansible_playbook, tmp_path, "lab", "-e", "flaskstack_app_group=%s" % pattern)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (pool,) = upstreams
    assert pool["protocol"] == "http"
    hosts = ["app1", "app2", "app3"] if pattern == "app" else ["app1", "app3"]
    assert [server["address"] for server in pool["servers"]] == ["flaskstack-lab-%s" % h for h in hosts]
