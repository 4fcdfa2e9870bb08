"""The threat model of ``docs/security.md``, shown end to end: one group of tests per threat.

Each group is named after its row in the threat table (``test_threat1_...`` to
``test_threat10_...``) and drives the real thing: journeys published through the
engine or ``bompao journeys publish``, gates checked, follow-ups run by the real
dispatcher (or ``bompao scheduler run --once`` in a process of its own, with time and
memory limits where a journey tries to exhaust them) against real SMTP and HTTP peers
(``scheduler.peers``), on a SQLite file and on PostgreSQL. Every test fails if the
defence it names is taken away.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import os
import re
import resource
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from scheduler.peers import Cli, MutableClock, Sink, SmtpBox, free_port
from werkzeug import Response

import bompao
from bompao.cli import cli as cli_group
from bompao.definitions import load_yaml
from bompao.definitions.values import MAX_ITEMS
from bompao.engine import Actor, Engine
from bompao.engine import transfer as transfer_module
from bompao.engine.config import Config, load_config
from bompao.engine.dispatch import Dispatcher
from bompao.engine.html import render_report
from bompao.engine.reports import Filters
from bompao.errors import (
    CheckError,
    DefinitionError,
    GateRefused,
    InvalidValue,
    LoadError,
    NotFound,
    PermissionDenied,
    SchemaError,
)

ROOT = Path(bompao.__file__).resolve().parent
BUNDLED = ROOT / "journeys" / "social-incubator.yaml"
T0 = datetime(2027, 1, 4, 3, 0, tzinfo=UTC)
DIAGNOSTIC = re.compile(r"^.+:\d+:\d+: error: ")
PYTHON_REPR = re.compile(r"<class |<function |<built-in|<bound |<module |<Namespace|"
                         r"<TemplateReference|\b0x[0-9a-f]{6,}\b|jinja2\.")


# helpers ---------------------------------------------------------------------------------


def assert_refused(code: int, err: str, codes: tuple[int, ...] = (1, 2)) -> list[str]:
    """A clean refusal: an expected exit code, ``error:`` lines only, never a traceback."""
    assert code in codes, (code, err)
    assert "Traceback" not in err
    assert "internal error" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no error line"
    assert all(line.startswith("error: ") or DIAGNOSTIC.match(line) for line in lines), err
    return lines


def journey(key: str, *, gate: str = "n >= 0", follow_ups: tuple[str, ...] = (),
            extra: str = "") -> str:
    """A journey ``a -go-> b``: fields ``s``, ``xs``, ``n``; evidence ``doc``; the stage
    ``a`` holds ``follow_ups``; ``go`` is gated by the CEL expression ``gate``."""
    lines = [f"journey: {key}", "version: 1", "title: {en: Threats}",
             "timezone: Asia/Bangkok", "roles: [coach, program_manager, boss]", "fields:",
             '  s: {type: string, default: ""}', '  xs: {type: "list[string]", default: []}',
             "  n: {type: int, default: 0}", "evidence:", "  doc: {title: {en: A document}}",
             "stages:", "  a:", "    initial: true", "    title: {en: Start}"]
    if follow_ups:
        lines += ["    follow_ups:", *(f"      - {item}" for item in follow_ups)]
    lines += ["  b: {final: true}", "transitions:", "  - trigger: go", "    from: a",
              "    to: b", "    override_roles: [boss]", f"    gate: {{expr: {json.dumps(gate)}}}",
              "  - {trigger: close, from: a, to: b, roles: [boss]}"]
    return "\n".join(lines) + "\n" + extra


def notify(name: str, message: str, after: str = "1 day") -> str:
    """A notify follow-up to the coach with ``message`` (a template)."""
    return (f"{{id: {name}, after: {after}, action: notify, to: [coach], "
            f"message: {{en: {json.dumps(message)}}}}}")


def follow_up_rows(engine: Engine, project: int) -> dict[str, dict[str, Any]]:
    """The project's follow-ups by spec name."""
    return {r["spec"]: r for r in engine.list_follow_ups(project=project, limit=None)}


