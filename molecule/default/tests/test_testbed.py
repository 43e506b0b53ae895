"""The test bed: systemd as PID 1, the right CPU architecture, a working package path."""

import os

import pytest
import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

EXPECTED_MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}


@pytest.fixture()
def expected_machine(host):
    return EXPECTED_MACHINE[host.backend.get_hostname().rsplit("-", 1)[1]]


def test_systemd_is_pid_1(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running")
    assert state.stdout.strip() == "running", host.run("systemctl --failed --no-legend").stdout


def test_architecture(host, expected_machine):
    assert host.system_info.arch == expected_machine
    assert host.file("/etc/flaskstack-testbed-arch").content_string.strip() == expected_machine


def test_package_installed_from_apt(host):
    assert host.package("less").is_installed
    assert host.run("less --version").rc == 0


def test_python_for_ansible(host):
    assert host.run("/usr/bin/python3 -c 'import apt'").rc == 0
