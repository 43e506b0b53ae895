# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""app_server: an app server role's description for flask_app, checked and set as a fact (docs: modules/)."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.flaskstack.deploy.plugins.module_utils import app_servers


class ActionModule(ActionBase):
    """Validate the contract on the controller and publish it as the flaskstack_app_server fact."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validated = ArgumentSpecValidator(app_servers.APP_SERVER_SPEC).validate(dict(self._task.args))
        errors = list(validated.error_messages)
        fact = None
        if not errors:
            try:
                fact = app_servers.app_server_fact(validated.validated_parameters)
            except ValueError as error:
                errors.append(str(error))
        if errors:
            result.update(failed=True, msg=(
                "flaskstack.deploy.app_server: the app server role handed flask_app a description that breaks "
                "the app tier's contract: %s. Fix the description in the server role's vars/main.yml." % "; ".join(errors)))
            return result
        result.update(changed=False, ansible_facts={app_servers.CONTRACT_FACT: fact})
        result[app_servers.CONTRACT_FACT] = fact
        return result