def limited(memory: int) -> Callable[[], None]:
    """A ``preexec_fn`` capping the child's address space at ``memory`` bytes."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return apply


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment without bompao's variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOMPAO_")}
    env.update({"LC_ALL": "C.UTF-8", **extra})
    return env


# 1. a journey file runs code when loaded or checked ------------------------------------

YAML_TAGS = {
    "apply": '!!python/object/apply:os.system ["touch {marker}"]',
    "new": '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    "name": '!!python/name:os.system ""',
    "module": '!!python/module:os ""',
    "custom": '!shell "touch {marker}"',
}


def _plain(value: Any) -> bool:
    """Whether ``value`` is plain data: text, numbers, booleans, None, lists and mappings."""
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return value is None or type(value) in (str, int, float, bool)


@pytest.mark.parametrize("tag", YAML_TAGS.values(), ids=YAML_TAGS.keys())
def test_threat1_yaml_tags_never_construct_python_objects(
        engine: Engine, tmp_path: Path, cli: Cli, tag: str) -> None:
    marker = tmp_path / "ran"
    text = journey("tags") + f"extra: {tag.format(marker=marker)}\n"
    path = tmp_path / "tags.yaml"
    path.write_text(text, encoding="utf-8")
    source = load_yaml(text, "tags.yaml")  # loads as plain data, whatever the tag says
    assert _plain(source.data["extra"])
    code, _, err = cli("validate", str(path))
    assert_refused(code, err, (1,))
    assert "unknown key 'extra'" in err
    with pytest.raises(SchemaError):
        engine.publish(text)
    assert not marker.exists()


CEL_ESCAPES = {
    "os-system": 'os.system("touch /tmp/bompao-pwned") == 0',
    "exec": 'exec("import os") == null',
    "import": '__import__("os") != null',
    "getenv": 'getenv("HOME") != ""',
    "env": 'env.HOME != ""',
    "read-file": 'read_file("/etc/passwd") != ""',
    "http": 'http.get("http://127.0.0.1/") != ""',
    "python": 'python("1 + 1") == 2',
    "bind-extension": "cel.bind(x, s + s, size(x) > 0)",
    "strings-extension": 's.repeat(1000000) != ""',
    "math-extension": "math.greatest(1, 2) == 2",
    "base64-extension": 'base64.decode(s) != b""',
}


@pytest.mark.parametrize("expr", CEL_ESCAPES.values(), ids=CEL_ESCAPES.keys())
def test_threat1_cel_can_call_nothing_that_is_not_declared(
        engine: Engine, tmp_path: Path, cli: Cli, store_url: str,
        expr: str) -> None:
    path = tmp_path / "escape.yaml"
    path.write_text(journey("escape", gate=expr), encoding="utf-8")
    code, _, err = cli("validate", str(path))
    [line] = assert_refused(code, err, (1,))
    assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: error: transitions\[0\]\.gate\.expr: "
                    r"CEL: unknown name ", line), line
    code, _, err = cli("--db", store_url, "journeys", "publish", str(path))
    assert_refused(code, err, (1,))
    with pytest.raises(CheckError):
        engine.publish(path)
    assert "escape" not in {j["journey"] for j in engine.list_journeys()}


TEMPLATE_ESCAPES = {
    "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "joiner-globals": "{{ joiner.__init__.__globals__.os.system('touch MARKER') }}",
    "namespace-globals": "{{ namespace.__init__.__globals__.os.system('touch MARKER') }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].system('touch MARKER') }}",
    "range-globals": "{{ range.__globals__.os.system('touch MARKER') }}",
    "self-context": ("{{ self._TemplateReference__context.cycler.__init__.__globals__"
                     ".os.system('touch MARKER') }}"),
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "popen-loop": ("{% for c in ().__class__.__base__.__subclasses__() %}"
                   "{% if c.__name__ == 'Popen' %}{{ c(['touch', 'MARKER']) }}{% endif %}"
                   "{% endfor %}"),
    "flask-request": ("{{ request.application.__globals__.__builtins__.__import__('os')"
                      ".popen('touch MARKER') }}"),
    "flask-config": "{{ config.__class__.__init__.__globals__['os'].popen('touch MARKER') }}",
    "format-string": "{{ '{0.__init__.__globals__}'.format(cycler) }}",
    "attr-filter": "{{ (cycler|attr('__init__')|attr('__globals__'))['os'] }}",
    "mutate-context": "{{ project.fields.update({'n': 99}) }}",
}


@pytest.mark.parametrize("template", TEMPLATE_ESCAPES.values(), ids=TEMPLATE_ESCAPES.keys())
def test_threat1_message_templates_run_nothing(
        engine: Engine, clock: MutableClock, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        template: str) -> None:
    marker = tmp_path / "ran"
    text = journey("sandbox", follow_ups=(notify("evil", template.replace("MARKER",
                                                                          str(marker))),))
    if "self" in template:  # refused when the journey loads: the strongest defence
        with pytest.raises(DefinitionError, match="'self' is not available"):
            engine.publish(text)
        assert not marker.exists()
        return
    key = engine.publish(text)[0]
    project = engine.create_project(key, "Sandboxed")
    engine.assign(project.id, role="coach", person="Malee")
    caplog.set_level(logging.INFO, logger="bompao")
    clock.tick(days=2)
    result = Dispatcher(engine, Config(daemon_name="sandbox")).run_due()
    assert result.claimed == 1
    row = follow_up_rows(engine, project.id)["evil"]
    assert row["status"] in ("done", "failed")
    if row["status"] == "failed":
        assert "SecurityError" in row["last_error"] or "undefined" in row["last_error"]
    assert not marker.exists()
    assert engine.get(project.id).fields == {"s": "", "xs": [], "n": 0}
    shown = caplog.text + json.dumps([e.payload for e in engine.history(project.id)])
    assert PYTHON_REPR.search(shown) is None, shown


# 2. a journey reads beyond the project's data --------------------------------------------

OUT_OF_REACH = {
    "partner": 'partner == "cmu"', "name": 'name != ""', "cohort": 'cohort != ""',
    "project": 'project.partner == "cmu"', "fields-map": 'fields.s != ""',
    "journey": 'journey != ""', "stage": 'stage == "a"', "other-project": 'other.s != ""',
    "projects": "size(projects) > 0", "request": 'request.host != ""',
}


@pytest.mark.parametrize("expr", OUT_OF_REACH.values(), ids=OUT_OF_REACH.keys())
def test_threat2_gates_cannot_name_anything_but_declared_fields_and_builtins(
        engine: Engine, expr: str) -> None:
    with pytest.raises(CheckError) as caught:
        engine.publish(journey("reach", gate=expr))
    assert "transitions[0].gate.expr" in str(caught.value)


def test_threat2_a_gate_sees_its_own_projects_values_only(engine: Engine) -> None:
    key = engine.publish(journey("mine", gate='s == "alpha-secret"'))[0]
    alpha = engine.create_project(key, "Alpha", partner="cmu", fields={"s": "alpha-secret"})
    beta = engine.create_project(key, "Beta", partner="kku", fields={"s": "beta"})
    assert engine.check(alpha.id, "go").passable
    report = engine.check(beta.id, "go")
    assert not report.passable
    assert report.as_dict()["criteria"][0]["seen"] == {"s": "beta"}


def test_threat2_templates_see_their_projects_dictionaries_and_nothing_of_python(
        engine: Engine, clock: MutableClock, caplog: pytest.LogCaptureFixture) -> None:
    names = ["lipsum", "cycler", "joiner", "namespace", "range", "dict", "config",
             "request", "g", "url_for", "environ", "os", "engine", "db", "settings"]
    message = "|".join(f"{name}={{{{ {name} }}}}" for name in names)
    key = engine.publish(journey("context", follow_ups=(
        notify("own", "{{ project.name }} {{ project.partner }} {{ project.fields.s }}"),
        notify("python", message))))[0]
    alpha = engine.create_project(key, "Alpha", partner="cmu", fields={"s": "alpha-field"})
    engine.create_project(key, "Beta-secret", partner="kku", fields={"s": "beta-secret"})
    engine.assign(alpha.id, role="coach", person="Malee")
    caplog.set_level(logging.INFO, logger="bompao.notify")
    clock.tick(days=2)
    Dispatcher(engine, Config(daemon_name="context")).run_due()
    messages = {json.loads(r.getMessage())["notify"]: [] for r in caplog.records}
    for record in caplog.records:
        line = json.loads(record.getMessage())
        messages[line["notify"]].append(line["message"])
    assert "Alpha cmu alpha-field" in messages[alpha.id]
    assert "beta-secret" not in json.dumps(messages[alpha.id])
    [rendered] = [m for m in messages[alpha.id] if m.startswith("lipsum=")]
    shown = {part.split("=", 1)[0]: part.split("=", 1)[1] for part in rendered.split("|")}
    leaking = {name: value for name, value in shown.items() if PYTHON_REPR.search(value)}
    assert leaking == {}, f"templates render Python objects: {leaking}"


# 3. a journey sends data to a URL of its choosing ----------------------------------------

URL_ENDPOINTS = ["https://evil.example.org/collect", "http://127.0.0.1:9/x",
                 "//evil.example.org/x", "file:///etc/passwd", "evil.example.org/collect"]


@pytest.mark.parametrize("endpoint", URL_ENDPOINTS)
def test_threat3_a_journey_naming_a_url_as_webhook_endpoint_is_refused(
        engine: Engine, tmp_path: Path, cli: Cli, store_url: str,
        endpoint: str) -> None:
    path = tmp_path / "hook.yaml"
    path.write_text(journey("hook", follow_ups=(
        f"{{id: out, after: 1 day, action: webhook, endpoint: {json.dumps(endpoint)}}}",)),
        encoding="utf-8")
    code, _, err = cli("validate", str(path))
    [line] = assert_refused(code, err, (1,))
    assert f"endpoint {endpoint!r} looks like a URL" in line
    code, _, err = cli("--db", store_url, "journeys", "publish", str(path))
    assert_refused(code, err, (1,))
    with pytest.raises(CheckError):
        engine.publish(path)
    assert engine.list_journeys() == []


@pytest.mark.parametrize("extra", [
    'url: "https://evil.example.org/"', "headers: {Authorization: Bearer x}",
    'channels: ["webhook:chat"]', 'smtp: {host: evil.example.org}'])
def test_threat3_a_follow_up_cannot_carry_a_url_headers_channels_or_a_server(
        engine: Engine, extra: str) -> None:
    text = journey("hook", follow_ups=(
        f"{{id: out, after: 1 day, action: webhook, endpoint: chat, {extra}}}",))
    with pytest.raises(SchemaError) as caught:
        engine.publish(text)
    assert "unknown key" in str(caught.value)


def test_threat3_email_goes_to_roles_not_to_addresses_a_journey_names(engine: Engine) -> None:
    text = journey("mail", follow_ups=(
        '{id: out, after: 1 day, action: email, to: ["evil@example.org"]}',))
    with pytest.raises(DefinitionError):
        engine.publish(text)


def test_threat3_an_endpoint_the_configuration_does_not_name_reaches_nobody(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    chat_url = sink.url("/chat/hook-token")
    config_path = tmp_path / "bompao.toml"
    config_path.write_text(f'[webhooks.chat]\nurl = "{chat_url}"\nretries = 0\n',
                           encoding="utf-8")
    config = load_config(config_path, environ={})
    names = ["evil.example.org", "http:evil.example.org", "127.0.0.1:9", "chat2"]
    key = engine.publish(journey("hooks", follow_ups=(
        *(f"{{id: h{i}, after: 1 day, action: webhook, endpoint: {json.dumps(n)}}}"
          for i, n in enumerate(names)),
        "{id: configured, after: 1 day, action: webhook, endpoint: chat}")))[0]
    project = engine.create_project(key, "Hooked")
    clock.tick(days=2)
    Dispatcher(engine, config).run_due()
    rows = follow_up_rows(engine, project.id)
    for index, name in enumerate(names):
        assert rows[f"h{index}"]["status"] == "failed"
        assert rows[f"h{index}"]["last_error"] == (
            f"unknown webhook endpoint {name!r}; endpoints: chat")
    assert rows["configured"]["status"] == "done"
    assert [r.path for r in sink.received] == ["/chat/hook-token"]  # only the configured URL


# 4. a journey exhausts memory or time ----------------------------------------------------


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "journey: bomb\nversion: 1\n" + "\n".join(lines) + "\n"


def _deep_block(levels: int) -> str:
    return "journey: deep\nversion: 1\nstages:\n" + "".join(
        f"{'  ' * (i + 1)}k{i}:\n" for i in range(levels)) + f"{'  ' * (levels + 1)}x: 1\n"


BOMBS: dict[str, Callable[[], str]] = {
    "billion-laughs": _billion_laughs,
    "ten-megabytes": lambda: "journey: big\nversion: 1\n# " + "x" * 10_000_000 + "\n",
    "one-mebibyte-and-a-byte": lambda: "journey: big\nversion: 1\n# " + "x" * (1024 * 1024),
    "deep-flow": lambda: "journey: deep\nstages: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep-block": lambda: _deep_block(200),
    "recursive-alias": lambda: "journey: loop\nstages: &a [*a]\n",
    "wide-aliases": lambda: "journey: wide\nversion: 1\nx: &x [" + ", ".join(["1"] * 1000)
    + "]\ny: [" + ", ".join(["*x"] * 1000) + "]\n",
}


@pytest.mark.parametrize("make", BOMBS.values(), ids=BOMBS.keys())
def test_threat4_bombs_and_oversized_documents_are_refused_quickly(
        engine: Engine, tmp_path: Path, cli: Cli, store_url: str,
        make: Callable[[], str]) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(make(), encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(LoadError):
        engine.publish(path)
    assert time.perf_counter() - start < 1.0
    start = time.perf_counter()
    code, _, err = cli("--db", store_url, "journeys", "publish", str(path))
    assert time.perf_counter() - start < 2.0
    [line] = assert_refused(code, err, (1,))
    assert line.startswith(f"{path}:")
    assert engine.list_journeys() == []


@pytest.mark.parametrize("follow_up", [
    "{id: late, after: 101 years, action: notify, to: [coach]}",
    "{id: often, every: 200 years, action: notify, to: [coach]}",
])
def test_threat4_durations_over_a_century_are_refused(engine: Engine, follow_up: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        engine.publish(journey("slow", follow_ups=(follow_up,)))
    assert "longer than 100 years" in str(caught.value)


_DIGITS = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"


def _nested(depth: int) -> str:
    expr = "true"
    for level in range(depth):
        expr = f"{_DIGITS}.all(v{level}, {expr})"
    return expr


GREEDY_GATES = {
    "nested-comprehensions": (_nested(6), {}),
    "a-long-list-field": ('xs.all(x, xs.all(y, x != y || x == y))', {"xs": ["x"] * MAX_ITEMS}),
}


@pytest.mark.parametrize(("gate", "fields"), GREEDY_GATES.values(), ids=GREEDY_GATES.keys())
def test_threat4_a_gate_over_the_cel_budget_is_unmet_and_bounded(
        engine: Engine, cli: Cli, store_url: str, gate: str,
        fields: dict[str, Any]) -> None:
    key = engine.publish(journey("greedy", gate=gate))[0]
    project = engine.create_project(key, "Greedy", fields=fields)
    start = time.perf_counter()
    report = engine.check(project.id, "go")
    assert time.perf_counter() - start < 2.0
    assert not report.passable
    with pytest.raises(GateRefused):
        engine.advance(project.id, "go")
    code, _, err = cli("--db", store_url, "project", "check", str(project.id), "go")
    assert code == 1
    assert "internal error" not in err
    assert engine.get(project.id).stage == "a"


def test_threat4_a_greedy_gate_in_a_follow_up_does_not_stop_the_daemon(
        engine: Engine, clock: MutableClock) -> None:
    greedy = engine.publish(journey("greedy", gate=_nested(6), follow_ups=(
        "{id: auto, after: 1 day, action: transition, trigger: go}",)))[0]
    calm = engine.publish(journey("calm", follow_ups=(
        "{id: mark, after: 1 day, action: flag, flag: at_risk}",)))[0]
    bad = engine.create_project(greedy, "Greedy", partner="cmu")
    good = engine.create_project(calm, "Calm", partner="kku")
    clock.tick(days=2)
    result = Dispatcher(engine, Config(daemon_name="d1")).run_due()
    assert (result.done + result.refused + result.failed) == 2
    assert engine.get(good.id).flags == ["at_risk"]
    assert engine.get(bad.id).stage == "a"
    statuses = {r["status"] for r in engine.list_follow_ups(limit=None)}
    assert "running" not in statuses


def _concatenations(count: int) -> str:
    return "s" if count == 1 else f"({_concatenations(count // 2)} + {_concatenations(count // 2)})"


def test_threat4_a_gate_cannot_multiply_a_field_into_gigabytes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'grow.db'}"
    engine = Engine.from_url(url)
    try:
        try:  # refusing the expression when the journey loads is a defence too
            key = engine.publish(journey("grow", gate=f"size({_concatenations(512)}) > 0"))[0]
        except DefinitionError:
            return
        project = engine.create_project(key, "Grow")
        try:  # and so is refusing a field value this large
            engine.set_fields(project.id, {"s": "x" * 1_000_000})
        except InvalidValue:
            return
    finally:
        engine.close()
    script = ("from bompao.engine import Engine\n"
              f"engine = Engine.from_url({url!r}, create=False)\n"
              f"print(engine.check({project.id}, 'go').passable)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=child_env(), preexec_fn=limited(1 << 30),
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() in ("True", "False")


HUNGRY_TEMPLATES = {
    "string-times": "{{ 'x' * 10**8 }}",
    "name-times": "{{ project.name * 10**7 }}",
    "list-times": "{{ [0] * 10**7 }}",
    "nested-loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                     "{% endfor %}"),
    "power": "{{ 9 ** (9 ** 9) }}",
    "huge-range": "{{ range(10**9) | length }}",
}


REFUSED_TEMPLATES = {
    "self": ("{{ self }}", "'self' is not available in messages"),
    "three-loops": (("{% for a in project.flags %}{% for b in project.flags %}"
                     "{% for c in project.flags %}x{% endfor %}{% endfor %}{% endfor %}"),
                    "for-loops nest 3 deep; at most 2 are allowed"),
}


@pytest.mark.parametrize(("template", "says"), REFUSED_TEMPLATES.values(),
                         ids=REFUSED_TEMPLATES.keys())
def test_threat4_templates_reaching_the_template_object_or_nesting_loops_are_refused_at_load(
        engine: Engine, template: str, says: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        engine.publish(journey("refused", follow_ups=(notify("eat", template),)))
    assert says in str(caught.value)
    assert engine.list_journeys() == []


@pytest.mark.parametrize("template", HUNGRY_TEMPLATES.values(), ids=HUNGRY_TEMPLATES.keys())
def test_threat4_message_templates_are_bounded_in_time_and_size(
        tmp_path: Path, template: str) -> None:
    url = f"sqlite:///{tmp_path / 'hungry.db'}"
    engine = Engine.from_url(url, clock=lambda: T0)
    try:
        hungry = engine.publish(journey("hungry", follow_ups=(notify("eat", template),)))[0]
        calm = engine.publish(journey("calm", follow_ups=(notify("hello", "hi"),)))[0]
        eater = engine.create_project(hungry, "Eater").id
        other = engine.create_project(calm, "Other").id
    finally:
        engine.close()
    out, err = tmp_path / "out.json", tmp_path / "err.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bompao.cli", "--db", url, "--json", "scheduler", "run",
                 "--once", "--now", "2027-01-10"], stdout=stdout, stderr=stderr,
                timeout=20, env=child_env(), preexec_fn=limited(2 << 30), check=False)
        except subprocess.TimeoutExpired:
            pytest.fail("rendering one message template kept the daemon busy over 20 s")
    assert done.returncode == 0, err.read_text(errors="replace")[-2000:]
    size = out.stat().st_size + err.stat().st_size
    assert size < 1_000_000, f"one message template made the run write {size:,} bytes"
    runs = {r["project"]: r["outcome"] for r in json.loads(out.read_text())["runs"]}
    assert runs[other] == "done"
    assert runs[eater] in ("done", "failed")


# 5. a person reads or changes another partner's projects --------------------------------

A_PARTNER, B_PARTNER = "alpha-partner", "beta-partner"
ALPHA = {"name": "Alpha-secret-project", "cohort": "alpha-cohort-7",
         "statement": "alpha-secret-statement-of-the-problem", "note": "alpha-secret-note",
         "coach": "Alpha-coach-Malee", "partner": A_PARTNER}
BETA_NAME = "Beta project"


@dataclass
class Partners:
    """Two partners' projects in one database: ``a`` is alpha's, ``b`` is beta's."""

    url: str
    a: int
    b: int

    def snapshot(self) -> Any:
        """Everything of alpha's that no beta command may change."""
        engine = Engine.from_url(self.url, create=False)
        try:
            return ([p.as_dict() for p in engine.list_projects(partner=A_PARTNER)],
                    [e.as_dict() for e in engine.history(self.a)],
                    engine.list_follow_ups(project=self.a, limit=None),
                    engine.list_journeys())
        finally:
            engine.close()


