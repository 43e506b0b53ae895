#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nginx_validate
short_description: Test an nginx configuration with the real C(nginx -t) and report where it is wrong
version_added: 0.1.0
description:
  - Runs C(nginx -t) for a main configuration file with a given nginx binary and returns a structured result
    whether the configuration is valid, the nginx version, and for an invalid configuration the file, line and
    message of the error as nginx reported them.
  - Fails on an invalid configuration with nginx's own message (C(message in file:line)), unless
    O(fail_on_invalid=false), which only reports.
  - Changes nothing on the host, so it runs the same in check mode. As nginx itself does, C(nginx -t) may
    create the error log and pid files named in the configuration when they do not exist yet (it never writes
    a pid into them nor truncates them).
  - The C(flaskstack.deploy.nginx) role uses it to test a configuration before reloading nginx.
author:
  - flaskstack.deploy contributors (@flaskstack)
attributes:
  check_mode:
    support: full
    details: C(nginx -t) only reads the configuration; the test runs in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  config:
    description:
      - Path of the main configuration file to test (C(nginx -c)). Files it includes are tested with it.
    type: path
    default: /etc/nginx/nginx.conf
  binary:
    description:
      - Path of the nginx binary.
      - By default C(nginx) is looked up on E(PATH), then in C(/usr/sbin) and C(/usr/local/nginx/sbin)
        (where a source build installs it by default).
    type: path
  prefix:
    description:
      - Prefix path (C(nginx -p)) against which relative paths in the configuration are resolved.
      - By default nginx uses the prefix it was built with.
    type: path
  fail_on_invalid:
    description:
      - Fail when the configuration is invalid.
      - With V(false) the module returns RV(valid=false) and the error details without failing, for a play
        that wants to decide itself.
    type: bool
    default: true
notes:
  - Run it with the privileges nginx is started with (usually root), as C(nginx -t) opens the certificate
    files, log files and temporary paths the configuration names.
seealso:
  - name: nginx command-line parameters
    description: What C(nginx -t), C(-c) and C(-p) do.
    link: https://nginx.org/en/docs/switches.html
"""

EXAMPLES = r"""
- name: Test the live nginx configuration
  flaskstack.deploy.nginx_validate:

- name: Test a configuration written by a source-built nginx
  flaskstack.deploy.nginx_validate:
    binary: /usr/local/nginx/sbin/nginx
    config: /usr/local/nginx/conf/nginx.conf
    prefix: /usr/local/nginx/

- name: Only report, then decide
  flaskstack.deploy.nginx_validate:
    config: /etc/nginx/nginx.conf
    fail_on_invalid: false
  register: nginx_test

- name: Show where the configuration is wrong
  ansible.builtin.debug:
    msg: "{{ nginx_test.file }}:{{ nginx_test.line }}: {{ nginx_test.message }}"
  when: not nginx_test.valid
"""

RETURN = r"""
valid:
  description: Whether C(nginx -t) accepted the configuration.
  returned: always
  type: bool
  sample: false
version:
  description: Version of the nginx binary that ran the test.
  returned: always
  type: str
  sample: 1.22.1
message:
  description: The error that made the test fail, as nginx worded it (without its location).
  returned: when the configuration is invalid
  type: str
  sample: unknown directive "foo"
file:
  description: File in which nginx found the error; V(null) when nginx named none (for example a missing main file).
  returned: when the configuration is invalid
  type: str
  sample: /etc/nginx/conf.d/app.conf
line:
  description: Line of O(config) or of an included file at which nginx found the error; V(null) when nginx named none.
  returned: when the configuration is invalid
  type: int
  sample: 12
level:
  description: nginx's level for the error (V(emerg), V(alert), V(crit) or V(error)).
  returned: when the configuration is invalid
  type: str
  sample: emerg
warnings_nginx:
  description: Warnings nginx printed while testing (for example a conflicting server name), with their location.
  returned: always
  type: list
  elements: dict
  sample: [{"level": "warn", "message": "conflicting server name \"a\" on 0.0.0.0:80, ignored", "file": null, "line": null}]
output:
  description: Everything C(nginx -t) printed.
  returned: always
  type: str
  sample: "nginx: [emerg] unknown directive \"foo\" in /etc/nginx/conf.d/app.conf:12\n"
cmd:
  description: The command that ran.
  returned: always
  type: list
  elements: str
  sample: ["/usr/sbin/nginx", "-t", "-q", "-c", "/etc/nginx/nginx.conf"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flaskstack.deploy.plugins.module_utils.nginx import (
    format_error,
    parse_test_output,
    parse_version_output,
)

NGINX_DIRS = ["/usr/sbin", "/usr/local/nginx/sbin", "/usr/local/sbin"]


def find_binary(module):
    binary = module.params["binary"]
    if binary is None:
        binary = module.get_bin_path("nginx", required=False, opt_dirs=NGINX_DIRS)
        if binary is None:
            module.fail_json(
                msg="No nginx binary found on PATH or in %s. Install nginx (the flaskstack.deploy.nginx role does) "
                "or give its path in 'binary'." % ", ".join(NGINX_DIRS)
            )
        return binary
    if not os.path.exists(binary):
        module.fail_json(msg="The nginx binary '%s' does not exist. Fix 'binary' or install nginx there." % binary)
    if not os.access(binary, os.X_OK) or os.path.isdir(binary):
        module.fail_json(msg="The nginx binary '%s' is not an executable file. Fix 'binary'." % binary)
    return binary


def check_config(module, config):
    if not os.path.exists(config):
        module.fail_json(msg="The nginx configuration '%s' does not exist. Fix 'config' or write the file first." % config)
    if os.path.isdir(config):
        module.fail_json(msg="The nginx configuration '%s' is a directory; 'config' must be the main file (nginx.conf)." % config)
    if not os.access(config, os.R_OK):
        module.fail_json(
            msg="The nginx configuration '%s' is not readable by this user. Run the task with become, "
            "or fix the file's permissions." % config
        )


def nginx_version(module, binary):
    rc, out, err = module.run_command([binary, "-V"])
    info = parse_version_output(out + err)
    if rc != 0 or info is None:
        module.fail_json(
            msg="'%s -V' did not report an nginx version (rc=%d). Is 'binary' an nginx binary?" % (binary, rc),
            stdout=out,
            stderr=err,
        )
    return info["version"]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="path", default="/etc/nginx/nginx.conf"),
            binary=dict(type="path"),
            prefix=dict(type="path"),
            fail_on_invalid=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    config = module.params["config"]
    prefix = module.params["prefix"]

    binary = find_binary(module)
    check_config(module, config)
    version = nginx_version(module, binary)

    cmd = [binary, "-t", "-q", "-c", config]
    if prefix:
        cmd += ["-p", prefix]
    rc, out, err = module.run_command(cmd)
    output = err + out
    parsed = parse_test_output(rc, output)

    result = dict(
        changed=False,
        valid=parsed["valid"],
        version=version,
        warnings_nginx=parsed["warnings"],
        output=output,
        cmd=cmd,
    )
    if parsed["valid"]:
        module.exit_json(**result)

    error = parsed["error"]
    result.update(message=error["message"], file=error["file"], line=error["line"], level=error["level"])
    if module.params["fail_on_invalid"]:
        module.fail_json(msg="nginx -t failed: %s" % format_error(error), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
