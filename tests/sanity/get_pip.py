# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the get-pip script that ansible-test bootstraps pip with.

ansible-test creates every virtual environment it uses (``--venv`` and each sanity test's requirements)
without pip, then runs ``get-pip-<version>.py`` from ci-files.testing.ansible.com, cached as
``~/.ansible/test/cache/get_pip_<version>.py``. That host is unreachable here; the package index is not.
``make sanity`` copies this file to that cache path. Like get-pip, it takes pip install arguments
(``pip==<version>`` plus get-pip's ``--no-setuptools`` / ``--no-wheel``): it bootstraps the pip bundled
with Python (ensurepip), lets it install the requested pip from the package index, and removes what
ensurepip added beyond pip when get-pip would not have installed it.
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_OPTIONS = {'--no-setuptools': 'setuptools', '--no-wheel': 'wheel'}


def main(argv: list[str]) -> int:
    """Install pip (and the requested packages) into the running interpreter's environment."""
    pip_args = [arg for arg in argv if arg not in GET_PIP_OPTIONS]
    unwanted = [package for option, package in GET_PIP_OPTIONS.items() if option in argv]

    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, '-m', 'pip', 'install'] + pip_args, check=True)

    installed = subprocess.run([sys.executable, '-m', 'pip', 'list', '--disable-pip-version-check', '--format=freeze'],
                               check=True, stdout=subprocess.PIPE, text=True).stdout
    names = {line.split('==', 1)[0].lower() for line in installed.splitlines()}
    unwanted = [package for package in unwanted if package in names]

    if unwanted:
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--disable-pip-version-check', '-y'] + unwanted,
                       check=True, stdout=subprocess.DEVNULL)

    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
