"""Tags: every role phase and every play is tagged, and each ``--tags`` selection runs what it needs.

Two views, because ``ansible-playbook --list-tasks`` cannot see into dynamic includes (include_role,
include_tasks):

- the real ``ansible-playbook --list-tasks --list-tags`` on each playbook (by path, the collection through
  .cache/collections) against a small inventory with app and lb hosts: play tags, task tags, and what a
  ``--tags`` selection lists;
- the task files read with PyYAML and expanded as Ansible does: static imports pass their tags down, a
  dynamic include's own tags only decide whether the include runs, and its tasks get the tags around the
  include plus ``apply``. Every selection is then walked in order, and each task's Jinja must find the
  registered results and set_fact values it reads (unless it guards them with ``default`` or
  ``is defined``): a phase that reads what only another phase sets fails here, as it would in a run.
"""

import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
PLAYBOOKS = ROOT / "playbooks"
PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")

PHASES = ("install", "config", "release", "switch", "service")
ROLE_NAMES = ("nginx", "supervisor", "flask_app", "gunicorn", "uwsgi")
PLAY_TAGS = {
    "preflight.yml": [["always", "preflight"]],
    "site.yml": [["always", "preflight"], ["app"], ["lb"]],
    "rolling_update.yml": [["always", "preflight"], ["always", "rolling_update"], ["rolling_update"]],
    "rollback.yml": [["always", "preflight"], ["rollback"]],
}
# What a selection may reach at all: a phase, a role's name, a play's tag, or nothing (a full run).
SELECTIONS = [None, *PHASES, *ROLE_NAMES, "app", "lb", "preflight", "rolling_update", "rollback"]

INVENTORY = """\
all:
  children:
    app:
      hosts:
        app1: {flask_app_server: gunicorn}
        app2: {flask_app_server: uwsgi, uwsgi_install_method: apt}
    lb:
      hosts:
        lb1: {}
"""


# --- the real ansible-playbook ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    path = tmp_path_factory.mktemp("tags") / "hosts.yml"
    path.write_text(INVENTORY)
    return path


