# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""check_inputs: the user-settable variables of the named roles, checked on the controller (docs: modules/)."""

from __future__ import annotations

import os

import yaml

from ansible.errors import AnsibleError, AnsibleUndefinedVariable
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import ArgumentTypeError, ArgumentValueError, RequiredError
from ansible.plugins.action import ActionBase

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 trusts every string as a template: nothing to mark
    def trust_as_template(value):
        """ansible-core 2.17 and 2.18: the value as it is."""
        return value

from ansible_collections.flaskstack.deploy.plugins.module_utils import inputs
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import nginx as nginx_inputs
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import supervisor as supervisor_inputs
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs import uwsgi as uwsgi_inputs

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE_NAMES = ("flask_app", "supervisor", "gunicorn", "uwsgi", "nginx")
# The playbooks' settings (playbooks/vars/stack.yml), checked with roles: [stack].
STACK_VARS = (
    "flaskstack_app_group", "flaskstack_lb_group", "flaskstack_serial", "flaskstack_pool_name",
    "flaskstack_pool_protocol", "flaskstack_pool_max_fails", "flaskstack_pool_fail_timeout",
    "flaskstack_pool_balance", "flaskstack_arch_weights", "flaskstack_server_names",
    "flaskstack_extra_upstreams", "flaskstack_sites", "flaskstack_drained",
)
# Per app host, read by the upstream_servers filter (checked with flask_app).
APP_HOST_VARS = (
    "flaskstack_upstream_address", "flaskstack_upstream_weight", "flaskstack_upstream_max_fails",
    "flaskstack_upstream_fail_timeout", "flaskstack_upstream_backup", "flaskstack_upstream_down",
    "ansible_host",
)
# The stack's sites and extra pools are nginx_sites / nginx_upstreams entries.
STACK_SPECS = {"flaskstack_sites": "nginx_sites", "flaskstack_extra_upstreams": "nginx_upstreams"}
# Roles whose inputs are normalised here (module_utils/_inputs): the fact <role>_input holds what their
# templates and tasks render.
CATALOGS = {"nginx": nginx_inputs, "supervisor": supervisor_inputs, "uwsgi": uwsgi_inputs}
TYPE_NAMES = {
    "int": "an integer", "bool": "true or false", "list": "a list", "dict": "a mapping", "str": "a string",
    "float": "a number", "path": "a path",
}

_CACHE = {}


def _load(*parts):
    """A YAML file of the collection (cached)."""
    path = os.path.join(COLLECTION, *parts)
    if path not in _CACHE:
        try:
            with open(path, encoding="utf-8") as handle:
                _CACHE[path] = yaml.safe_load(handle) or {}
        except FileNotFoundError:
            _CACHE[path] = {}
    return _CACHE[path]


