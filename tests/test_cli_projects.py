"""The project commands of the ``bompao`` CLI, run as real subprocesses.

Each test drives ``.venv/bin/bompao --db URL ...`` against the parametrised
``store_url`` (a SQLite file and a fresh PostgreSQL schema). Bad input must give
exit 1 or 2, exactly one stderr line starting ``error:``, no traceback, and leave
the database as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bompao.cli import main
from bompao.engine import Engine
from bompao.storage.tables import projects

BOMPAO = Path(sys.executable).with_name("bompao")
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
STATEMENT = "Farmers in Mae Rim lose a third of their harvest"

PINNED_V1 = """\
journey: pinned
version: 1
roles: [coach]
fields:
  n: {type: int, default: 0}
stages:
  start: {initial: true}
  middle: {}
  done: {final: true}
transitions:
  - {trigger: go, from: start, to: middle}
  - {trigger: finish, from: middle, to: done}
"""
PINNED_V2 = """\
journey: pinned
version: 2
roles: [coach]
fields:
  n: {type: int, default: 0}
stages:
  intake: {initial: true}
  middle: {}
  done: {final: true}
transitions:
  - {trigger: begin, from: intake, to: middle}
  - {trigger: finish, from: middle, to: done}
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOMPAO_DATABASE_URL", "BOMPAO_JOURNEYS", "BOMPAO_DEBUG", "BOMPAO_LANG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def bompao(url: str, *args: str, as_json: bool = False,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``bompao --db URL [--json] ARGS...``."""
    command = [str(BOMPAO), "--db", url, *(["--json"] if as_json else []), *args]
    return subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=cwd,
                          timeout=120, check=False)


def ok_json(url: str, *args: str) -> Any:
    """Run with ``--json``, expect exit 0, return the parsed stdout."""
    result = bompao(url, *args, as_json=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error:`` line a failing command must print."""
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def _state(url: str) -> Any:
    """Everything a refused command must leave unchanged: journeys, projects, events."""
    engine = Engine.from_url(url, create=False)
    try:
        return (engine.list_journeys(),
                [(p, engine.history(p.id)) for p in engine.list_projects()])
    finally:
        engine.close()


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def url(store_url: str) -> str:
    """``store_url`` initialised (in-process, to save a subprocess; see the init test)."""
    engine = Engine.from_url(store_url)
    try:
        assert ("social-incubator", 1) in engine.init()
    finally:
        engine.close()
    return store_url


def _create(url: str, journey: str = "social-incubator", **options: Any) -> int:
    """Create a project through the library (``project create`` is tested on its own)."""
    engine = Engine.from_url(url, create=False)
    try:
        return engine.create_project(journey, "Clean Water", **options).id
    finally:
        engine.close()


# happy paths -----------------------------------------------------------------------------


def test_init_publish_create_and_show(store_url: str, tmp_path: Path) -> None:
    init = bompao(store_url, "init", as_json=True)
    assert init.returncode == 0, init.stderr
    assert "social-incubator@1" in json.loads(init.stdout)["published"]
    url = store_url

    path = tmp_path / "pinned.yaml"
    path.write_text(PINNED_V1, encoding="utf-8")
    published = {"published": ["pinned@1"], "unconfigured": []}  # no webhook it lacks
    assert ok_json(url, "journeys", "publish", str(path)) == published
    before = _state(url)
    again = ok_json(url, "journeys", "publish", str(path))  # the same content: a no-op
    assert again == published
    assert _state(url) == before
    path.write_text(PINNED_V1.replace("default: 0", "default: 1"), encoding="utf-8")
    changed = bompao(url, "journeys", "publish", str(path))
    assert changed.returncode == 1
    assert one_error_line(changed) == (
        "error: journey pinned@1 is already published with different content; a published "
        "version never changes: give it a new version")
    assert _state(url) == before

    created = ok_json(url, "project", "create", "--journey", "social-incubator", "--name",
                      "Clean Water", "--partner", "cmu", "--cohort", "2026A",
                      "--set", "interviews_done=3", "--set", "partners_committed=pea,cmu")
    assert isinstance(created["id"], int)
    shown = ok_json(url, "project", "show", str(created["id"]))
    assert {k: shown[k] for k in ("id", "journey", "version", "stage", "flags")} == {
        "id": created["id"], "journey": "social-incubator", "version": 3, "stage": "idea",
        "flags": []}
    assert shown["fields"] == {"problem_statement": "", "target_group": "",
                               "interviews_done": 3, "people_reached": 0,
                               "partners_committed": ["pea", "cmu"], "team_size": 1,
                               "needs": []}
    assert (shown["partner"], shown["cohort"]) == ("cmu", "2026A")


def test_check_and_advance(url: str) -> None:
    pid = str(_create(url, cohort="2026A"))

    check = bompao(url, "project", "check", pid, "validate", as_json=True)
    assert check.returncode == 1
    report = json.loads(check.stdout)
    assert report["passable"] is False
    assert [(c["says"], c["met"]) for c in report["criteria"]] == [
        ("A problem statement of at least 20 characters", False),
        ("A stakeholder map is attached", False),
        ("The coach approves", False)]

    before = _state(url)
    refused = bompao(url, "project", "advance", pid, "validate", as_json=True)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    data = json.loads(refused.stdout)
    assert data["passable"] is False
    assert data["missing"] == ["A problem statement of at least 20 characters",
                               "A stakeholder map is attached", "The coach approves"]
    assert _state(url) == before

    ok_json(url, "project", "set", pid, f"problem_statement={STATEMENT}", "interviews_done=4")
    ok_json(url, "project", "evidence", pid, "stakeholder_map", "--url",
            "https://example.org/map", "--by", "Niran")
    ok_json(url, "project", "assign", pid, "--role", "coach", "--to", "Malee")
    ok_json(url, "project", "approve", pid, "--role", "coach", "--by", "Malee")

    passable = bompao(url, "project", "check", pid, as_json=True)  # the stage's first trigger
    assert passable.returncode == 0, passable.stderr
    report = json.loads(passable.stdout)
    assert (report["trigger"], report["passable"]) == ("validate", True)
    assert [c["met"] for c in report["criteria"]] == [True, True, True]

    moved = ok_json(url, "project", "advance", pid, "validate", "--by", "Malee", "--role",
                    "coach")
    assert (moved["stage"], moved["fields"]["interviews_done"]) == ("validation", 4)
    assert moved["assignments"] == {"coach": ["Malee"]}
    history = ok_json(url, "project", "history", pid)
    assert [e["seq"] for e in history] == [1, 2, 3, 4, 5, 6]
    assert [e["kind"] for e in history] == ["created", "fields_set", "evidence_added",
                                            "assigned", "approved", "advanced"]
    assert (history[-1]["from"], history[-1]["to"], history[-1]["actor"],
            history[-1]["role"]) == ("idea", "validation", "Malee", "coach")

    other = _create(url, cohort="2026B", partner="kku")
    assert [p["id"] for p in ok_json(url, "project", "list", "--journey", "social-incubator",
                                     "--stage", "idea", "--partner", "kku", "--cohort",
                                     "2026B")] == [other]


def test_migrate(url: str) -> None:
    engine = Engine.from_url(url, create=False)
    try:
        engine.publish(PINNED_V1)
        engine.publish(PINNED_V2)
    finally:
        engine.close()
    pid = str(_create(url, "pinned@1"))
    before = _state(url)

    refused = bompao(url, "project", "migrate", pid, "--to", "2", "--map", "middle=nowhere")
    assert refused.returncode == 1
    assert one_error_line(refused) == (
        f"error: cannot migrate project {pid}: --map names stage 'middle' which pinned@2 lacks "
        "as target 'nowhere'; stage 'start' has no counterpart in pinned@2; map it with "
        "--map start=NEW (stages: intake, middle, done)")
    plan = ok_json(url, "project", "migrate", pid, "--to", "2", "--map", "start=intake",
                   "--dry-run")
    assert plan == {"project": int(pid), "from_version": 1, "to_version": 2,
                    "from_stage": "start", "to_stage": "intake", "dropped_fields": [],
                    "fields": {"n": 0}, "dry_run": True}
    assert _state(url) == before

    done = ok_json(url, "project", "migrate", pid, "--to", "2", "--map", "start=intake")
    assert done == {**plan, "dry_run": False}
    [(project, history)] = _state(url)[1]
    assert (project.version, project.stage) == (2, "intake")
    assert (history[-1].kind, history[-1].from_stage, history[-1].to_stage) == (
        "migrated", "start", "intake")


# bad input -------------------------------------------------------------------------------


def _cases(pid: str) -> dict[str, tuple[list[str], int, str]]:
    """The bad input the issue names: (arguments, exit code, start of the error line)."""
    return {
        "unknown project": (["project", "show", "999"], 2, "error: no project with id 999"),
        "unknown trigger": (["project", "advance", pid, "fly"], 2,
                            ("error: unknown trigger 'fly' in journey social-incubator@3; from "
                             "stage 'idea' the triggers are: validate, withdraw, admit, "
                             "decline")),
        "trigger not available": (["project", "advance", pid, "present"], 1,
                                  ("error: trigger 'present' is not available in stage 'idea'; "
                                   "available: validate, withdraw, admit, decline")),
        "role not allowed": (["project", "advance", pid, "withdraw", "--by", "Malee", "--role",
                              "coach"], 1,
                             ("error: trigger 'withdraw' needs one of the roles "
                              "program_manager; Malee acts as coach")),
        "override without reason": (["project", "advance", pid, "validate", "--by", "Pranee",
                                     "--role", "program_manager", "--override"], 2,
                                    "error: an override needs a reason (--reason TEXT)"),
        "bad field value": (["project", "set", pid, "interviews_done=abc"], 2,
                            "error: field 'interviews_done': expected int, got 'abc'"),
        "create with a bad field value": (["project", "create", "--journey", "social-incubator",
                                           "--name", "X", "--set", "interviews_done=abc"], 2,
                                          ("error: field 'interviews_done': expected int, got "
                                           "'abc'")),
        "gate refused": (["project", "advance", pid, "validate"], 1,
                         (f"error: project {pid} cannot 'validate' from 'idea' to "
                          "'validation': missing A problem statement of at least 20 "
                          "characters; A stakeholder map is attached; The coach approves")),
    }


def _more_cases(pid: str) -> dict[str, tuple[list[str], int, str]]:
    """More bad input, run in-process through ``bompao.cli.main`` (the same error path)."""
    return {
        "unknown project advance": (["project", "advance", "999", "validate"], 2,
                                    "error: no project with id 999"),
        "unknown project set": (["project", "set", "999", "interviews_done=1"], 2,
                                "error: no project with id 999"),
        "unknown project history": (["project", "history", "999"], 2,
                                    "error: no project with id 999"),
        "unknown project check": (["project", "check", "999"], 2,
                                  "error: no project with id 999"),
        "id not a number": (["project", "show", "abc"], 2,
                            "error: Invalid value for 'ID': 'abc' is not a valid integer."),
        "check trigger not available": (["project", "check", pid, "hand_off"], 1,
                                        ("error: trigger 'hand_off' is not available in stage "
                                         "'idea'; available: validate, withdraw")),
        "no role": (["project", "advance", pid, "withdraw"], 1,
                    ("error: trigger 'withdraw' needs one of the roles program_manager; the "
                     "caller acts as no role")),
        "role not held for override": (["project", "advance", pid, "validate", "--by", "Malee",
                                        "--role", "coach", "--override", "--reason", "urgent"],
                                       1, ("error: overriding the gate of 'validate' needs one "
                                           "of the roles: no role")),
        "role without by": (["project", "advance", pid, "withdraw", "--role",
                             "program_manager"], 2, "error: --role needs --by NAME"),
        "unknown field": (["project", "set", pid, "budget=5"], 2,
                          ("error: unknown field 'budget' in journey social-incubator@3; "
                           "fields: demo_day, interviews_done, needs, partners_committed, "
                           "people_reached, problem_statement, target_group, team_size")),
        "bad date": (["project", "set", pid, "demo_day=tomorrow"], 2,
                     "error: field 'demo_day': expected date, got 'tomorrow'"),
        "bad list": (["project", "set", pid, "partners_committed=[1,"], 2,
                     ("error: field 'partners_committed': expected list[string] as a JSON list "
                      "or comma-separated values, got '[1,'")),
        "not FIELD=VALUE": (["project", "set", pid, "interviews_done"], 2,
                            "error: bad FIELD=VALUE 'interviews_done': expected NAME=VALUE"),
        "create with an empty name": (["project", "create", "--journey", "social-incubator",
                                       "--name", " "], 2,
                                      "error: a project needs a non-empty name"),
        "create on an unknown journey": (["project", "create", "--journey", "nope", "--name",
                                          "X"], 2, "error: unknown journey 'nope'; known: "),
        "unknown evidence": (["project", "evidence", pid, "selfie", "--url", "u"], 2,
                             ("error: unknown evidence item 'selfie' in journey "
                              "social-incubator@3; evidence items: ")),
        "unknown role": (["project", "approve", pid, "--role", "mayor", "--by", "X"], 2,
                         "error: unknown role 'mayor' in journey social-incubator@3; roles: "),
        "unknown assignment role": (["project", "assign", pid, "--role", "mayor", "--to", "X"],
                                    2, "error: unknown role 'mayor' in journey "),
        "approving twice": (["project", "approve", pid, "--role", "committee", "--by", "Anan"],
                            1, (f"error: 'Anan' has already approved project {pid} as "
                                "'committee' in stage 'idea'")),
        "migrate to an unknown version": (["project", "migrate", pid, "--to", "9"], 2,
                                          "error: unknown journey 'social-incubator@9'"),
        "unknown option": (["project", "advance", pid, "validate", "--force"], 2,
                           "error: No such option '--force'."),
    }


def _run_all(url: str, cases: dict[str, tuple[list[str], int, str]]
             ) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run refused commands side by side (each must write nothing, so order is moot)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(bompao, url, *args) for name, (args, _, _) in cases.items()}
    return {name: future.result() for name, future in futures.items()}


