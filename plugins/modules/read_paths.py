#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: read_paths
short_description: Read the state of several paths, and small text files, in one call
version_added: 0.3.0
description:
  - Returns, for each path given, whether it exists, its type, the target of a symbolic link and, when asked,
    the text of a small regular file.
  - One call replaces a C(ansible.builtin.stat) or C(ansible.builtin.slurp) task per path. Every task costs a
    connection and a Python start on the host, which is most of a no-op run's time; the
    C(flaskstack.deploy.flask_app) role reads its release state with one call.
  - Only reads; it runs the same in check mode.
author:
  - flaskstack.deploy contributors (@flaskstack)
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  paths:
    description:
      - Absolute paths to read. A path that does not exist is reported with RV(paths.exists=false), not as an
        error. Symbolic links are not followed for the type, and RV(paths.lnk_target) is the link's own text.
    type: list
    elements: path
    required: true
  read:
    description:
      - Paths (also listed in O(paths) or not) whose text to return in RV(paths.content), when they are regular
        files (a link to one is followed).
      - The file must be UTF-8 text of at most O(max_size) bytes; the module fails otherwise, naming the path.
    type: list
    elements: path
    default: []
  max_size:
    description:
      - Largest file, in bytes, that O(read) returns.
    type: int
    default: 65536
notes:
  - Paths must be absolute; relative paths would depend on the remote user's working directory.
seealso:
  - module: ansible.builtin.stat
  - module: ansible.builtin.slurp
"""

EXAMPLES = r"""
- name: Read where the current release points and the previous release's name
  flaskstack.deploy.read_paths:
    paths:
      - /srv/shop/current
      - /srv/shop/current/venv
      - /srv/shop/DRAIN
    read:
      - /srv/shop/PREVIOUS_RELEASE
  register: shop_state

- name: Show them
  ansible.builtin.debug:
    msg: >-
      current: {{ shop_state.paths['/srv/shop/current'].lnk_target | default('none') }},
      previous: {{ shop_state.paths['/srv/shop/PREVIOUS_RELEASE'].content | default('none') | trim }}
"""

RETURN = r"""
paths:
  description: One entry per path of O(paths) and O(read), keyed by the path as given.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the path exists (a dangling link exists, as a link).
      type: bool
      sample: true
    isdir:
      description: Whether it is a directory (not through a link).
      type: bool
      sample: false
    isreg:
      description: Whether it is a regular file (not through a link).
      type: bool
      sample: false
    islnk:
      description: Whether it is a symbolic link.
      type: bool
      sample: true
    lnk_target:
      description: The link's target as written in the link.
      type: str
      returned: for a symbolic link
      sample: /srv/shop/releases/3f2a9c1b7d4e
    content:
      description: The file's text.
      type: str
      returned: for a path of O(read) that is a regular file (or a link to one)
      sample: "3f2a9c1b7d4e\n"
  sample:
    /srv/shop/current: {exists: true, isdir: false, isreg: false, islnk: true, lnk_target: /srv/shop/releases/3f2a9c1b7d4e}
    /srv/shop/DRAIN: {exists: false, isdir: false, isreg: false, islnk: false}
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule


def path_state(path):
    """exists / isdir / isreg / islnk / lnk_target of one path, without following a final link."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return dict(exists=False, isdir=False, isreg=False, islnk=False)
    except NotADirectoryError:  # a parent is a file: the path cannot exist
        return dict(exists=False, isdir=False, isreg=False, islnk=False)
    state = dict(
        exists=True,
        isdir=stat.S_ISDIR(info.st_mode),
        isreg=stat.S_ISREG(info.st_mode),
        islnk=stat.S_ISLNK(info.st_mode),
    )
    if state["islnk"]:
        state["lnk_target"] = os.readlink(path)
    return state


def read_text(path, max_size):
    """The text of a regular file (through a link), or None when it is not one. Raises ValueError to fail on."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            data = handle.read(max_size + 1)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise ValueError("cannot read %s: %s" % (path, exc.strerror or exc))
    if len(data) > max_size:
        raise ValueError("%s is larger than max_size (%d bytes); raise max_size or leave it out of read" % (path, max_size))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("%s is not UTF-8 text; leave it out of read" % path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", required=True),
            read=dict(type="list", elements="path", default=[]),
            max_size=dict(type="int", default=65536),
        ),
        supports_check_mode=True,
    )
    paths = module.params["paths"]
    read = module.params["read"]
    max_size = module.params["max_size"]
    if max_size < 0:
        module.fail_json(msg="max_size must be 0 or more bytes, got %d" % max_size)
    relative = [p for p in paths + read if not os.path.isabs(p)]
    if relative:
        module.fail_json(msg="paths and read take absolute paths only; relative: %s" % ", ".join(relative))

    result = {}
    errors = []
    for path in paths + [p for p in read if p not in paths]:
        if path in result:
            continue
        result[path] = path_state(path)
    for path in read:
        try:
            content = read_text(path, max_size)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if content is not None:
            result[path]["content"] = content
    if errors:
        module.fail_json(msg="; ".join(errors), paths=result)
    module.exit_json(changed=False, paths=result)


if __name__ == "__main__":
    main()