@pytest.fixture(scope="module")
def list_tasks(inventory, ansible_env):
    """list_tasks(playbook, *args): the plays ``--list-tasks --list-tags`` shows, as
    [{name, tags, tasks: [(name, tags)]}]."""

    def run(playbook, *args):
        proc = subprocess.run(
            [str(PLAYBOOK), "-i", str(inventory), str(PLAYBOOKS / playbook), "--list-tasks", "--list-tags", *args],
            capture_output=True, text=True, env=ansible_env(), check=False, timeout=120, cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        plays = []
        for line in proc.stdout.splitlines():
            play = re.match(r"^  play #\d+ \([^)]*\): (.*)\tTAGS: \[(.*)\]$", line)
            task = re.match(r"^      (?!TASK TAGS:)(.*)\tTAGS: \[(.*)\]$", line)
            if play:
                plays.append({"name": play.group(1), "tags": split_tags(play.group(2)), "tasks": []})
            elif task:
                name = re.sub(r"^flaskstack\.deploy\.\w+ : ", "", task.group(1))
                plays[-1]["tasks"].append((name, split_tags(task.group(2))))
        assert plays, proc.stdout
        return plays

    return run


def split_tags(text):
    return {tag.strip() for tag in text.split(",") if tag.strip()}


def names(play):
    return [name for name, dummy in play["tasks"]]


def is_arg_spec_check(name):
    return name.startswith("Validating arguments against arg spec")


@pytest.mark.parametrize("playbook", sorted(PLAY_TAGS))
def test_every_play_is_tagged_and_every_task_has_a_phase_or_always(list_tasks, playbook):
    plays = list_tasks(playbook)
    assert [sorted(play["tags"]) for play in plays] == [sorted(tags) for tags in PLAY_TAGS[playbook]]
    for play in plays:
        for name, tags in play["tasks"]:
            assert tags & {"always", *PHASES}, "%s, play %r: task %r has no phase tag: %s" % (
                playbook, play["name"], name, sorted(tags))


def test_site_role_tasks_carry_their_role_name(list_tasks):
    dummy, app, lb = list_tasks("site.yml")
    for play, role in ((app, "flask_app"), (lb, "nginx")):
        for name, tags in play["tasks"]:
            assert role in tags or is_arg_spec_check(name), (role, name, sorted(tags))


def test_the_preflight_play_runs_under_any_tags(list_tasks):
    full = names(list_tasks("site.yml")[0])
    for tag in (*PHASES, "nginx", "lb", "app"):
        assert names(list_tasks("site.yml", "--tags", tag)[0]) == full, tag


def test_site_tags_config_pushes_only_configuration(list_tasks):
    preflight, app, lb = list_tasks("site.yml", "--tags", "config")
    assert "Check every input before anything changes" in names(preflight)
    # The app tier: its input check, the app server's description, configuration and supervisor program
    # (their config tasks, tests below) and the reload; nothing of the install, the release or the switch.
    assert [name for name in names(app) if not is_arg_spec_check(name)] == [
        "Check the role's input", "Learn what the app server needs", "Configure the app server",
        "Run the app server under supervisor", "Decide how the app server takes the change",
        "Signal the app server to reload", "Write the reload into the app server's master FIFO",
        "Restart the app server for a new virtualenv or master"]
    lb_names = names(lb)
    for name in ("Check the role's input", "Ask nginx for its version", "Record the installed nginx version",
                 "Write the configuration files", "Test the new configuration with nginx -t",
                 "Set aside configuration files the role no longer declares"):
        assert name in lb_names, name
    for name in ("Install nginx", "Refresh the package lists for check mode when they are older than an hour",
                 "Start nginx and enable it at boot"):
        assert name not in lb_names, name


def test_site_tags_release_stages_a_release_and_switches_nothing(list_tasks):
    dummy, app, lb = list_tasks("site.yml", "--tags", "release")
    app_names = names(app)
    for name in ("Name the release", "Copy the code", "Install the requirements, then the app server, into a new virtualenv",
                 "Write the environment file (secret key and flask_app_env)", "List the releases"):
        assert name in app_names, name
    for name in ("Create the app's user (no login shell)", "Make the release current", "Configure the app server",
                 "Run the app server under supervisor", "Wait for the new release to answer on {{ flask_app_health_path }}"):
        assert name not in app_names, name
    assert [name for name in names(lb) if not is_arg_spec_check(name)] == [
        "Check the role's input", "Ask nginx for its version", "Record the installed nginx version"]


def test_site_tags_switch_has_what_the_switch_reads_from_the_release_phase(list_tasks):
    dummy, app, dummy = list_tasks("site.yml", "--tags", "switch")
    app_names = names(app)
    for name in ("Name the release", "Check whether the release is in place already, and read its requirements",
                 "Name the virtualenv after its requirements", "Decide whether this run deploys a new release here",
                 "Make the release current", "Configure the app server", "Run the app server under supervisor",
                 "Fail clearly when the release does not answer"):
        assert name in app_names, name
    for name in ("Copy the code", "Install the requirements, then the app server, into a new virtualenv", "Create the app's directories",
                 "Remove all but the newest releases (never the current or previous one)"):
        assert name not in app_names, name


@pytest.mark.parametrize("tag, app_tasks, lb_tasks", [
    ("install", ["Create the app's user (no login shell)", "Install the WSGI entry point", "Configure the app server",
                 "Run the app server under supervisor"],
     ["Install nginx", "Refresh the package lists for check mode when they are older than an hour"]),
    ("service", ["Run the app server under supervisor"], ["Start nginx and enable it at boot"]),
])
def test_site_install_and_service(list_tasks, tag, app_tasks, lb_tasks):
    dummy, app, lb = list_tasks("site.yml", "--tags", tag)
    assert set(app_tasks) <= set(names(app)) and set(lb_tasks) <= set(names(lb))
    for play in (app, lb):
        for name, tags in play["tasks"]:
            assert tag in tags or "always" in tags, (tag, name)
    assert "Write the configuration files" not in names(lb)


def test_site_lists_every_tag(list_tasks):
    plays = list_tasks("site.yml")
    used = set().union(*(play["tags"] for play in plays), *(tags for play in plays for dummy, tags in play["tasks"]))
    assert used == {"always", "preflight", "app", "lb", *PHASES, *ROLE_NAMES}


def test_rolling_update_names_the_release_under_any_tags(list_tasks):
    for tag in PHASES:
        plays = list_tasks("rolling_update.yml", "--tags", tag)
        assert "Name the release" in names(plays[1]), tag


def test_rolling_update_tags_release_stages_without_draining(list_tasks):
    # (--list-tasks leaves out rescue sections: the stop after a failed host is checked on the YAML below.)
    update = list_tasks("rolling_update.yml", "--tags", "release")[2]
    assert names(update) == ["Deploy release {{ flaskstack_release_id }}"]


# --- the task files, expanded as Ansible does -----------------------------------------------------------

IMPORT_TASKS = {"ansible.builtin.import_tasks", "import_tasks"}
INCLUDE_TASKS = {"ansible.builtin.include_tasks", "include_tasks"}
IMPORT_ROLE = {"ansible.builtin.import_role", "import_role"}
INCLUDE_ROLE = {"ansible.builtin.include_role", "include_role"}
CONDITIONS = ("when", "changed_when", "failed_when", "until")
NOT_REFERENCES = {"name", "register", "tags", "vars", "block", "rescue", "always", "loop_control"}


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or []


def tag_list(value):
    if value is None:
        return set()
    if isinstance(value, str):
        return {tag.strip() for tag in value.split(",")}
    return set(value)


class Node:
    """A task as a run sees it. tags: its effective tags; children: the tasks of a dynamic include."""

    def __init__(self, where, data, tags, conditions, scope, children=None):
        self.where, self.data, self.tags, self.conditions, self.scope = where, data, tags, conditions, scope
        self.children = children
        self.name = data.get("name", "?")

    def __repr__(self):
        return "%s: %r %s" % (self.where, self.name, sorted(self.tags))


def action_of(entry):
    for key in entry:
        if key in IMPORT_TASKS | INCLUDE_TASKS | IMPORT_ROLE | INCLUDE_ROLE:
            return key, entry[key]
    return None, None


def target_roles(name):
    name = name.replace("flaskstack.deploy.", "")
    # flask_app runs "flaskstack.deploy.{{ flask_app_server }}": either app server.
    return ["gunicorn", "uwsgi"] if "{{" in name else [name]


def expand(entries, base, where, context, conditions=(), scope=None):
    """Nodes of a task list in run order. context: tags around (blocks, imports, play, apply)."""
    nodes = []
    scope = dict(scope or {})
    for entry in entries:
        own = tag_list(entry.get("tags"))
        tags = context | own
        when = entry.get("when", [])
        conds = conditions + tuple(str(item) for item in (when if isinstance(when, list) else [when]))
        inner_scope = dict(scope, **(entry.get("vars") or {}))
        if "block" in entry:
            for part in ("block", "rescue", "always"):
                nodes += expand(entry.get(part) or [], base, where, tags, conds, inner_scope)
            continue
        action, args = action_of(entry)
        if action in IMPORT_TASKS:
            file = args if isinstance(args, str) else args["file"]
            nodes += expand(load(base / file), base, "%s>%s" % (where, file), tags, conds, inner_scope)
        elif action in INCLUDE_TASKS:
            file = args if isinstance(args, str) else args["file"]
            apply = tag_list((args.get("apply") or {}).get("tags")) if isinstance(args, dict) else set()
            children = []
            if not file.startswith("{{"):  # "{{ flask_app_hook_file }}": the user's hooks
                for path in sorted(base.glob(re.sub(r"\{\{.*?\}\}", "*", file))):
                    children += expand(load(path), base, "%s>%s" % (where, path.name), context | apply, (), inner_scope)
            nodes.append(Node(where, entry, tags, conds, inner_scope, children))
        elif action in INCLUDE_ROLE | IMPORT_ROLE:
            apply = tag_list((args.get("apply") or {}).get("tags"))
            children = []
            for role in target_roles(args["name"]):
                path = ROLES / role / "tasks" / (args.get("tasks_from", "main") + ".yml")
                inherited = tags if action in IMPORT_ROLE else context | apply
                children += expand(load(path), path.parent, "%s>%s/%s" % (where, role, path.name), inherited,
                                   conds if action in IMPORT_ROLE else (), inner_scope)
            if action in IMPORT_ROLE:
                nodes += children
            else:
                nodes.append(Node(where, entry, tags, conds, inner_scope, children))
        else:
            nodes.append(Node(where, entry, tags, conds, inner_scope))
    return nodes


def role_entry(role):
    return expand(load(ROLES / role / "tasks" / "main.yml"), ROLES / role / "tasks", role, set())


def play_nodes(playbook):
    """Every play of a playbook (imports followed) as one node list each."""
    plays = []
    for play in load(PLAYBOOKS / playbook):
        if "import_playbook" in play or "ansible.builtin.import_playbook" in play:
            plays += play_nodes(play.get("import_playbook") or play["ansible.builtin.import_playbook"])
            continue
        scope = {}
        for vars_file in play.get("vars_files") or []:
            scope.update(load(PLAYBOOKS / vars_file))
        scope.update(play.get("vars") or {})
        tags = tag_list(play.get("tags"))
        nodes = []
        for role in play.get("roles") or []:
            role = role if isinstance(role, dict) else {"role": role}
            tasks = ROLES / target_roles(role["role"])[0] / "tasks"
            nodes += expand(load(tasks / "main.yml"), tasks, tasks.parent.name, tags | tag_list(role.get("tags")), (),
                            dict(scope, **(role.get("vars") or {})))
        nodes += expand(play.get("tasks") or [], PLAYBOOKS, playbook, tags, (), scope)
        plays.append(nodes)
    return plays


ENTRIES = {"role %s" % role: [role_entry(role)] for role in ROLE_NAMES}
ENTRIES.update({"playbook %s" % playbook: play_nodes(playbook) for playbook in PLAY_TAGS})


def walk(nodes):
    """Every node, dynamic includes' tasks included."""
    for node in nodes:
        yield node
        if node.children:
            yield from walk(node.children)


def role_of(node):
    parts = re.findall(r"(?:^|>)(\w+)/", node.where) or [node.where.split(">")[0]]
    return parts[-1]


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_every_task_a_run_can_reach_has_a_phase_tag(entry):
    for nodes in ENTRIES[entry]:
        for node in walk(nodes):
            assert node.tags & {"always", *PHASES}, "no phase tag: %r" % node


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_task_of_a_role_has_its_role_name(role):
    for node in walk(ENTRIES["role %s" % role][0]):
        # Tasks of a role the role includes carry the includer's name through `apply`, and their own.
        assert role in node.tags and role_of(node) in node.tags, "role tag missing: %r" % node


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_dynamic_include_runs_for_every_tag_of_its_tasks(entry):
    """An include's own tags do not reach its tasks but decide whether it runs at all: they must name
    every tag that selects one of its tasks, or that selection silently skips them. (For the playbooks:
    their own includes; those inside a role are the role's, checked with it. Entry points such as
    tasks_from rollback get their tags from the playbook's include.)"""
    for nodes in ENTRIES[entry]:
        for node in walk(nodes):
            if node.children is None or (entry.startswith("playbook") and "/" in node.where):
                continue
            inner = set().union(*(child.tags for child in node.children)) if node.children else set()
            missing = inner - node.tags - {"always"}
            assert not missing, "%r runs tasks tagged %s but is not tagged so" % (node, sorted(missing))


@pytest.mark.parametrize("playbook", ["rolling_update.yml", "rollback.yml"])
def test_a_failed_batch_stops_the_run_under_any_tags(playbook):
    stops = [node for nodes in ENTRIES["playbook %s" % playbook] for node in walk(nodes)
             if node.where == playbook and "ansible.builtin.fail" in node.data]
    assert stops and all("always" in node.tags for node in stops), stops


@pytest.mark.parametrize("path", sorted(ROLES.glob("*/tasks/main.yml")) + sorted(ROLES.glob("*/tasks/app.yml")),
                         ids=lambda path: "%s/%s" % (path.parent.parent.name, path.name))
def test_includes_in_a_roles_phases_apply_their_tags(path):
    for entry in load(path):
        action, args = action_of(entry)
        if action in INCLUDE_TASKS | INCLUDE_ROLE:
            assert isinstance(args, dict) and tag_list((args.get("apply") or {}).get("tags")), entry["name"]
            assert tag_list(entry.get("tags")), entry["name"]


# --- does every selection run what its tasks read? -----------------------------------------------------

STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
JINJA = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
NAME = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)")