def test_bad_input_is_one_error_line_and_writes_nothing(url: str) -> None:
    pid = str(_create(url))
    before = _state(url)
    cases = _cases(pid)
    for name, result in _run_all(url, cases).items():
        _, code, message = cases[name]
        assert result.returncode == code, (name, result.returncode, result.stderr)
        assert one_error_line(result).startswith(message), (name, result.stderr)
        assert result.stdout == "", name
    assert _state(url) == before


def test_more_bad_input_in_process(url: str, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOMPAO_DEBUG", "BOMPAO_JOURNEYS", "BOMPAO_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOMPAO_LANG", "en")
    pid = str(_create(url))
    assert main(["--db", url, "project", "approve", pid, "--role", "committee",
                 "--by", "Anan"]) is None
    capsys.readouterr()
    before = _state(url)
    for name, (args, code, message) in _more_cases(pid).items():
        with pytest.raises(SystemExit) as exited:
            main(["--db", url, *args])
        out, err = capsys.readouterr()
        assert exited.value.code == code, (name, err)
        assert out == "", name
        lines = err.splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith(message), (name, lines[0])
        assert _state(url) == before, name


def test_an_unreachable_database(tmp_path: Path) -> None:
    missing_dir = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    cases = {
        "show": ([UNREACHABLE, "project", "show", "1"],
                 f"error: cannot open the database at {UNREACHABLE}: connection failed: "),
        "init": ([UNREACHABLE, "init"],
                 f"error: cannot open the database at {UNREACHABLE}: connection failed: "),
        "missing dir": ([missing_dir, "project", "list"],
                        (f"error: cannot open the database at {missing_dir}: directory "
                         f"'{tmp_path / 'no' / 'such'}' does not exist")),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(bompao, args[0], *args[1:], cwd=tmp_path)
                   for name, (args, _) in cases.items()}
    for name, future in futures.items():
        result = future.result()
        assert result.returncode == 2, (name, result.stderr)
        assert one_error_line(result).startswith(cases[name][1]), (name, result.stderr)
    assert list(tmp_path.iterdir()) == []  # not even a default bompao.db in the working dir


def _foreign(url: str, tmp_path: Path) -> str:
    """A database holding someone else's table: a SQLite file, or the PostgreSQL schema."""
    if url.startswith("sqlite"):
        path = tmp_path / "other.db"
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("CREATE TABLE customers (name TEXT)")
            conn.execute("INSERT INTO customers VALUES ('Somchai')")
        conn.close()
        return f"sqlite:///{path}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (name TEXT)")
        conn.exec_driver_sql("INSERT INTO customers VALUES ('Somchai')")
    engine.dispose()
    return url