def _seed(engine: Engine) -> tuple[int, int]:
    alpha = engine.create_project("social-incubator", ALPHA["name"], partner=A_PARTNER,
                                  cohort=ALPHA["cohort"],
                                  fields={"problem_statement": ALPHA["statement"]})
    engine.add_evidence(alpha.id, "stakeholder_map", note=ALPHA["note"])
    engine.assign(alpha.id, role="coach", person=ALPHA["coach"])
    engine.flag(alpha.id, "at_risk")
    beta = engine.create_project("social-incubator", BETA_NAME, partner=B_PARTNER,
                                 cohort="beta-cohort", fields={"problem_statement": "beta"})
    engine.assign(beta.id, role="coach", person="Beta-coach")
    engine.flag(beta.id, "at_risk")
    return alpha.id, beta.id


@pytest.fixture
def partners(store_url: str) -> Partners:
    """Alpha's and beta's projects (flagged, assigned, with pending follow-ups)."""
    engine = Engine.from_url(store_url)
    try:
        engine.init()
        a, b = _seed(engine)
    finally:
        engine.close()
    return Partners(store_url, a, b)


BETA = Actor("Somchai", roles={"coach", "program_manager", "committee"}, partner=B_PARTNER)


def _engine_calls(engine: Engine, a: int, actor: Actor, when: datetime
                  ) -> dict[str, list[Callable[[], Any]]]:
    """Every public Engine method that takes an actor, called as ``actor`` against ``a``."""
    return {
        "create_project": [lambda: engine.create_project(
            "social-incubator", "Sneaky", partner=A_PARTNER, actor=actor)],
        "get": [lambda: engine.get(a, actor)],
        "list_projects": [lambda: engine.list_projects(actor=actor),
                          lambda: engine.list_projects(partner=A_PARTNER, actor=actor),
                          lambda: engine.list_projects(cohort=ALPHA["cohort"], actor=actor)],
        "set_fields": [lambda: engine.set_fields(a, {"interviews_done": 9}, actor=actor)],
        "add_evidence": [lambda: engine.add_evidence(a, "test_plan", note="x", actor=actor)],
        "approve": [lambda: engine.approve(a, role="coach", by="Somchai", actor=actor)],
        "assign": [lambda: engine.assign(a, role="coach", person="Somchai", actor=actor)],
        "flag": [lambda: engine.flag(a, "at_risk", on=False, actor=actor),
                 lambda: engine.flag(a, "stalled", actor=actor)],
        "check": [lambda: engine.check(a, "validate", actor=actor),
                  lambda: engine.check(a, actor=actor)],
        "checks": [lambda: engine.checks(a, actor=actor)],
        "advance": [lambda: engine.advance(a, "withdraw", actor),
                    lambda: engine.advance(a, "validate", actor, override=True, reason="x")],
        "advance_many": [lambda: engine.advance_many([a], "withdraw", actor)],
        "history": [lambda: engine.history(a, actor)],
        "measure": [lambda: engine.measure(a, "people_reached", None, 5, actor=actor)],
        "indicators": [lambda: engine.indicators(a, actor=actor),
                       lambda: engine.indicators(a, at=when, actor=actor)],
        "state_at": [lambda: engine.state_at(a, when, actor)],
        "migrate": [lambda: engine.migrate(a, 1, actor=actor),
                    lambda: engine.migrate(a, 1, dry_run=True, actor=actor)],
        "list_follow_ups": [lambda: engine.list_follow_ups(actor=actor, limit=None),
                            lambda: engine.list_follow_ups(project=a, actor=actor)],
    }


