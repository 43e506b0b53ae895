"""nginx_version_info on real nginx -V output and on bad input."""

import shutil
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.flaskstack.deploy.plugins.filter.nginx_version_info import FilterModule, nginx_version_info


def test_registered_under_its_name():
    assert FilterModule().filters()["nginx_version_info"] is nginx_version_info


@pytest.mark.skipif(shutil.which("nginx") is None, reason="needs the nginx binary (make unit installs it)")
def test_real_nginx_binary():
    proc = subprocess.run(["nginx", "-V"], capture_output=True, text=True, check=True)
    info = nginx_version_info(proc.stdout + proc.stderr)
    assert info["name"] == "nginx"
    assert info["version"].count(".") == 2
    assert any(arg.startswith("--with-cc-opt=") for arg in info["configure_arguments"])
    # Quoted values come back whole, as ./configure received them.
    assert all(not arg.startswith("'") for arg in info["configure_arguments"])


def test_not_installed_is_none():
    assert nginx_version_info("") is None
    assert nginx_version_info(None) is None
    assert nginx_version_info(b"/bin/sh: 1: nginx: not found") is None


def test_wrong_type_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="text nginx -V printed"):
        nginx_version_info(["nginx version: nginx/1.0.0"])
