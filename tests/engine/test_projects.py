"""Projects: create, fields, evidence, approvals, assignments, flags, queries, partner scope.

Every test runs on a SQLite file and on a PostgreSQL schema (``store_url``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bompao.engine import Actor, Engine, Project
from bompao.errors import ConflictError, InvalidValue, NotFound, PermissionDenied

SI = "social-incubator"
SI_FIELDS = ("demo_day, interviews_done, needs, partners_committed, people_reached, "
             "problem_statement, target_group, team_size")
DEFAULTS = {"problem_statement": "", "target_group": "", "interviews_done": 0,
            "people_reached": 0, "partners_committed": [], "team_size": 1, "needs": []}


def _snapshot(engine: Engine, project_id: int) -> tuple[Project, int]:
    """What must stay unchanged when a call is refused: the row and the history length."""
    return engine.get(project_id), len(engine.history(project_id))


# create ------------------------------------------------------------------------------------


def test_create_applies_defaults_and_records_the_creation(engine: Engine, clock: Any) -> None:
    created = engine.create_project(SI, "Clean Water Mae Rim", partner="cmu", cohort="2026A",
                                    fields={"interviews_done": 3, "demo_day": "2026-09-01"},
                                    actor=Actor("Malee"))
    assert (created.journey, created.version, created.stage) == (SI, 3, "idea")
    assert created.fields == {**DEFAULTS, "interviews_done": 3, "demo_day": "2026-09-01"}
    assert (created.name, created.partner, created.cohort) == ("Clean Water Mae Rim", "cmu",
                                                               "2026A")
    assert (created.flags, created.assignments, created.evidence, created.approvals) == (
        [], {}, {}, {})
    assert created.lock_version == 1
    assert created.stage_entered_at == created.created_at == clock.now
    assert engine.get(created.id) == created
    [event] = engine.history(created.id)
    assert (event.seq, event.kind, event.actor, event.to_stage) == (1, "created", "Malee", "idea")
    assert event.payload["fields"] == created.fields


def test_create_strips_the_name(engine: Engine) -> None:
    assert engine.create_project(SI, "  Seed Library  ").name == "Seed Library"


@pytest.mark.parametrize(("fields", "message"), [
    ({"nope": 1}, f"unknown field 'nope' in journey social-incubator@3; fields: {SI_FIELDS}"),
    ({"interviews_done": "abc"}, "field 'interviews_done': expected int, got str 'abc'"),
    ({"interviews_done": True}, "field 'interviews_done': expected int, got bool True"),
    ({"interviews_done": 2.5}, "field 'interviews_done': expected int, got float 2.5"),
    ({"problem_statement": 3}, "field 'problem_statement': expected string, got int 3"),
    ({"partners_committed": "cmu"},
     "field 'partners_committed': expected list[string], got str 'cmu'"),
    ({"demo_day": "2026-13-01"}, "field 'demo_day': expected date, got '2026-13-01'"),
], ids=["unknown", "str-for-int", "bool-for-int", "float-for-int", "int-for-string",
        "str-for-list", "bad-date"])
def test_create_refuses_bad_fields_naming_field_and_type(engine: Engine, fields: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        engine.create_project(SI, "P", fields=fields)
    assert str(caught.value) == message
    assert engine.list_projects() == []


@pytest.mark.parametrize("name", ["", "   "])
def test_create_refuses_an_empty_name(engine: Engine, name: str) -> None:
    with pytest.raises(InvalidValue, match=r"^a project needs a non-empty name$"):
        engine.create_project(SI, name)
    assert engine.list_projects() == []


def test_create_refuses_an_unknown_journey(engine: Engine) -> None:
    with pytest.raises(NotFound, match=r"^unknown journey 'nope'; known: .*social-incubator@3"):
        engine.create_project("nope", "P")


# fields, evidence, approvals, assignments, flags ----------------------------------------


def test_set_fields_merges_typed_values(engine: Engine, clock: Any) -> None:
    p = engine.create_project(SI, "P")
    clock.tick(days=1)
    changed = engine.set_fields(p.id, {"interviews_done": 12, "target_group": "farmers"},
                                actor=Actor("Malee"))
    assert changed.fields == {**DEFAULTS, "interviews_done": 12, "target_group": "farmers"}
    assert changed.lock_version == 2
    assert changed.updated_at == clock.now
    assert engine.get(p.id) == changed
    event = engine.history(p.id)[-1]
    assert (event.seq, event.kind, event.actor) == (2, "fields_set", "Malee")
    assert event.payload == {"fields": {"interviews_done": 12, "target_group": "farmers"}}


@pytest.mark.parametrize(("values", "message"), [
    ({"nope": 1}, f"unknown field 'nope' in journey social-incubator@3; fields: {SI_FIELDS}"),
    ({"interviews_done": 12, "people_reached": "many"},
     "field 'people_reached': expected int, got str 'many'"),
    ({}, "give at least one FIELD=VALUE"),
])
def test_set_fields_refuses_and_writes_nothing(engine: Engine, values: dict[str, Any],
                                              message: str) -> None:
    p = engine.create_project(SI, "P")
    before = _snapshot(engine, p.id)
    with pytest.raises(InvalidValue) as caught:
        engine.set_fields(p.id, values)
    assert str(caught.value) == message
    assert _snapshot(engine, p.id) == before


def test_add_evidence(engine: Engine, clock: Any) -> None:
    p = engine.create_project(SI, "P")
    done = engine.add_evidence(p.id, "stakeholder_map", url="https://example.org/map",
                               note="v1", actor=Actor("Niran"))
    assert done.evidence == {"stakeholder_map": {"url": "https://example.org/map", "note": "v1",
                                                 "by": "Niran", "at": clock.now.isoformat()}}
    event = engine.history(p.id)[-1]
    assert (event.kind, event.actor) == ("evidence_added", "Niran")
    assert event.payload == {"name": "stakeholder_map", "url": "https://example.org/map",
                             "note": "v1"}


def test_add_evidence_refuses_an_unknown_item_and_an_empty_one(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    before = _snapshot(engine, p.id)
    with pytest.raises(InvalidValue) as caught:
        engine.add_evidence(p.id, "selfie", url="https://example.org")
    assert str(caught.value) == (
        "unknown evidence item 'selfie' in journey social-incubator@3; evidence items: "
        "handoff_plan, restart_plan, stakeholder_map, test_plan, test_run_report")
    with pytest.raises(InvalidValue, match=r"^evidence 'test_plan' needs a url or a note$"):
        engine.add_evidence(p.id, "test_plan")
    assert _snapshot(engine, p.id) == before


def test_approvals_by_role_and_person(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    engine.approve(p.id, role="committee", by="Anan")
    done = engine.approve(p.id, role="committee", by="Busaba")
    assert [a["by"] for a in done.approvals["committee"]] == ["Anan", "Busaba"]
    event = engine.history(p.id)[-1]
    assert (event.kind, event.actor, event.role, event.payload) == (
        "approved", "Busaba", "committee", {"role": "committee", "by": "Busaba"})
    report = engine.check(p.id, "validate")
    assert report.criteria[2].seen == {"role": "coach", "approvals": 0, "needed": 1}


def test_approve_refuses_an_unknown_role(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    before = _snapshot(engine, p.id)
    with pytest.raises(InvalidValue) as caught:
        engine.approve(p.id, role="mayor", by="Anan")
    assert str(caught.value) == ("unknown role 'mayor' in journey social-incubator@3; roles: "
                                 "participant, coach, advisor, program_manager, committee")
    with pytest.raises(InvalidValue, match=r"^an approval needs the approver's name \(--by\)$"):
        engine.approve(p.id, role="coach", by=" ")
    assert _snapshot(engine, p.id) == before


def test_the_same_person_approving_twice_is_a_conflict(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    engine.approve(p.id, role="committee", by="Anan")
    before = _snapshot(engine, p.id)
    with pytest.raises(ConflictError) as caught:
        engine.approve(p.id, role="committee", by="Anan")
    assert str(caught.value) == (f"'Anan' has already approved project {p.id} as 'committee' "
                                 "in stage 'idea'")
    assert _snapshot(engine, p.id) == before
    assert len(engine.get(p.id).approvals["committee"]) == 1


def test_assign(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    engine.assign(p.id, role="coach", person="Malee")
    engine.assign(p.id, role="coach", person="Somsak")
    done = engine.assign(p.id, role="coach", person="Malee")
    assert done.assignments == {"coach": ["Malee", "Somsak"]}
    event = engine.history(p.id)[-1]
    assert (event.kind, event.role, event.payload) == (
        "assigned", "coach", {"role": "coach", "person": "Malee"})
    before = _snapshot(engine, p.id)
    with pytest.raises(InvalidValue, match=r"^unknown role 'mentor' in journey "):
        engine.assign(p.id, role="mentor", person="Malee")
    with pytest.raises(InvalidValue, match=r"^an assignment needs a person \(--to\)$"):
        engine.assign(p.id, role="coach", person="")
    assert _snapshot(engine, p.id) == before


def test_flag_and_unflag(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    engine.flag(p.id, "at_risk")
    engine.flag(p.id, "needs_funding")
    assert engine.flag(p.id, "at_risk").flags == ["at_risk", "needs_funding"]
    assert engine.flag(p.id, "at_risk", on=False).flags == ["needs_funding"]
    assert engine.get(p.id).flags == ["needs_funding"]
    kinds = [(e.kind, e.payload["flag"]) for e in engine.history(p.id)[1:]]
    assert kinds == [("flagged", "at_risk"), ("flagged", "needs_funding"),
                     ("flagged", "at_risk"), ("unflagged", "at_risk")]


# queries ---------------------------------------------------------------------------------


def test_get_unknown_project(engine: Engine) -> None:
    with pytest.raises(NotFound, match=r"^no project with id 4242$"):
        engine.get(4242)


def test_list_filters(engine: Engine, toggle: str) -> None:
    made = {
        "w": engine.create_project(SI, "Water", partner="cmu", cohort="2026A"),
        "s": engine.create_project(SI, "Seeds", partner="kku", cohort="2026A"),
        "b": engine.create_project(SI, "Books", partner="cmu", cohort="2026B"),
        "t": engine.create_project(toggle, "Toggle", partner="cmu", cohort="2026A"),
    }
    engine.advance(made["t"].id, "go")

    def names(**filters: Any) -> list[str]:
        return [p.name for p in engine.list_projects(**filters)]

    assert names() == ["Water", "Seeds", "Books", "Toggle"]
    assert names(journey=SI) == ["Water", "Seeds", "Books"]
    assert names(journey=toggle) == ["Toggle"]
    assert names(stage="idea") == ["Water", "Seeds", "Books"]
    assert names(stage="b") == ["Toggle"]
    assert names(stage="a") == []
    assert names(partner="cmu") == ["Water", "Books", "Toggle"]
    assert names(cohort="2026A") == ["Water", "Seeds", "Toggle"]
    assert names(journey=SI, partner="cmu", cohort="2026A") == ["Water"]
    assert names(partner="nobody") == []
    assert names(limit=2) == ["Water", "Seeds"]


# partner scope ---------------------------------------------------------------------------

KKU = Actor("Somchai", roles={"program_manager", "coach", "committee"}, partner="kku")


def _calls(engine: Engine, actor: Actor, when: Any) -> dict[str, Callable[[int], Any]]:
    """Every method that reads or changes one project, called as ``actor``."""
    return {
        "get": lambda pid: engine.get(pid, actor),
        "set_fields": lambda pid: engine.set_fields(pid, {"interviews_done": 1}, actor=actor),
        "add_evidence": lambda pid: engine.add_evidence(pid, "test_plan", note="x",
                                                        actor=actor),
        "approve": lambda pid: engine.approve(pid, role="coach", by="Somchai", actor=actor),
        "assign": lambda pid: engine.assign(pid, role="coach", person="Somchai", actor=actor),
        "flag": lambda pid: engine.flag(pid, "at_risk", actor=actor),
        "unflag": lambda pid: engine.flag(pid, "at_risk", on=False, actor=actor),
        "check": lambda pid: engine.check(pid, "validate", actor=actor),
        "checks": lambda pid: engine.checks(pid, actor=actor),
        "advance": lambda pid: engine.advance(pid, "withdraw", actor),
        "override": lambda pid: engine.advance(pid, "validate", actor, override=True,
                                               reason="scope"),
        "advance_many": lambda pid: engine.advance_many([pid], "withdraw", actor),
        "history": lambda pid: engine.history(pid, actor),
        "state_at": lambda pid: engine.state_at(pid, when, actor),
        "migrate": lambda pid: engine.migrate(pid, 1, actor=actor),
        "migrate_dry_run": lambda pid: engine.migrate(pid, 1, dry_run=True, actor=actor),
    }


def test_a_partner_scoped_actor_neither_sees_nor_changes_another_partners_project(
        engine: Engine, clock: Any) -> None:
    theirs = engine.create_project(SI, "CMU project", partner="cmu")
    engine.flag(theirs.id, "at_risk")
    unowned = engine.create_project(SI, "Nobody's project")
    clock.tick(days=1)
    for project_id in (theirs.id, unowned.id):
        before = _snapshot(engine, project_id)
        for name, call in _calls(engine, KKU, clock.now).items():
            with pytest.raises(NotFound) as caught:
                call(project_id)
            assert str(caught.value) == f"no project with id {project_id}", name
            assert _snapshot(engine, project_id) == before, name


def test_a_partner_scoped_actor_works_on_its_own_partners_projects(engine: Engine,
                                                                   clock: Any) -> None:
    ours = engine.create_project(SI, "KKU project", actor=KKU)
    assert ours.partner == "kku"
    clock.tick(days=1)
    for name, call in _calls(engine, KKU, clock.now).items():
        if name in ("advance", "advance_many", "override"):
            continue
        call(ours.id)
    assert engine.advance(ours.id, "withdraw", KKU).stage == "withdrawn"
    assert engine.history(ours.id, KKU)[-1].actor == "Somchai"


def test_listing_is_limited_to_the_actors_partner(engine: Engine) -> None:
    engine.create_project(SI, "CMU project", partner="cmu")
    engine.create_project(SI, "KKU project", partner="kku")
    engine.create_project(SI, "Nobody's project")
    assert [p.name for p in engine.list_projects(actor=KKU)] == ["KKU project"]
    assert engine.list_projects(partner="cmu", actor=KKU) == []
    assert [p.name for p in engine.list_projects(partner="kku", actor=KKU)] == ["KKU project"]
    unscoped = Actor("Admin", roles={"program_manager"})
    assert len(engine.list_projects(actor=unscoped)) == 3


def test_a_partner_scoped_actor_cannot_create_for_another_partner(engine: Engine) -> None:
    with pytest.raises(PermissionDenied) as caught:
        engine.create_project(SI, "P", partner="cmu", actor=KKU)
    assert str(caught.value) == ("'Somchai' acts for partner 'kku' and cannot create projects "
                                 "for 'cmu'")
    assert engine.list_projects() == []
    assert engine.create_project(SI, "P", partner="kku", actor=KKU).partner == "kku"


def test_timestamps_follow_the_injected_clock(engine: Engine, clock: Any) -> None:
    p = engine.create_project(SI, "P")
    clock.tick(days=3)
    changed = engine.flag(p.id, "at_risk")
    assert changed.created_at == clock.now - timedelta(days=3)
    assert changed.updated_at == clock.now
    assert [e.at for e in engine.history(p.id)] == [clock.now - timedelta(days=3), clock.now]
