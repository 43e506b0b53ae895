# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nginx_version_info: what ``nginx -V`` printed, as data (documentation: nginx_version_info.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.flaskstack.deploy.plugins.module_utils.nginx import parse_version_output


def nginx_version_info(output):
    """Return name, version and configure_arguments from ``nginx -V`` output, or None when it shows none."""
    if output is None:
        return None
    if not isinstance(output, (str, bytes)):
        raise AnsibleFilterError(
            "nginx_version_info: the input must be the text nginx -V printed (stdout + stderr), not %s"
            % type(output).__name__
        )
    return parse_version_output(to_text(output))


class FilterModule(object):
    def filters(self):
        return {"nginx_version_info": nginx_version_info}
