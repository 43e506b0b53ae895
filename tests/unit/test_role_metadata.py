"""Every role: prefixed variables, all of them in meta/argument_specs.yml and in the README table."""

import pathlib

import pytest
import yaml

from ansible_collections.flaskstack.deploy.plugins.module_utils.app_servers import CONTRACT_INPUT

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "tasks").is_dir())


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_defaults_are_prefixed_and_specified(role):
    defaults = load(ROLES / role / "defaults" / "main.yml")
    specs = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]
    options = specs["main"]["options"]
    assert all(name.startswith(role + "_") for name in defaults), "unprefixed default in %s" % role
    assert all(name.startswith(role + "_") for name in options), "unprefixed option in %s" % role
    missing = sorted(set(defaults) - set(options))
    assert not missing, "defaults without an argument spec in %s: %s" % (role, missing)
    # Other entry points (tasks_from) take some of main's options, specified the same way; an option of
    # their own (flask_app_traffic) has no default and is in the role's README. The app tier's contract
    # input (flaskstack_app, docs/app_tier.md) is the one unprefixed option, set by flask_app.
    readme = (ROLES / role / "README.md").read_text(encoding="utf-8")
    for name, entry in specs.items():
        for option, spec in entry["options"].items():
            if option in options:
                assert spec == options[option], "%s entry point %s: %s differs from main" % (role, name, option)
            else:
                assert option.startswith(role + "_") or option == CONTRACT_INPUT, (role, name, option)
                assert option not in defaults, (role, name, option)
                assert "`%s`" % option in readme, "%s README lacks %s (entry point %s)" % (role, option, name)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_readme_documents_every_variable(role):
    readme = (ROLES / role / "README.md").read_text(encoding="utf-8")
    options = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    undocumented = [name for name in options if "`%s`" % name not in readme]
    assert not undocumented, "%s README lacks %s" % (role, undocumented)


def test_every_role_is_here():
    assert ROLE_NAMES == ["flask_app", "gunicorn", "nginx", "supervisor", "uwsgi"]