ENGINE_UNSCOPED = {
    "from_url": "opens the database",
    "init": "the operator's: schema and bundled journeys, no project data",
    "close": "releases connections",
    "now": "the clock",
    "on": "listeners are the embedding program's own code",
    "register_function": "the embedding program's own CEL functions",
    "register_action": "the embedding program's own actions",
    "publish": "journeys, not projects",
    "journey": "journeys, not projects",
    "list_journeys": "journeys, not projects",
    "project_ids": "the operator's maintenance tools: ids only",
}


def _outcome(call: Callable[[], Any]) -> str:
    """What a call answers, as text: its result as JSON, or the bompao error it raises
    (for PermissionDenied, the partner it was refused for)."""
    try:
        found = call()
    except NotFound as exc:
        return f"NotFound: {exc}"
    except PermissionDenied as exc:
        return f"PermissionDenied: {str(exc).rsplit(' ', 1)[-1]}"
    return json.dumps(found, default=lambda o: o.as_dict() if hasattr(o, "as_dict") else str(o))


def _public_methods(cls: type) -> dict[str, Any]:
    return {name: getattr(cls, name) for name in dir(cls)
            if not name.startswith("_") and callable(getattr(cls, name))}


def test_threat5_every_engine_method_is_either_scoped_by_an_actor_or_the_operators(
        partners: Partners) -> None:
    engine = Engine.from_url(partners.url, create=False)
    try:
        calls = _engine_calls(engine, partners.a, BETA, engine.now())
    finally:
        engine.close()
    methods = _public_methods(Engine)
    scoped = {name for name, method in methods.items()
              if "actor" in inspect.signature(method).parameters}
    assert scoped - set(calls) == set(), "call these in _engine_calls"
    unknown = set(methods) - scoped - set(ENGINE_UNSCOPED)
    assert unknown == set(), f"new public Engine methods without an actor: {sorted(unknown)}"
    assert scoped & set(ENGINE_UNSCOPED) == set()


def test_threat5_a_partner_scoped_actor_gets_nothing_of_another_partner_from_the_engine(
        partners: Partners) -> None:
    before = partners.snapshot()
    engine = Engine.from_url(partners.url, create=False)
    try:
        for name, variants in _engine_calls(engine, partners.a, BETA, engine.now()).items():
            for call in variants:
                outcome = _outcome(call)
                if name == "create_project":
                    assert outcome == f"PermissionDenied: {A_PARTNER!r}", outcome
                elif outcome.startswith("NotFound"):
                    assert outcome == f"NotFound: no project with id {partners.a}", name
                typed = {A_PARTNER} if name == "create_project" else set()
                for secret in set(ALPHA.values()) - typed:
                    assert secret not in outcome, (name, secret)
        mine = engine.list_projects(actor=BETA)
        assert [p.partner for p in mine] == [B_PARTNER]
    finally:
        engine.close()
    assert partners.snapshot() == before


def test_threat5_transfer_exports_and_imports_within_the_actors_partner(
        partners: Partners) -> None:
    before = partners.snapshot()
    engine = Engine.from_url(partners.url, create=False)
    try:
        functions = {name for name, fn in inspect.getmembers(transfer_module, inspect.isfunction)
                     if fn.__module__ == transfer_module.__name__ and not name.startswith("_")
                     and "actor" in inspect.signature(fn).parameters}
        assert functions == {"export_projects", "import_projects"}
        exported = transfer_module.export_projects(engine, actor=BETA)
        assert [r["partner"] for r in exported] == [B_PARTNER]
        assert transfer_module.export_projects(engine, partner=A_PARTNER, actor=BETA) == []
        with pytest.raises(InvalidValue) as caught:
            transfer_module.import_projects(engine, [
                {"name": "Sneaky", "journey": "social-incubator@2", "partner": A_PARTNER}],
                actor=BETA)
        assert f"you act for {B_PARTNER!r}" in str(caught.value)
        [new] = transfer_module.import_projects(
            engine, [{"name": "Imported", "journey": "social-incubator@2"}], actor=BETA)
        assert engine.get(new).partner == B_PARTNER
    finally:
        engine.close()
    assert partners.snapshot() == before