def defaults_and_vars():
    defined, lazy = set(), {}
    for path in ROLES.glob("*/defaults/main.yml"):
        defined |= set(load(path))
    for path in ROLES.glob("*/vars/main.yml"):
        lazy.update(load(path))
    return defined, lazy


DEFAULTS, ROLE_VARS = defaults_and_vars()


def produced_by(node):
    """Names a task sets: its register, its set_fact keys."""
    found = {node.data["register"]} if node.data.get("register") else set()
    for key in ("ansible.builtin.set_fact", "set_fact"):
        if isinstance(node.data.get(key), dict):
            found |= set(node.data[key]) - {"cacheable"}
    return found


ALL_PRODUCED = {name for entry in ENTRIES.values() for nodes in entry for node in walk(nodes)
                for name in produced_by(node)} - DEFAULTS


def expressions(node):
    """The Jinja a run templates for a task: its conditions (and those of the blocks and imports around
    it), its loop and every {{ }} in its arguments."""
    found = list(node.conditions)
    for key in CONDITIONS[1:]:
        if key in node.data:
            found += [str(item) for item in (node.data[key] if isinstance(node.data[key], list) else [node.data[key]])]
    for key, value in node.data.items():
        if key in NOT_REFERENCES or key in CONDITIONS:
            continue
        if key in ("ansible.builtin.assert", "assert"):
            that = value.get("that")
            found += [str(item) for item in (that if isinstance(that, list) else [that])]
        if key in ("ansible.builtin.template", "template") and "{{" not in value.get("src", "{{"):
            found += jinja((ROLES / role_of(node) / "templates" / value["src"]).read_text(encoding="utf-8"))
        for text in strings(value):
            found += jinja(text)
    return found


def strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def jinja(text):
    return [a or b for a, b in JINJA.findall(text)]


def unguarded(expression, candidates):
    """Names of candidates the expression reads without `| default` or an `is defined` test."""
    text = STRINGS.sub("''", expression)
    result = set()
    for match in NAME.finditer(text):
        name = match.group(1)
        if name not in candidates:
            continue
        rest = text[match.end():]
        guard = re.match(r"((\.\w+)|(\[[^\]]*\]))*\s*(\|\s*(default|d)\b|is\s+(not\s+)?(defined|undefined)\b)", rest)
        if guard or re.search(r"\b%s\b[\w.\[\]]*\s+is\s+(not\s+)?defined" % name, text):
            continue
        result.add(name)
    return result


def needs(expression, scope, seen=frozenset()):
    """Produced names an expression needs, through the role vars and the include/play vars it reads."""
    lazy = dict(ROLE_VARS, **scope)
    direct = unguarded(expression, ALL_PRODUCED | set(lazy))
    result = direct & ALL_PRODUCED
    for name in direct - ALL_PRODUCED - seen:
        for text in strings(lazy[name]):
            for inner in jinja(text):
                result |= needs(inner, scope, seen | {name})
    return result


def reads_role_inputs(node):
    """flaskstack.deploy.check_inputs templates every variable of the roles it checks."""
    args = node.data.get("flaskstack.deploy.check_inputs")
    if not isinstance(args, dict):
        return set()
    prefixes = tuple(role + "_" for role in ROLE_NAMES)
    return {name for name in node.scope if name.startswith(prefixes)}


