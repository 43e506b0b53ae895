"""The test bed: systemd as PID 1, the right CPU architecture, a working package path."""

import os

import pytest
import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

EXPECTED_MACHINE = {"amd64": "x86_64", "arm64": "aarch64", "armhf": "armv7l"}
EXPECTED_VERSION_ID = {"debian12": "12", "debian13": "13"}


@pytest.fixture()
def expected_machine(host):
    return EXPECTED_MACHINE[host.backend.get_hostname().rsplit("-", 1)[1]]


@pytest.fixture()
def expected_version_id(host):
    return EXPECTED_VERSION_ID[host.backend.get_hostname().rsplit("-", 2)[1]]


def test_systemd_is_pid_1(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running")
    assert state.stdout.strip() == "running", host.run("systemctl --failed --no-legend").stdout


def test_architecture(host, expected_machine):
    assert host.system_info.arch == expected_machine
    assert host.file("/etc/flaskstack-testbed-arch").content_string.strip() == expected_machine


def test_debian_release(host, expected_version_id):
    os_release = dict(
        line.split("=", 1) for line in host.file("/etc/os-release").content_string.splitlines() if "=" in line
    )
    assert os_release["VERSION_ID"].strip('"') == expected_version_id


def test_package_installed_from_apt(host):
    assert host.package("less").is_installed
    assert host.run("less --version").rc == 0


def test_python_for_ansible(host):
    assert host.run("/usr/bin/python3 -c 'import apt'").rc == 0
