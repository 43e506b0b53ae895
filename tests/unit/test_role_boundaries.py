"""No role reads another role's variables: the app tier talks through one contract (docs/app_tier.md).

A role may set another role's documented inputs where it includes that role (`vars:` of include_role), and
read a role's documented return value; everything else it uses has its own prefix or is neutral
(flaskstack_app in, flaskstack_app_server out).
"""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = ("flask_app", "gunicorn", "uwsgi", "supervisor", "nginx")
NAME = re.compile(r"(?<![\w.])(%s)_[a-z0-9_]+" % "|".join(ROLES))

# Documented return values a caller reads after including the role.
RETURN_VALUES = {"supervisor_applied"}
# nginx's own directives (roles/nginx/templates), not variables.
NGINX_DIRECTIVES = {
    "uwsgi_pass", "uwsgi_param", "uwsgi_params", "uwsgi_read_timeout", "uwsgi_connect_timeout",
    "uwsgi_send_timeout", "uwsgi_next_upstream", "uwsgi_next_upstream_tries", "uwsgi_buffers",
    "uwsgi_buffer_size", "uwsgi_buffering",
}


# The variable a config_value call names in its message: a label for the user, not a read.
LABEL = re.compile(r"(config_value\('[a-z_]+', )'[^']*'\)")


def _without_comments(path):
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = LABEL.sub(r"\1'')", text)
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#") or (path.suffix == ".j2" and stripped.startswith(";")):
            continue
        lines.append(line)
    return "\n".join(lines)


def _include_inputs(path):
    """The `vars:` keys of include_role / import_role tasks in a task file (another role's inputs)."""
    keys = set()

    def walk(tasks):
        for task in tasks or []:
            if not isinstance(task, dict):
                continue
            if any(k.endswith(("include_role", "import_role")) for k in task):
                keys.update((task.get("vars") or {}).keys())
            for part in ("block", "rescue", "always"):
                walk(task.get(part))

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return keys


def _role_files(role):
    base = ROOT / "roles" / role
    for part in ("tasks", "handlers", "defaults", "vars", "templates"):
        yield from sorted(p for p in (base / part).rglob("*") if p.is_file())


@pytest.mark.parametrize("role", ROLES)
def test_a_role_reads_only_its_own_variables(role):
    foreign = {}
    for path in _role_files(role):
        allowed = _include_inputs(path) if path.parent.name == "tasks" else set()
        for match in NAME.finditer(_without_comments(path)):
            name = match.group(0)
            if match.group(1) == role or name in allowed or name in RETURN_VALUES:
                continue
            if role == "nginx" and name in NGINX_DIRECTIVES:
                continue
            foreign.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert not foreign, "role %s reads other roles' variables: %s" % (role, foreign)


def test_the_check_can_fail():
    """The pattern finds a foreign name where one is used (and the comment filter keeps code)."""
    sample = ROOT / "roles" / "gunicorn" / "tasks" / "app.yml"
    assert NAME.search("x: '{{ flask_app_name }}'") and NAME.search(_without_comments(sample))