def selected(node, tag):
    return tag is None or "always" in node.tags or tag in node.tags


def never_runs(node):
    """A condition `name == 'word'` that the include's or import's own vars make false (hooks.yml's first
    tasks run for before_install only, whatever their tags)."""
    for condition in node.conditions:
        match = re.fullmatch(r"\s*(\w+)\s*(==|!=)\s*'([^']*)'\s*", condition)
        value = node.scope.get(match.group(1)) if match else None
        if isinstance(value, str) and "{{" not in value and (value == match.group(3)) != (match.group(2) == "=="):
            return True
    return False


def missing_values(plays, tag):
    """Walk a selection in run order; list each task that reads a value no selected task before it set."""
    problems = []
    defined = set()

    def run(nodes):
        for node in nodes:
            if not selected(node, tag) or never_runs(node):
                continue
            wanted = set()
            for expression in expressions(node):
                wanted |= needs(expression, node.scope)
            for name in reads_role_inputs(node):
                wanted |= needs("{{ %s }}" % name, node.scope)
            missing = wanted - defined - produced_by(node)
            if missing:
                problems.append("%r reads %s" % (node, sorted(missing)))
            defined.update(produced_by(node))
            if node.children:
                run(node.children)

    for nodes in plays:
        run(nodes)
    return problems