def _leaves(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.update(_leaves(command, f"{path} "))
        else:
            found[path] = command
    return found


CLI_COMMANDS = sorted(_leaves(cli_group))

# command -> (against alpha's project, as beta on its own: (arguments, accepted exit codes))
SCOPED_COMMANDS: dict[str, tuple[list[str], tuple[list[str], tuple[int, ...]]]] = {
    "project create": (["project", "create", "--journey", "social-incubator", "--name",
                        "Sneaky", "--partner", A_PARTNER],
                       (["project", "create", "--journey", "social-incubator", "--name",
                         "Mine"], (0,))),
    "project set": (["project", "set", "{a}", "interviews_done=7"],
                    (["project", "set", "{b}", "interviews_done=7"], (0,))),
    "project evidence": (["project", "evidence", "{a}", "test_plan", "--note", "x"],
                         (["project", "evidence", "{b}", "test_plan", "--note", "x"], (0,))),
    "project approve": (["project", "approve", "{a}", "--role", "coach", "--by", "Somchai"],
                        (["project", "approve", "{b}", "--role", "coach", "--by", "Somchai"],
                         (0,))),
    "project assign": (["project", "assign", "{a}", "--role", "coach", "--to", "Somchai"],
                       (["project", "assign", "{b}", "--role", "coach", "--to", "Somchai"],
                        (0,))),
    "project check": (["project", "check", "{a}", "validate"],
                      (["project", "check", "{b}", "validate"], (1,))),
    "project advance": (["project", "advance", "{a}", "withdraw", "--by", "Somchai", "--role",
                         "program_manager"],
                        (["project", "advance", "{b}", "withdraw", "--by", "Somchai", "--role",
                          "program_manager"], (0,))),
    "project show": (["project", "show", "{a}"], (["project", "show", "{b}"], (0,))),
    "project history": (["project", "history", "{a}"], (["project", "history", "{b}"], (0,))),
    "project measure": (["project", "measure", "{a}", "people_reached", "5"],
                        (["project", "measure", "{b}", "people_reached", "5", "--by",
                          "Somchai", "--role", "participant"], (0,))),
    "project indicators": (["project", "indicators", "{a}"],
                           (["project", "indicators", "{b}"], (0,))),
    "project list": (["project", "list", "--partner", A_PARTNER], (["project", "list"], (0,))),
    "project migrate": (["project", "migrate", "{a}", "--to", "1"],
                        (["project", "migrate", "{b}", "--to", "1", "--dry-run"], (0,))),
    "project export": (["project", "export", "--partner", A_PARTNER],
                       (["project", "export", "--format", "json"], (0,))),
    "project import": (["project", "import", "{alpha_csv}"],
                       (["project", "import", "{beta_csv}"], (0,))),
    "followups list": (["followups", "list", "--project", "{a}"],
                       (["followups", "list"], (0,))),
    "report": (["report", "at-risk", "--partner", A_PARTNER],
               (["report", "at-risk", "--format", "json"], (0,))),
    "diagram": (["diagram", "-", "--project", "{a}"],
                (["diagram", "-", "--project", "{b}"], (0,))),
    # intake (cli_intake.py): social-incubator scores on a rubric without 'need' and
    # declares no coaching
    "project score": (["project", "score", "{a}", "--by", "Somchai", "need=3"],
                      (["project", "score", "{b}", "--by", "Somchai", "need=3"], (2,))),
    "project session": (["project", "session", "{a}", "--coach", "Nok", "--on",
                         "2026-01-05", "--minutes", "30"],
                        (["project", "session", "{b}", "--coach", "Nok", "--on",
                          "2026-01-05", "--minutes", "30"], (2,))),
}
"""Every command that reads or changes projects."""

OPERATOR_COMMANDS = {
    "init": ["init"],
    "journeys publish": ["journeys", "publish", str(BUNDLED)],
    "scheduler run": ["scheduler", "run", "--once", "--now", "2030-01-01"],
    "scheduler status": ["scheduler", "status"],
    "scheduler forget": ["scheduler", "forget", "gone"],
    "followups retry": ["followups", "retry", "--failed"],
    "simulate": ["simulate", "--journey", "social-incubator"],
    "audit": ["audit"],
    "demo": ["demo", "--out", "{tmp}", "--days", "30"],
    "users add": ["users", "add", "eve", "--name", "Eve", "--password-stdin"],
    "users list": ["users", "list"],
    "users disable": ["users", "disable", "eve"],
    "users passwd": ["users", "passwd", "eve", "--password-stdin"],
    "users feed": ["users", "feed", "eve"],
    "tokens create": ["tokens", "create", "eve"],
    "tokens list": ["tokens", "list"],
    "tokens revoke": ["tokens", "revoke", "1"],
    "serve": ["serve", "--port", "1"],
    "reviews assign": ["reviews", "assign", "--journey", "social-incubator"],
    "cohort rank": ["cohort", "rank", "--journey", "social-incubator"],
    "cohort select": ["cohort", "select", "--journey", "social-incubator", "--top", "1",
                      "--trigger", "validate"],
    "coaches add": ["coaches", "add", "Nok", "--skills", "model_and_plan", "--capacity", "2"],
    "coaches match": ["coaches", "match", "--journey", "social-incubator"],
    "coaches edit": ["coaches", "edit", "Nok", "--capacity", "3"],
    "coaches remove": ["coaches", "remove", "Nok"],
}
"""Commands that act for every partner: refused under a partner scope."""

UNRELATED_COMMANDS = {
    "validate": ["validate", str(BUNDLED)],
    "schema": ["schema"],
    "journeys list": ["journeys", "list"],
    "journeys show": ["journeys", "show", "social-incubator"],
    "coaches list": ["coaches", "list"],
}
"""Commands that touch journeys only, never a project."""


def _fill(args: list[str], partners: Partners, tmp_path: Path) -> list[str]:
    alpha_csv = tmp_path / "alpha.csv"
    # version 2: rows, not applications to version 3's call (held to its form)
    alpha_csv.write_text(f"name,journey,partner\nSneaky,social-incubator@2,{A_PARTNER}\n",
                         encoding="utf-8")
    beta_csv = tmp_path / "beta.csv"
    beta_csv.write_text("name,journey\nImported,social-incubator@2\n", encoding="utf-8")
    values = {"a": str(partners.a), "b": str(partners.b), "alpha_csv": str(alpha_csv),
              "beta_csv": str(beta_csv), "tmp": str(tmp_path / "demo")}
    return [arg.format(**values) for arg in args]


def _alpha_markers(typed: list[str]) -> list[str]:
    """Alpha's data that must not appear (less what the caller typed or put in the file
    it imports: echoing input reveals nothing)."""
    files = [Path(arg).read_text(encoding="utf-8") for arg in typed if arg.endswith(".csv")]
    return [value for value in ALPHA.values()
            if not any(value in arg for arg in [*typed, *files])]


def test_threat5_every_cli_command_is_classified() -> None:
    classified = set(SCOPED_COMMANDS) | set(OPERATOR_COMMANDS) | set(UNRELATED_COMMANDS)
    assert set(CLI_COMMANDS) - classified == set(), "classify the new command here"
    assert classified - set(CLI_COMMANDS) == set(), "a classified command is gone"


@pytest.mark.parametrize("command", CLI_COMMANDS)
def test_threat5_every_cli_command_under_partner_scope_leaves_other_partners_alone(
        partners: Partners, tmp_path: Path, cli: Cli,
        command: str) -> None:
    scope = ["--db", partners.url, "--partner", B_PARTNER]
    before = partners.snapshot()
    if command in OPERATOR_COMMANDS:
        args = _fill(OPERATOR_COMMANDS[command], partners, tmp_path)
        code, out, err = cli(*scope, *args)
        [line] = assert_refused(code, err, (2,))
        assert f"'bompao {command}' acts for every partner" in line
        assert out == ""
    elif command in UNRELATED_COMMANDS:
        code, out, err = cli(*scope, "--json",
                                 *_fill(UNRELATED_COMMANDS[command], partners, tmp_path))
        assert code == 0, err
        for secret in ALPHA.values():
            assert secret not in out + err
    else:
        assert command in SCOPED_COMMANDS, f"classify {command!r} in this module"
        against, (own, codes) = SCOPED_COMMANDS[command]
        args = _fill(against, partners, tmp_path)
        code, out, err = cli(*scope, "--json", *args)
        assert_refused(code, err)
        for secret in _alpha_markers(args):
            assert secret not in out + err, (secret, out, err)
        if f"{partners.a}" in args:
            assert err == f"error: no project with id {partners.a}\n"
            assert code == 2
        # the same command as beta on its own project works, and shows nothing of alpha
        args = _fill(own, partners, tmp_path)
        code, out, err = cli(*scope, "--json", *args)
        assert code in codes, err
        for secret in _alpha_markers(args):
            assert secret not in out + err, (secret, out)
        if command in ("project list", "project export", "project show", "report"):
            assert BETA_NAME in out
    after = partners.snapshot()
    assert after == before


def test_threat5_bompao_partner_in_the_environment_scopes_like_the_option(
        partners: Partners, cli: Cli,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOMPAO_PARTNER", B_PARTNER)
    code, _, err = cli("--db", partners.url, "project", "show", str(partners.a))
    assert (code, err) == (2, f"error: no project with id {partners.a}\n")
    code, out, _ = cli("--db", partners.url, "--json", "project", "list")
    assert code == 0
    assert [p["name"] for p in json.loads(out)] == [BETA_NAME]
    code, out, _ = cli("--db", partners.url, "--json", "project", "create",
                           "--journey", "social-incubator", "--name", "Defaulted")
    assert code == 0
    assert json.loads(out)["partner"] == B_PARTNER
    monkeypatch.setenv("BOMPAO_PARTNER", " ")
    code, _, err = cli("--db", partners.url, "project", "list")
    assert_refused(code, err, (2,))


def test_threat5_the_advance_partner_option_scopes_even_without_by(
        partners: Partners, cli: Cli) -> None:
    before = partners.snapshot()
    # validate has no roles: before the fix this printed alpha's gate report
    code, out, err = cli("--db", partners.url, "--json", "project", "advance",
                             str(partners.a), "validate", "--partner", B_PARTNER)
    assert (code, out, err) == (2, "", f"error: no project with id {partners.a}\n")
    code, out, err = cli("--db", partners.url, "--partner", B_PARTNER, "project",
                             "advance", str(partners.b), "withdraw", "--by", "Somchai",
                             "--role", "program_manager", "--partner", A_PARTNER)
    [line] = assert_refused(code, err, (1,))
    assert "outside this session's partner scope" in line
    assert partners.snapshot() == before


@pytest.mark.parametrize("name", ["funnel", "stages", "at-risk", "coaches", "html"])
def test_threat5_reports_under_partner_scope_count_and_show_only_that_partner(
        partners: Partners, tmp_path: Path, cli: Cli,
        name: str) -> None:
    scope = ["--db", partners.url, "--partner", B_PARTNER]
    if name == "html":
        output = tmp_path / "report.html"
        code, _, err = cli(*scope, "report", "funnel", "--format", "html", "-o",
                               str(output))
        assert code == 0, err
        shown = output.read_text(encoding="utf-8")
        assert BETA_NAME in shown
    else:
        code, shown, err = cli(*scope, "report", name, "--format", "json")
        assert code == 0, err
        rows = json.loads(shown)
        if name == "funnel":
            idea = next(r for r in rows if r["stage"] == "idea")
            assert (idea["reached"], idea["now"]) == (1, 1)
        if name == "coaches":
            assert {r["person"] for r in rows} == {"Beta-coach"}
    for secret in ALPHA.values():
        assert secret not in shown
    code, _, err = cli(*scope, "report", name if name != "html" else "funnel",
                           "--partner", A_PARTNER)
    [line] = assert_refused(code, err, (1,))
    assert "outside this session's partner scope" in line


# 6. a person fires a transition or overrides a gate they may not ------------------------


def test_threat6_roles_and_overrides_are_enforced_through_the_cli(
        engine: Engine, store_url: str, cli: Cli) -> None:
    key = engine.publish(journey("roles", gate="n >= 10"))[0]
    project = engine.create_project(key, "Roles", partner=B_PARTNER)
    pid = str(project.id)
    before = [e.as_dict() for e in engine.history(project.id)]
    db = ["--db", store_url]
    refusals = {
        ("advance", pid, "close"): 1,                                   # nobody: needs boss
        ("advance", pid, "close", "--by", "Noi", "--role", "coach"): 1,  # the wrong role
        ("advance", pid, "close", "--role", "boss"): 2,                 # a role without a name
        ("advance", pid, "go", "--by", "Noi", "--role", "coach", "--override", "--reason",
         "x"): 1,                                                       # may not override
        ("advance", pid, "go", "--by", "Noi", "--role", "boss", "--override"): 2,  # no reason
        ("advance", pid, "go", "--by", "Noi", "--role", "boss"): 1,     # the gate refuses
    }
    for args, expected in refusals.items():
        code, _, err = cli(*db, "--partner", B_PARTNER, "project", *args)
        assert_refused(code, err, (expected,))
        assert [e.as_dict() for e in engine.history(project.id)] == before, args
    code, _, err = cli(*db, "--partner", B_PARTNER, "project", "advance", pid, "go",
                           "--by", "Noi", "--role", "boss", "--override", "--reason", "agreed")
    assert code == 0, err
    last = engine.history(project.id)[-1]
    assert (last.actor, last.role, last.payload["override"]) == ("Noi", "boss", True)
    assert last.payload["missing"]


# 7. secrets leak into logs, errors or history --------------------------------------------

SMTP_PASSWORD = "env-smtp-s3cret-pw"
DB_PASSWORD = "db-s3cret-pw"


def _secrets_config(tmp_path: Path, smtp: SmtpBox, sink: Sink) -> tuple[Path, list[str]]:
    chat_url = sink.url("/hooks/chat-url-s3cret-token")
    down_url = f"http://127.0.0.1:{free_port()}/down/down-url-s3cret-token"
    path = tmp_path / "bompao.toml"
    path.write_text(textwrap.dedent(f"""\
        [smtp]
        host = "{smtp.host}"
        port = {smtp.port}
        username = "bompao"
        password = "file-smtp-s3cret-pw"
        sender = "bompao@example.org"
        timeout = 5

        [notify]
        channels = ["log", "email", "webhook:chat"]

        [webhooks.chat]
        url = "{chat_url}"
        retries = 1
        backoff = 0.01
        headers = {{ Authorization = "Bearer chat-header-s3cret" }}

        [webhooks.down]
        url = "{down_url}"
        retries = 1
        backoff = 0.01
        timeout = 2
        headers = {{ X-Api-Key = "down-header-s3cret" }}

        [people]
        Malee = "malee@example.org"
        """), encoding="utf-8")
    secrets = [SMTP_PASSWORD, "file-smtp-s3cret-pw", chat_url, "chat-url-s3cret-token",
               "chat-header-s3cret", down_url, "down-url-s3cret-token", "down-header-s3cret",
               DB_PASSWORD]
    return path, secrets


def _with_password(url: str) -> str:
    """``url`` with a password (PostgreSQL here trusts local connections and ignores it)."""
    if not url.startswith("postgresql"):
        return url
    return url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)


def test_threat7_secrets_never_reach_logs_errors_events_or_cli_output(
        engine: Engine, store_url: str, smtp: SmtpBox, sink: Sink, tmp_path: Path,
        cli: Cli, caplog: pytest.LogCaptureFixture) -> None:
    config_path, secrets = _secrets_config(tmp_path, smtp, sink)

    def echo_secrets(request: Any, _: int) -> Response:
        # a hostile or broken receiver answering with the secrets it was sent
        return Response(json.dumps({"got": request.headers, "url": request.path}),
                        status="500 chat-header-s3cret")

    sink.answers["/hooks/chat-url-s3cret-token"] = echo_secrets
    key = engine.publish(journey("secrets", follow_ups=(
        notify("hello", "Hi {{ project.name }}"),
        "{id: mail, after: 1 day, action: email, to: [coach]}",
        "{id: down, after: 1 day, action: webhook, endpoint: down}",
        "{id: chat, after: 1 day, action: webhook, endpoint: chat}")))[0]
    project = engine.create_project(key, "Clinic", partner=B_PARTNER)
    engine.assign(project.id, role="coach", person="Malee")
    env = child_env(BOMPAO_CONFIG=str(config_path), BOMPAO_SMTP_PASSWORD=SMTP_PASSWORD,
                    BOMPAO_DATABASE_URL=_with_password(store_url))
    run = subprocess.run([sys.executable, "-m", "bompao.cli", "--json", "scheduler", "run",
                          "--once", "--now", "2027-01-10"], capture_output=True, text=True,
                         timeout=120, env=env, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert (summary["done"], summary["failed"]) == (0, 4), summary
    # the secrets were used where they belong: the env's password, the header, the URL
    assert ("bompao", SMTP_PASSWORD) in smtp.logins
    assert {r.headers["Authorization"] for r in sink.on("/hooks/chat-url-s3cret-token")} == {
        "Bearer chat-header-s3cret"}
    rows = follow_up_rows(engine, project.id)
    assert rows["chat"]["last_error"] == "webhook 'chat' failed after 2 attempts: HTTP 500"
    shown = {"scheduler run stdout": run.stdout, "scheduler run log": run.stderr,
             "follow-ups": json.dumps(engine.list_follow_ups(limit=None)),
             "events": json.dumps([e.as_dict() for e in engine.history(project.id)],
                                  default=str)}
    for args in (["--json", "followups", "list"], ["followups", "list"],
                 ["--json", "project", "history", str(project.id)],
                 ["project", "history", str(project.id)], ["--json", "scheduler", "status"],
                 ["scheduler", "status"], ["--json", "report", "at-risk"]):
        done = subprocess.run([sys.executable, "-m", "bompao.cli", *args], capture_output=True,
                              text=True, timeout=120, env=env, check=False)
        assert done.returncode == 0, done.stderr
        shown[" ".join(args)] = done.stdout + done.stderr
    caplog.set_level(logging.DEBUG)
    config = load_config(config_path, environ={"BOMPAO_SMTP_PASSWORD": SMTP_PASSWORD})
    assert Dispatcher(engine, config).run_due(T0 + timedelta(days=30)).claimed == 0
    shown["config"] = repr(config) + json.dumps(config.redacted())
    shown["in-process log"] = caplog.text
    for where, text in shown.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} shown in {where}"


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://bompao:{DB_PASSWORD}@127.0.0.1:{{port}}/bompao",
    f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:5432/no_such_database_here",
    f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:{{port}}/x?sslmode=disable",
])
def test_threat7_database_passwords_never_appear_in_errors(
        url: str, tmp_path: Path, cli: Cli) -> None:
    url = url.format(port=free_port())
    for args in (["project", "list"], ["init"], ["scheduler", "status"], ["report", "funnel"]):
        code, out, err = cli("--db", url, *args)
        assert_refused(code, err)
        assert DB_PASSWORD not in out + err, (args, err)
    config = tmp_path / "bompao.toml"
    config.write_text(f'database = "{url}"\n', encoding="utf-8")
    code, out, err = cli("--config", str(config), "project", "list")
    assert_refused(code, err)
    assert DB_PASSWORD not in out + err


