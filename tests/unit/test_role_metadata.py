"""Every role: prefixed variables, all of them in meta/argument_specs.yml and in the README table."""

import pathlib
import re

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


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_defaults_match_the_specs(role):
    """A default lives in defaults/main.yml; where the spec states one too, it is the same value."""
    defaults = load(ROLES / role / "defaults" / "main.yml")
    options = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    differ = {name: (defaults[name], spec["default"]) for name, spec in options.items()
              if "default" in spec and name in defaults and spec["default"] != defaults[name]}
    assert not differ, "%s: defaults/main.yml and meta/argument_specs.yml differ: %s" % (role, differ)
    unstated = sorted(name for name, spec in options.items()
                      if "default" in spec and name not in defaults and not spec.get("required"))
    assert not unstated, "%s: the spec states defaults defaults/main.yml lacks: %s" % (role, unstated)


def _table_rows(readme):
    """(names, defaults) of the README's variable table rows: `a` / `b` | `1` / `2` | ..."""
    for row in readme.splitlines():
        # A | inside a cell is written \| (GitHub's tables).
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = [part.strip().strip("`") for part in cells[0].split(" / ")]
        values = [part.strip() for part in cells[1].split(" / ")] if cells[1] else []
        yield names, values


def _shown(value):
    """A default as the README tables show it."""
    if isinstance(value, bool):
        return "`%s`" % str(value).lower()
    if value == "" or value == [] or value == {}:
        return "`%s`" % ('""' if value == "" else "[]" if value == [] else "{}")
    if isinstance(value, (list, dict)):
        return None  # described in words, not compared
    return "`%s`" % value


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_readme_tables_show_the_defaults(role):
    """Each default the README's variable table shows is the role's default (defaults/main.yml)."""
    defaults = load(ROLES / role / "defaults" / "main.yml")
    readme = (ROLES / role / "README.md").read_text(encoding="utf-8")
    wrong = []
    for names, values in _table_rows(readme):
        if len(values) != len(names):
            continue
        for name, shown in zip(names, values):
            if name in defaults and _shown(defaults[name]) is not None and shown.startswith("`"):
                if shown != _shown(defaults[name]):
                    wrong.append("%s: README %s, default %s" % (name, shown, _shown(defaults[name])))
    assert not wrong, "%s README table: %s" % (role, wrong)