def _trusted(value):
    """Role defaults read from the collection are templates Ansible would render too."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return value


def role_spec(role, entry_point="main"):
    specs = _load("roles", role, "meta", "argument_specs.yml").get("argument_specs") or {}
    spec = specs.get(entry_point) or specs.get("main") or {}
    return spec.get("options") or {}


def role_defaults(role):
    return _load("roles", role, "defaults", "main.yml")


def _message(path, opt, value, error):
    secret = opt.get("no_log") or path.split(".", 1)[0].split("[", 1)[0] in inputs.SECRETS
    shown = "the value" if secret else inputs.show(value)
    if isinstance(error, RequiredError):
        return "%s: is required; set it" % path
    if isinstance(error, ArgumentValueError) and opt.get("choices") is not None:
        return "%s: %s is not one of: %s" % (path, shown, ", ".join(str(c) for c in opt["choices"]))
    if opt.get("elements") and isinstance(value, list):
        return "%s: %s: every element must be %s" % (path, shown, TYPE_NAMES.get(opt["elements"], opt["elements"]))
    if isinstance(error, ArgumentTypeError) and opt.get("type") in TYPE_NAMES:
        return "%s: %s is not %s" % (path, shown, TYPE_NAMES[opt["type"]])
    return "%s: %s" % (path, "invalid value" if secret else error.msg)


def validate_spec(path, options, params, errors, top=False):
    """Types, choices and required options of a role's argument spec, one option at a time, so that every
    message names its variable (nginx_upstreams[0].servers[1].port). Returns the converted values."""
    validated = {}
    for name, opt in options.items():
        where = "%s.%s" % (path, name) if path else name
        present = name in params and params[name] is not None
        if not present:
            if opt.get("required"):
                errors.append("%s: is %s; set it" % (where, "missing" if opt.get("no_log") else "required"))
            elif not top and "default" in opt:
                validated[name] = opt["default"]
            continue
        value = params[name]
        simple = {k: opt[k] for k in ("type", "elements", "choices") if k in opt}
        result = ArgumentSpecValidator({name: simple}).validate({name: value})
        if result.errors.errors:
            errors.append(_message(where, opt, value, result.errors.errors[0]))
            continue
        value = result.validated_parameters.get(name, value)
        sub = opt.get("options")
        if sub and isinstance(value, dict):
            value = _nested(where, sub, value, errors)
        elif sub and isinstance(value, list):
            value = [
                _nested("%s[%d]" % (where, i), sub, item, errors) if isinstance(item, dict) else item
                for i, item in enumerate(value)
            ]
        validated[name] = value
    return validated


def _nested(path, options, params, errors):
    unknown = sorted(str(k) for k in params if k not in options)
    if unknown:
        errors.append("%s: unknown key%s %s; known keys: %s" % (
            path, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(options)))
    value = validate_spec(path, options, params, errors)
    value.update({k: v for k, v in params.items() if k not in options})
    return value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("roles", "entry_point"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        validation, _ignored = self.validate_argument_spec(
            argument_spec={
                "roles": {"type": "list", "elements": "str", "required": True,
                          "choices": list(ROLE_NAMES) + ["stack"]},
                "entry_point": {"type": "str", "default": "main"},
            }
        )
        args = validation.validated_parameters
        roles = list(dict.fromkeys(args["roles"]))
        entry_point = args["entry_point"]

        # What the host has (inventory, play, extra vars, and in a role its defaults), the collection's role
        # defaults underneath: a user value may refer to another role's default that is not in scope here.
        scope = {}
        for role in ("flask_app",) + tuple(r for r in roles if r != "stack"):
            scope.update(_trusted(role_defaults(role)))
        scope["role_path"] = os.path.join(COLLECTION, "roles", "flask_app")
        scope.update(task_vars)
        templar = self._templar.copy_with_new_env(available_variables=scope)

        errors, unresolved = [], []
        checked, facts = {}, {}

        def resolve(name):
            try:
                return True, templar.template(scope[name])
            except AnsibleUndefinedVariable as exc:
                if name in task_vars:
                    unresolved.append("%s (%s)" % (name, str(exc).splitlines()[0]))
                return False, None
            except AnsibleError as exc:
                errors.append("%s: cannot be templated: %s" % (
                    name, "hidden (no_log)" if name in inputs.SECRETS else str(exc).splitlines()[0]))
                return False, None

        for role in roles:
            if role == "stack":
                names = [n for n in STACK_VARS if n in task_vars]
                options = {n: role_spec("nginx")[STACK_SPECS[n]] for n in STACK_SPECS}
            else:
                options = dict(role_spec(role, entry_point))
                if role == "nginx" and "stack" in roles:
                    # The playbooks set these from the stack's settings (checked with stack).
                    options.pop("nginx_upstreams", None)
                    options.pop("nginx_sites", None)
                names = [n for n in options if n in scope]
                if role == "flask_app":
                    names += [n for n in APP_HOST_VARS if n in task_vars]
            values = {}
            for name in names:
                ok, value = resolve(name)
                if ok:
                    values[name] = value
            before = len(errors)
            spec_options = {n: o for n, o in options.items() if n in values}
            converted = validate_spec("", spec_options, values, errors, top=True)
            bad = {e.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0] for e in errors[before:]}
            values = {n: converted.get(n, v) for n, v in values.items() if n not in bad}
            # Required options with no value anywhere (no default, not set).
            for name, opt in options.items():
                if opt.get("required") and name not in values and name not in bad and name not in scope:
                    errors.append("%s: is missing; set it" % name)
            kwargs = {}
            if role == "nginx":
                known = task_vars.get("nginx_source_known_checksums")
                if known is None:
                    known = _load("roles", "nginx", "vars", "main.yml").get("nginx_source_known_checksums") or {}
                kwargs["known_checksums"] = {str(k) for k in known}
            if role == "flask_app":
                kwargs["on_controller"] = True
            if role == "stack":
                group = values.get("flaskstack_app_group", "app")
                groups = task_vars.get("groups") or {}
                if isinstance(group, str) and group in groups:
                    kwargs["app_hosts"] = list(groups[group])
                if "nginx" in roles and "nginx_next_upstream_tries" in scope:
                    ok, tries = resolve("nginx_next_upstream_tries")
                    if ok:
                        kwargs["next_upstream_tries"] = tries
            found = list(inputs.check(role, values, **kwargs))
            if role in CATALOGS and entry_point == "main":
                normalised, more = CATALOGS[role].normalise(values)
                # One message per variable: the catalog's only where the checks above found nothing.
                reported = {e.split(":", 1)[0] for e in found}
                found += [e for e in more if e.split(":", 1)[0] not in reported]
                facts[role + "_input"] = normalised
            for error in found:
                head = error.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
                if head not in task_vars and isinstance(scope.get(head), str) and "{{" in scope[head]:
                    # Not set: the role's default, made from other variables (named in it).
                    error += " (not set: the role's default %s)" % inputs.show(str(scope[head]))
                errors.append(error)
            checked[role] = sorted(values)

        result.update(changed=False, checked=checked, unresolved=unresolved, errors=errors)
        if facts and not errors:
            # Host facts for this run only (not the fact cache): the normalised values the templates render.
            result["ansible_facts"] = facts
            result["_ansible_facts_cacheable"] = False
        if errors:
            result["failed"] = True
            result["msg"] = "%d bad input%s (%s); nothing was changed:\n%s" % (
                len(errors), "s" if len(errors) > 1 else "", ", ".join(roles), "\n".join(errors))
        else:
            result["msg"] = "inputs of %s are valid%s" % (
                ", ".join(roles),
                "; not resolvable yet, checked later by the roles: %s" % ", ".join(unresolved) if unresolved else "")
        return result