# 8. SQL injection ------------------------------------------------------------------------

SQL_SOURCES = sorted([*ROOT.glob("definitions/**/*.py"), *ROOT.glob("engine/**/*.py"),
                      *ROOT.glob("storage/**/*.py"), ROOT / "cli.py"])
SQL_TEXT_CALLS = frozenset({"execute", "executemany", "exec_driver_sql", "executescript"})
"""Calls whose first argument is SQL: text for a DBAPI cursor, text or Core elsewhere."""
SQL_FRAGMENTS = frozenset({"text", "literal_column"})
"""SQLAlchemy functions that take raw SQL text (as ``sa.text(...)`` or imported bare)."""
RAW_RECEIVERS = frozenset({"cursor", "cur", "raw"})
"""Receivers that are DBAPI cursors or connections: their SQL must be text of the code."""
SQL_ALLOWED: dict[tuple[str, str], str] = {
    ("storage/hotpath.py", "_update_sql"):
        "column names are checked against _UPDATABLE (code constants) before they are used",
    ("definitions/machine.py", "trigger"):
        "transitions' Transition.execute(EventData): fires a state machine, runs no SQL",
    ("storage/followups.py", "renew"): "hot.mark is the driver's placeholder, '?' or '%s'",
    ("storage/followups.py", "finish_owned"):
        "hot.mark is the driver's placeholder, '?' or '%s'",
    ("storage/followups.py", "channel_outcomes"):
        "hot.mark is the driver's placeholder, '?' or '%s'",
    ("storage/followups.py", "save_channels"):
        "hot.mark is the driver's placeholder, '?' or '%s'",
    ("storage/receipts.py", "insert_receipt"):
        "hot.mark is the driver's placeholder, '?' or '%s'",
    ("storage/database.py", "execute"):
        "the gated sqlite3 cursor's override passes its caller's SQL on unchanged",
    ("storage/notify.py", "execute"):
        "the notifying psycopg cursor's override passes its caller's SQL on unchanged",
    ("storage/notify.py", "executemany"):
        "the notifying psycopg cursor's override passes its caller's SQL on unchanged",
    ("storage/notify.py", "_connect"):
        "LISTEN takes no parameter: the schema's channel is quoted by psycopg.sql.Identifier",
}
"""(file, function) whose SQL text has a part the scan cannot prove constant, and why it is."""

_CONSTRUCTS = frozenset({"sa", "sqlalchemy", "op", "projects", "events", "follow_ups",
                         "journeys", "daemons", "bompao_meta"})
_Scope = ast.FunctionDef | ast.AsyncFunctionDef | None