def test_a_database_that_is_not_a_bompao_database(store_url: str, tmp_path: Path) -> None:
    url = _foreign(store_url, tmp_path)
    journey = tmp_path / "pinned.yaml"
    journey.write_text(PINNED_V1, encoding="utf-8")
    commands = [["project", "show", "1"], ["init"], ["journeys", "publish", str(journey)]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda args: bompao(url, *args), commands))
    for args, result in zip(commands, results, strict=True):
        assert result.returncode == 2, (args, result.stderr)
        line = one_error_line(result)
        assert line.endswith("is not a bompao database: it has tables (customers) but no "
                             "bompao schema version; use an empty database"), line
    assert _tables(url) == ["customers"]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM customers").all() == [("Somchai",)]
    engine.dispose()


def test_an_empty_database_without_init(store_url: str, tmp_path: Path) -> None:
    url = store_url
    if url.startswith("sqlite"):
        path = tmp_path / "empty.db"
        path.touch()
        url = f"sqlite:///{path}"
    commands = [["project", "advance", "1", "validate"],
                ["project", "create", "--journey", "social-incubator", "--name", "X"]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda args: bompao(url, *args), commands))
    for args, result in zip(commands, results, strict=True):
        assert result.returncode == 1, (args, result.stderr)
        assert one_error_line(result) == (f"error: the database at {url} has no bompao "
                                          "tables; run 'bompao init' to create them")
    assert _tables(url) == []


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    """A mistyped ``--db`` path must not leave a new (empty) database file behind.

    Nothing may be written when the database is not a bompao database; creating the
    file (and switching it to WAL) is a write.
    """
    path = tmp_path / "typo.db"
    result = bompao(f"sqlite:///{path}", "project", "list")
    assert result.returncode == 1
    assert one_error_line(result).endswith("has no bompao tables; run 'bompao init' to "
                                           "create them")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# audit -----------------------------------------------------------------------------------