@pytest.mark.parametrize("tag", SELECTIONS, ids=lambda tag: "--tags %s" % tag if tag else "all")
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_selection_runs_the_tasks_that_set_what_it_reads(entry, tag):
    problems = missing_values(ENTRIES[entry], tag)
    assert not problems, "\n".join(problems)


def test_the_value_check_catches_a_missing_always():
    """The check above fails when the nginx version facts lose `always` (as a run with --tags config would)."""
    nodes = expand(
        [dict(entry, tags=["nginx"]) if entry["name"] == "Find the installed nginx version" else entry
         for entry in load(ROLES / "nginx" / "tasks" / "main.yml")],
        ROLES / "nginx" / "tasks", "nginx", set())
    assert any("nginx_installed" in problem for problem in missing_values([nodes], "config"))
    assert not missing_values([nodes], None)


# --- documentation ---------------------------------------------------------------------------------------


def documented_tags(path):
    text = path.read_text(encoding="utf-8")
    section = re.search(r"^## Tags\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "%s has no Tags section" % path
    return set(re.findall(r"^\| `([a-z_]+)`", section.group(1), re.M)), section.group(1)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_role_readme_documents_every_tag_of_its_tasks(role):
    def written(entries):
        for entry in entries:
            yield tag_list(entry.get("tags"))
            dummy, args = action_of(entry)
            if isinstance(args, dict):
                yield tag_list((args.get("apply") or {}).get("tags"))
            for part in ("block", "rescue", "always"):
                yield from written(entry.get(part) or [])

    used = set().union(*(tags for path in (ROLES / role / "tasks").glob("*.yml") for tags in written(load(path))))
    table, dummy = documented_tags(ROLES / role / "README.md")
    assert table == used, "README of %s: table %s, tasks %s" % (role, sorted(table), sorted(used))


def test_playbook_docs_document_every_tag(list_tasks):
    table, section = documented_tags(ROOT / "docs" / "playbooks.md")
    tags = set()
    for playbook in PLAY_TAGS:
        for play in list_tasks(playbook):
            tags |= play["tags"].union(*(task_tags for dummy, task_tags in play["tasks"]))
    assert table == tags
    assert "flaskstack.deploy.site --tags config" in section