class _SqlScan(ast.NodeVisitor):
    """Finds the SQL argument of every execute call and of every ``text()`` fragment, and
    checks it is made of the code's own constants only: literals, module constants, and
    names, attributes, method results and comprehensions made of those; never a
    parameter or anything computed from one. SQLAlchemy Core statements pass (their
    values are bound, their identifiers come from the tables); text in them is checked
    where it is made, at ``text()``."""

    def __init__(self, tree: ast.Module, file: str) -> None:
        self.file = file
        self.problems: list[str] = []
        self.calls = 0
        self.module: dict[str, list[ast.expr]] = {}
        self.attributes: dict[str, list[tuple[ast.expr, _Scope]]] = {}
        self.methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.bare_fragments = {alias.asname or alias.name for node in ast.walk(tree)
                               if isinstance(node, ast.ImportFrom)
                               and (node.module or "").startswith("sqlalchemy")
                               for alias in node.names if alias.name in SQL_FRAGMENTS}
        for node in tree.body:
            for name, value in _assignments(node):
                self.module.setdefault(name, []).append(value)
        # ``from bompao.X import module``: that module's constants are the code's own,
        # checked by a scan of its own file (``module.NAME``)
        self.imported: dict[str, Path] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bompao."):
                folder = ROOT.joinpath(*node.module.split(".")[1:])
                for alias in node.names:
                    if (folder / f"{alias.name}.py").is_file():
                        self.imported[alias.asname or alias.name] = folder / f"{alias.name}.py"
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                self.methods.setdefault(function.name, function)
                for node in ast.walk(function):
                    for target, value in _attribute_assignments(node):
                        self.attributes.setdefault(target, []).append((value, function))
        self.stack: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.visit(tree)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node)
        self.generic_visit(node)
        self.stack.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_FunctionDef(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else (
            func.id if isinstance(func, ast.Name) else None)
        fragment = (isinstance(func, ast.Attribute) and func.attr in SQL_FRAGMENTS
                    and _root(func) in ("sa", "sqlalchemy")) or (
            isinstance(func, ast.Name) and func.id in self.bare_fragments)
        if (name in SQL_TEXT_CALLS or fragment) and (node.args or node.keywords):
            argument = node.args[0] if node.args else node.keywords[0].value
            text_only = fragment or name in ("exec_driver_sql", "executescript") or (
                isinstance(func, ast.Attribute) and _root(func) in RAW_RECEIVERS)
            self.calls += 1
            scope = self.stack[-1] if self.stack else None
            reason = self.unsafe(argument, text_only, scope, frozenset())
            where = scope.name if scope else "<module>"
            if reason and (self.file, where) not in SQL_ALLOWED:
                self.problems.append(f"{self.file}:{node.lineno} {where}: {name}() gets SQL "
                                     f"built from {reason}")
        self.generic_visit(node)

    def unsafe(self, node: ast.expr, text_only: bool, scope: _Scope,
               seen: frozenset[str]) -> str | None:
        """Why ``node`` may carry text that is not the code's own, or None."""
        def each(nodes: list[ast.expr], within: _Scope = scope,
                 also: frozenset[str] = seen) -> str | None:
            return next((r for n in nodes if (r := self.unsafe(n, text_only, within, also))),
                        None)

        if isinstance(node, ast.Constant | ast.Compare | ast.BoolOp | ast.UnaryOp):
            return None  # literals; booleans and numbers are not text
        if isinstance(node, ast.JoinedStr):
            return each(list(node.values))
        if isinstance(node, ast.FormattedValue):
            return each([node.value])
        if isinstance(node, ast.BinOp):
            return each([node.left, node.right])
        if isinstance(node, ast.IfExp):
            return each([node.body, node.orelse])
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return each(list(node.elts))
        if isinstance(node, ast.Dict):
            return each([*(k for k in node.keys if k is not None), *node.values])
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp):
            # a comprehension's variable is as safe as what it iterates over; iterating a
            # table's columns (``c.name for c in events.c``) gives identifiers of the tables
            bound = set(seen)
            for generator in node.generators:
                columns = isinstance(generator.iter, ast.Attribute) and (
                    generator.iter.attr == "c" and _root(generator.iter) in _CONSTRUCTS)
                reason = None if columns else self.unsafe(generator.iter, text_only, scope,
                                                          frozenset(bound))
                if reason:
                    return reason
                bound.update(f"column:{t.id}" if columns else f"{id(scope)}:{t.id}"
                             for t in ast.walk(generator.target) if isinstance(t, ast.Name))
            return self.unsafe(node.elt, text_only, scope, frozenset(bound))
        if isinstance(node, ast.Subscript):
            return each([node.value])
        if isinstance(node, ast.Name):
            return self.name(node.id, text_only, scope, seen)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and f"column:{node.value.id}" in seen and (
                    node.attr in ("name", "key")):
                return None  # the name of a column of a bompao table
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                key = f"self.{node.attr}"
                if key in seen:
                    return None
                values = self.attributes.get(node.attr)
                if not values:
                    return f"{key}, which is never assigned in this module"
                return next((r for value, within in values
                             if (r := self.unsafe(value, text_only, within, seen | {key}))),
                            None)
            if isinstance(node.value, ast.Name) and node.value.id in self.imported:
                path = self.imported[node.value.id]
                other = _SqlScan(ast.parse(path.read_text(encoding="utf-8")),
                                 path.relative_to(ROOT).as_posix())
                if node.attr not in other.module:
                    return f"{ast.unparse(node)}, which is not a constant of {other.file}"
                return other.name(node.attr, text_only, None, frozenset())
            if not text_only and _root(node) in _CONSTRUCTS:
                return None
            return f"the attribute {ast.unparse(node)}"
        if isinstance(node, ast.Call):
            return self.call(node, text_only, scope, seen)
        return f"{type(node).__name__} {ast.unparse(node)}"

    def call(self, node: ast.Call, text_only: bool, scope: _Scope,
             seen: frozenset[str]) -> str | None:
        func = node.func
        arguments = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(func, ast.Name) and func.id in ("len", "int", "bool", "range"):
            return None
        if isinstance(func, ast.Name) and func.id in ("tuple", "list", "sorted", "str"):
            return next((r for a in arguments if (r := self.unsafe(a, text_only, scope, seen))),
                        None)
        if isinstance(func, ast.Attribute) and func.attr in (
                "join", "format", "replace", "strip", "upper", "lower"):
            return next((r for a in [func.value, *arguments]
                         if (r := self.unsafe(a, text_only, scope, seen))), None)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "self" and func.attr in self.methods:
            if (self.file, func.attr) in SQL_ALLOWED:
                return None
            method = self.methods[func.attr]
            returns = [r.value for r in ast.walk(method)
                       if isinstance(r, ast.Return) and r.value is not None]
            key = f"self.{func.attr}()"
            if key in seen:
                return None
            return next((r for value in returns
                         if (r := self.unsafe(value, text_only, method, seen | {key}))), None)
        if not text_only and (_root(func) in _CONSTRUCTS or any(
                self.unsafe(a, False, scope, seen) is None and _builds_statement(a)
                for a in node.args)):
            # Core, or a method that refines a Core statement it is given
            return None
        if isinstance(func, ast.Attribute) and self.unsafe(func.value, text_only, scope,
                                                           seen) is None:
            if not text_only:
                return None  # refining a statement: Core binds what it is given
            return next((r for a in arguments if (r := self.unsafe(a, True, scope, seen))),
                        None)
        return f"the result of {ast.unparse(func)}()"

    def name(self, name: str, text_only: bool, scope: _Scope,
             seen: frozenset[str]) -> str | None:
        key = f"{id(scope)}:{name}"
        if key in seen:
            return None
        if scope is not None:
            parameters = {a.arg for a in (*scope.args.posonlyargs, *scope.args.args,
                                          *scope.args.kwonlyargs)}
            if name in parameters:
                return f"the parameter {name!r} of {scope.name}()"
            values = _local_values(scope, name)
            if values:
                return next((r for v in values
                             if (r := self.unsafe(v, text_only, scope, seen | {key}))), None)
        values = self.module.get(name)
        if values:
            return next((r for v in values if (r := self.unsafe(
                v, text_only, None, seen | {f"{id(None)}:{name}"}))), None)
        if not text_only and name in _CONSTRUCTS:
            return None
        return f"{name!r}, which is not a constant of this module"


def _root(node: ast.expr) -> str | None:
    """The name an attribute chain or call chain starts from."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _builds_statement(node: ast.expr) -> bool:
    """Whether ``node`` is a Core statement being built (``sa.select(...)...``)."""
    return isinstance(node, ast.Call) and _root(node) in _CONSTRUCTS


def _local_values(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str
                  ) -> list[ast.expr]:
    """Every value ``function`` binds to the local ``name`` (loop targets: their iterables)."""
    found: list[ast.expr] = []
    for node in ast.walk(function):
        found.extend(value for target, value in _assignments(node) if target == name)
        if isinstance(node, ast.For | ast.comprehension) and any(
                isinstance(t, ast.Name) and t.id == name for t in ast.walk(node.target)):
            found.extend(_unpacked(node.target, node.iter, name))
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name) \
                and node.optional_vars.id == name:
            found.append(node.context_expr)
    return found


def _unpacked(target: ast.expr, iterable: ast.expr, name: str) -> list[ast.expr]:
    """What a loop binds to ``name``: with ``for a, b in ((x, y), ...)`` over a literal,
    only the items in ``name``'s position; else the whole iterable."""
    if isinstance(target, ast.Tuple) and isinstance(iterable, ast.Tuple | ast.List) and all(
            isinstance(item, ast.Tuple) and len(item.elts) == len(target.elts)
            for item in iterable.elts):
        positions = [i for i, t in enumerate(target.elts)
                     if isinstance(t, ast.Name) and t.id == name]
        if positions:
            return [item.elts[positions[0]] for item in iterable.elts
                    if isinstance(item, ast.Tuple)]
    return [iterable]


def _attribute_assignments(node: ast.AST) -> list[tuple[str, ast.expr]]:
    """``self.NAME = value`` (and ``+=``) in ``node``."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return []
    return [(t.attr, value) for t in targets if isinstance(t, ast.Attribute)
            and isinstance(t.value, ast.Name) and t.value.id == "self"]


def _assignments(node: ast.AST) -> list[tuple[str, ast.expr]]:
    if isinstance(node, ast.Assign):
        return [(t.id, node.value) for target in node.targets for t in ast.walk(target)
                if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name) \
            and node.value is not None:
        return [(node.target.id, node.value)]
    if isinstance(node, ast.NamedExpr):
        return [(node.target.id, node.value)]
    return []


def test_threat8_sql_is_never_built_from_anything_but_the_codes_own_constants() -> None:
    problems: list[str] = []
    calls = 0
    for path in SQL_SOURCES:
        file = path.relative_to(ROOT).as_posix()
        scan = _SqlScan(ast.parse(path.read_text(encoding="utf-8")), file)
        problems.extend(scan.problems)
        calls += scan.calls
    assert calls > 40, "the scan found too few SQL calls: is it looking at the code?"
    assert problems == []


@pytest.mark.parametrize("snippet", [
    """def f(conn, name):
        conn.execute(sa.text(f"SELECT * FROM projects WHERE name = '{name}'"))""",
    """def f(cursor, name):
        cursor.execute("SELECT * FROM projects WHERE name = '" + name + "'")""",
    """def f(cursor, name):
        cursor.execute("SELECT * FROM projects WHERE name = '%s'" % name)""",
    """def f(conn, name):
        sql = "DELETE FROM projects WHERE name = '{}'".format(name)
        conn.exec_driver_sql(sql)""",
    """def f(conn, column):
        conn.execute(sa.text("SELECT " + column + " FROM projects"))""",
    """def f(conn, row):
        conn.execute(sa.text(f"SELECT {row.name}"))""",
    """def f(cursor, names):
        marks = ", ".join(names)
        cursor.execute(f"SELECT * FROM projects WHERE name IN ({marks})")""",
    """from bompao.storage.migrations import visit_trigger