def test_audit_passes_a_sound_database_and_names_each_violation(url: str) -> None:
    project = _create(url)
    bompao(url, "project", "set", str(project), "problem_statement=Families lack safe water")
    clean = bompao(url, "audit")
    assert clean.returncode == 0, clean.stderr
    assert "violations: 0, warnings: 0" in clean.stdout
    report = ok_json(url, "audit")
    assert report["ok"] is True
    assert report["checked"]["projects"] == 1
    assert report["checked"]["events"] == 2

    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:  # a lost update: the row no longer matches its log
            conn.execute(sa.update(projects).where(projects.c.id == project).values(
                fields={"problem_statement": "tampered"}))
    finally:
        engine.dispose()
    broken = bompao(url, "audit")
    assert broken.returncode == 1
    assert "Traceback" not in broken.stderr
    assert "replay: 1" in broken.stdout
    assert f"project {project}" in broken.stdout
    as_json = bompao(url, "audit", as_json=True)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["counts"]["replay"] == 1


def test_audit_is_an_operators_command(url: str) -> None:
    refused = bompao(url, "--partner", "cmu", "audit")
    assert refused.returncode == 2
    assert "acts for every partner" in one_error_line(refused)


def test_the_cli_approves_as_by_in_role_and_a_quorum_counts_people(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``project approve --by NAME --role ROLE`` is the trusted operator acting as NAME in
    ROLE: recorded under NAME; the same person respelt is refused (exit 1); under
    another partner's scope the project is not found (exit 2); nothing half-written."""
    for name in ("BOMPAO_DEBUG", "BOMPAO_JOURNEYS", "BOMPAO_DATABASE_URL", "BOMPAO_PARTNER"):
        monkeypatch.delenv(name, raising=False)
    pid = str(_create(url, partner="kku"))
    assert main(["--db", url, "project", "approve", pid, "--role", "committee",
                 "--by", "Anan"]) is None
    capsys.readouterr()
    before = _state(url)
    cases = {
        "respelt": (["project", "approve", pid, "--role", "committee", "--by", " ANAN "], 1,
                    f"error: 'ANAN' has already approved project {pid} as 'committee'"),
        "other partner": (["--partner", "cmu", "project", "approve", pid, "--role",
                           "committee", "--by", "Busaba"], 2,
                          f"error: no project with id {pid}"),
    }
    for name, (args, code, message) in cases.items():
        with pytest.raises(SystemExit) as exited:
            main(["--db", url, *args])
        _, err = capsys.readouterr()
        assert exited.value.code == code, (name, err)
        assert err.startswith(message), (name, err)
        assert _state(url) == before, name
    engine = Engine.from_url(url, create=False)
    try:
        event = engine.history(int(pid))[-1]
        assert (event.kind, event.actor, event.role) == ("approved", "Anan", "committee")
    finally:
        engine.close()
