"""History: a gap-free event log, the state at any past time, and replay equal to storage.

Every test runs on a SQLite file and on a PostgreSQL schema (``store_url``).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from bompao.engine import Actor, Engine, Project
from bompao.engine.history import ProjectState, replay
from bompao.errors import InvalidValue, NotFound

SI = "social-incubator"
COACH = Actor("Malee", roles={"coach"})
MANAGER = Actor("Pranee", roles={"program_manager"})
BANGKOK = timezone(timedelta(hours=7))
STATEMENT = "Farmers in Mae Rim lose a third of their harvest"

TWO_V1 = """\
journey: two
version: 1
roles: [coach]
fields:
  n: {type: int, default: 0}
  legacy: {type: string, default: "old"}
stages:
  start: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: start, to: done}
"""
TWO_V2 = """\
journey: two
version: 2
roles: [coach]
fields:
  n: {type: int, default: 0}
stages:
  begin: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: begin, to: done}
"""


def _view(thing: Project | ProjectState) -> dict[str, Any]:
    """What a stored project and a replayed state must agree on."""
    seq = thing.lock_version if isinstance(thing, Project) else thing.seq
    return {
        "id": thing.id, "journey": thing.journey, "version": thing.version,
        "name": thing.name, "partner": thing.partner, "cohort": thing.cohort,
        "stage": thing.stage, "visit": thing.visit, "stage_entered_at": thing.stage_entered_at,
        "fields": thing.fields, "flags": list(thing.flags), "assignments": thing.assignments,
        "evidence": sorted(thing.evidence),
        "approvals": {role: [a["by"] for a in entries]
                      for role, entries in thing.approvals.items()},
        "seq": seq,
    }


def _journey_of_a_project(engine: Engine, clock: Any) -> tuple[int, list[tuple[Any, Project]]]:
    """Take one project through many kinds of change, a day apart; return its snapshots."""
    snapshots: list[tuple[Any, Project]] = []

    def step(project: Project) -> None:
        snapshots.append((clock.now, project))
        clock.tick(days=1)

    p = engine.create_project(SI, "Clean Water", partner="cmu", cohort="2026A",
                              actor=Actor("Malee"))
    step(p)
    step(engine.set_fields(p.id, {"problem_statement": STATEMENT}, actor=Actor("Niran")))
    step(engine.add_evidence(p.id, "stakeholder_map", url="https://example.org/map",
                             actor=Actor("Niran")))
    step(engine.assign(p.id, role="coach", person="Malee", actor=MANAGER))
    step(engine.approve(p.id, role="coach", by="Malee"))
    step(engine.flag(p.id, "at_risk"))
    step(engine.advance(p.id, "validate", COACH))
    step(engine.set_fields(p.id, {"interviews_done": 4, "partners_committed": ["cmu", "pea"]}))
    step(engine.approve(p.id, role="committee", by="Anan"))
    step(engine.flag(p.id, "at_risk", on=False))
    step(engine.advance(p.id, "withdraw", MANAGER))
    return p.id, snapshots


def test_events_are_gap_free_and_say_who_did_what(engine: Engine, clock: Any) -> None:
    project_id, snapshots = _journey_of_a_project(engine, clock)
    events = engine.history(project_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) == len(snapshots) == engine.get(project_id).lock_version
    assert [e.at for e in events] == [at for at, _ in snapshots]
    assert {e.project for e in events} == {project_id}
    assert [(e.kind, e.actor, e.role, e.from_stage, e.to_stage, e.trigger) for e in events] == [
        ("created", "Malee", None, None, "idea", None),
        ("fields_set", "Niran", None, None, None, None),
        ("evidence_added", "Niran", None, None, None, None),
        ("assigned", "Pranee", "coach", None, None, None),
        ("approved", "Malee", "coach", None, None, None),
        ("flagged", None, None, None, None, None),
        ("advanced", "Malee", "coach", "idea", "validation", "validate"),
        ("fields_set", None, None, None, None, None),
        ("approved", "Anan", "committee", None, None, None),
        ("unflagged", None, None, None, None, None),
        ("advanced", "Pranee", "program_manager", "validation", "withdrawn", "withdraw"),
    ]
    assert events[1].payload == {"fields": {"problem_statement": STATEMENT}}
    assert events[-1].as_dict()["from"] == "validation"


def test_state_at_is_what_the_project_was(engine: Engine, clock: Any) -> None:
    project_id, snapshots = _journey_of_a_project(engine, clock)
    for at, then in snapshots:
        for when in (at, at + timedelta(hours=12), at.astimezone(BANGKOK)):
            state = engine.state_at(project_id, when)
            assert _view(state) == _view(then), when
    first = snapshots[0][0]
    with pytest.raises(NotFound) as caught:
        engine.state_at(project_id, first - timedelta(seconds=1))
    assert str(caught.value) == (f"project {project_id} did not exist yet at "
                                 f"{(first - timedelta(seconds=1)).isoformat()}")
    with pytest.raises(InvalidValue, match=r"^give an aware time"):
        engine.state_at(project_id, first.replace(tzinfo=None))
    with pytest.raises(NotFound, match=r"^no project with id 999$"):
        engine.state_at(999, first)


def test_state_at_shows_the_journey_version_before_and_after_a_migration(
        engine: Engine, clock: Any) -> None:
    engine.publish(TWO_V1.replace('  legacy: {type: string, default: "old"}\n', ""))
    engine.publish(TWO_V2)
    p = engine.create_project("two@1", "P", fields={"n": 2})
    before = clock.now
    clock.tick(days=30)
    engine.migrate(p.id, 2, {"start": "begin"})
    after = clock.now
    clock.tick(days=30)
    engine.advance(p.id, "finish")
    past = engine.state_at(p.id, before + timedelta(days=1))
    assert (past.version, past.stage, past.fields) == (1, "start", {"n": 2})
    migrated = engine.state_at(p.id, after)
    assert (migrated.version, migrated.stage, migrated.stage_entered_at) == (2, "begin", after)
    assert engine.state_at(p.id, clock.now).stage == "done"
    assert _view(replay(engine.history(p.id))) == _view(engine.get(p.id))


def test_replay_of_every_event_equals_the_stored_project(engine: Engine, clock: Any,
                                                         gated: str) -> None:
    project_id, _ = _journey_of_a_project(engine, clock)
    other = engine.create_project(gated, "Loop", fields={"n": 10})
    for _ in range(3):
        engine.approve(other.id, role="coach", by="Malee")
        engine.assign(other.id, role="helper", person="Niran")
        engine.advance(other.id, "go")
        engine.set_fields(other.id, {"note": "went round"})
        engine.advance(other.id, "back")
        clock.tick(hours=1)
    engine.approve(other.id, role="coach", by="Somsak")
    engine.add_evidence(other.id, "doc", note="x")
    for project_id_ in (project_id, other.id):
        state = replay(engine.history(project_id_))
        assert state is not None
        assert _view(state) == _view(engine.get(project_id_))
    assert replay([]) is None


def test_replay_after_a_migration_that_drops_a_field_equals_the_stored_project(
        engine: Engine) -> None:
    """A migration drops fields the new version lacks; replay must drop them too.

    The stored project loses ``legacy`` (``Engine.migrate`` keeps only the target's
    fields and lists ``dropped_fields`` in the event), so ``replay`` and ``state_at``
    must not bring it back.
    """
    engine.publish(TWO_V1)
    engine.publish(TWO_V2)
    p = engine.create_project("two@1", "P", fields={"n": 2, "legacy": "keep me?"})
    plan = engine.migrate(p.id, 2, {"start": "begin"})
    assert plan["dropped_fields"] == ["legacy"]
    stored = engine.get(p.id)
    assert stored.fields == {"n": 2}
    assert replay(engine.history(p.id)).fields == stored.fields