def f(cursor):
    cursor.execute(visit_trigger.NOT_THERE)""",
    """from bompao.storage import codec
def f(cursor, value):
    cursor.execute(codec.dumps(value, "x"))""",
], ids=["f-string", "concatenation", "percent", "format", "identifier", "attribute", "join",
        "another module's missing constant", "another module's function"])
def test_threat8_the_scan_catches_sql_built_from_input(snippet: str) -> None:
    scan = _SqlScan(ast.parse("import sqlalchemy as sa\n" + textwrap.dedent(snippet)),
                    "example.py")
    assert scan.calls >= 1
    assert scan.problems, snippet


HOSTILE = ["'; DROP TABLE projects; --", "Robert'); DROP TABLE events;--", '" OR "1"="1',
           "' OR '1'='1", "\\'; SELECT pg_sleep(10); --", "%s %(name)s ? :name $1",
           "ชื่อ'; DELETE FROM follow_ups; --", "x\x00y"]


@pytest.mark.parametrize("text", HOSTILE)
def test_threat8_hostile_text_round_trips_and_the_tables_survive(
        engine: Engine, store_url: str, cli: Cli, text: str) -> None:
    engine.init()
    tables = sorted(sa.inspect(engine.db.engine).get_table_names())
    bystander = engine.create_project("social-incubator", "Bystander", partner="other")
    if "\x00" in text:
        # NUL is refused alike on both backends (PostgreSQL could not store it): nothing
        # written, one clear message naming it
        for attempt in ({"name": text}, {"name": "Named", "partner": text},
                        {"name": "Named", "cohort": text},
                        {"name": "Named", "fields": {"problem_statement": text}}):
            with pytest.raises(InvalidValue, match="NUL"):
                engine.create_project("social-incubator", **attempt)
        for change in (lambda: engine.add_evidence(bystander.id, "stakeholder_map", note=text),
                       lambda: engine.assign(bystander.id, role="coach", person=text),
                       lambda: engine.approve(bystander.id, role="coach", by=text),
                       lambda: engine.flag(bystander.id, text)):
            with pytest.raises(InvalidValue, match="NUL"):
                change()
        assert [p.name for p in engine.list_projects()] == ["Bystander"]
        assert len(engine.history(bystander.id)) == 1
        code, _, err = cli("--db", store_url, "project", "create", "--journey",
                               "social-incubator", "--name", text)
        [line] = assert_refused(code, err, (1, 2))
        assert "NUL" in line
        assert [p.name for p in engine.list_projects()] == ["Bystander"]
        return
    project = engine.create_project("social-incubator", text, partner=text, cohort=text,
                                    fields={"problem_statement": text,
                                            "partners_committed": [text]})
    project = engine.add_evidence(project.id, "stakeholder_map", url=text, note=text)
    engine.assign(project.id, role="coach", person=text)
    engine.approve(project.id, role="coach", by=text)
    stored = engine.get(project.id)
    assert (stored.name, stored.partner, stored.cohort) == (text, text, text)
    assert stored.fields["problem_statement"] == text
    assert stored.fields["partners_committed"] == [text]
    assert stored.evidence["stakeholder_map"]["note"] == text
    assert stored.assignments["coach"] == [text]
    assert [p.id for p in engine.list_projects(partner=text)] == [project.id]
    assert [p.id for p in engine.list_projects(cohort=text)] == [project.id]
    assert engine.list_projects(partner=text + "x") == []
    scoped = Actor(text, roles={"coach"}, partner=text)
    assert [p.id for p in engine.list_projects(actor=scoped)] == [project.id]
    with pytest.raises(NotFound):
        engine.get(bystander.id, scoped)
    for name in ("funnel", "at-risk", "coaches"):
        code, out, err = cli("--db", store_url, "report", name, "--format", "json",
                                 "--partner", text)
        assert code == 0, err
        if name == "coaches":
            assert json.loads(out) == [{"person": text, "role": "coach", "projects": 1,
                                        "due_follow_ups": 0}]
    code, out, err = cli("--db", store_url, "--json", "project", "list",
                             "--partner", text)
    assert code == 0, err
    assert [p["name"] for p in json.loads(out)] == [text]
    code, out, err = cli("--db", store_url, "--json", "project", "create",
                             "--journey", "social-incubator", "--name", text, "--partner", text,
                             "--set", f"problem_statement={text}")
    assert code == 0, err
    assert json.loads(out)["fields"]["problem_statement"] == text
    code, out, _ = cli("--db", store_url, "project", "export", "--format", "csv",
                           "--partner", text)
    assert code == 0
    assert sorted(sa.inspect(engine.db.engine).get_table_names()) == tables
    assert engine.get(bystander.id).name == "Bystander"
    assert len(engine.list_projects()) == 3
    assert [e.seq for e in engine.history(project.id)] == [1, 2, 3, 4]


# 9. a crash or a second daemon doubles an effect -----------------------------------------


def test_threat9_a_dead_daemons_claims_are_taken_over_and_run_once(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    config_path = tmp_path / "bompao.toml"
    config_path.write_text(f'[webhooks.crm]\nurl = "{sink.url("/crm")}"\nretries = 0\n'
                           '[scheduler]\nlease = 60\n', encoding="utf-8")
    config = load_config(config_path, environ={})
    key = engine.publish(journey("once", follow_ups=(
        "{id: mark, after: 1 day, action: flag, flag: at_risk}",
        "{id: push, after: 1 day, action: webhook, endpoint: crm}")))[0]
    project = engine.create_project(key, "Once")
    clock.tick(days=2)
    with engine.hot.transaction() as cursor:  # a daemon claims the work and dies
        claimed = engine.hot.claim(cursor, "dead", due_by=clock.now, clock=clock.now,
                                   lease_until=clock.now + timedelta(seconds=60), limit=10)
    assert len(claimed) == 2
    assert Dispatcher(engine, replace_name(config, "early")).run_due().claimed == 0
    clock.tick(seconds=61)  # the lease ran out: the work is taken over
    results: list[Any] = []
    threads = [threading.Thread(target=lambda n=n: results.append(
        Dispatcher(engine, replace_name(config, n)).run_due())) for n in ("d1", "d2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.done for r in results) == 2
    history = engine.history(project.id)
    assert [e.kind for e in history].count("flagged") == 1
    assert [e.kind for e in history].count("follow_up") == 2
    assert len(sink.on("/crm")) == 1
    assert sink.keys("/crm") == [follow_up_rows(engine, project.id)["push"]["idempotency_key"]]


def replace_name(config: Config, name: str) -> Config:
    """``config`` for a daemon called ``name``."""
    from dataclasses import replace  # noqa: PLC0415

    return replace(config, daemon_name=name)


# 10. text from partners and people injects markup into what the operator views -----------

MARKUP = "<script>alert('x')</script>\x1b]0;pwned\x07\x1b[2J[/bold][link=https://evil.example.org]"


def test_threat10_the_html_report_escapes_names_fields_and_journey_texts(
        engine: Engine) -> None:
    title = "<img src=x onerror=alert(1)>"
    text = journey("markup").replace("title: {en: Start}", f"title: {{en: {json.dumps(title)}}}")
    key = engine.publish(text)[0]
    engine.create_project(key, MARKUP, partner=MARKUP, cohort=MARKUP, fields={"s": MARKUP})
    page = render_report(engine, Filters(key))
    assert "<script>alert" not in page
    assert "<img src=x" not in page


def test_threat10_cli_output_shows_hostile_names_as_text(
        engine: Engine, store_url: str, cli: Cli) -> None:
    key = engine.publish(journey("markup"))[0]
    project = engine.create_project(key, MARKUP, partner="p", fields={"s": MARKUP})
    engine.assign(project.id, role="coach", person=MARKUP)
    engine.flag(project.id, "at_risk")
    db = ["--db", store_url]
    for args in (["project", "show", str(project.id)], ["project", "history", str(project.id)],
                 ["project", "check", str(project.id), "go"], ["project", "list"],
                 ["followups", "list"], ["report", "at-risk", "--journey", key]):
        code, out, err = cli(*db, *args)
        assert code == 0, (args, err)
        assert "\x1b" not in out + err, args
        assert "\x07" not in out + err, args
        if args[1] == "show" or args[:2] == ["project", "list"] or args[0] == "report":
            assert "[/bold][link=https://evil.example.org]" in out, (args, out)
    code, out, _ = cli(*db, "--json", "project", "show", str(project.id))
    assert json.loads(out)["name"] == MARKUP  # JSON keeps the data exactly
