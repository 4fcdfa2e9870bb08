"""Gates, advancing, roles, overrides, listeners, cohorts, journey versions and migration.

Every test runs on a SQLite file and on a PostgreSQL schema (``store_url``); time
moves through the injected clock, never by sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from bompao.engine import Actor, Engine, Project
from bompao.errors import (
    ConflictError,
    GateRefused,
    InvalidValue,
    NotFound,
    PermissionDenied,
    TriggerNotOffered,
)

SI = "social-incubator"
COACH = Actor("Malee", roles={"coach"})
MANAGER = Actor("Pranee", roles={"program_manager"})
BOSS = Actor("Boonmee", roles={"boss"})
STATEMENT = "Farmers in Mae Rim lose a third of their harvest"


def _snapshot(engine: Engine, project_id: int) -> tuple[Project, int]:
    return engine.get(project_id), len(engine.history(project_id))


def _ready_to_validate(engine: Engine) -> Project:
    p = engine.create_project(SI, "Clean Water")
    engine.set_fields(p.id, {"problem_statement": STATEMENT})
    engine.add_evidence(p.id, "stakeholder_map", url="https://example.org/map")
    return engine.approve(p.id, role="coach", by="Malee")


# gate reports ----------------------------------------------------------------------------


def test_gate_report_lists_every_criterion_with_what_it_saw(engine: Engine) -> None:
    p = engine.create_project(SI, "Clean Water")
    engine.set_fields(p.id, {"problem_statement": "Too short"})
    report = engine.check(p.id, "validate")
    assert (report.project, report.trigger, report.from_stage, report.to_stage) == (
        p.id, "validate", "idea", "validation")
    assert report.passable is False
    assert [(c.kind, c.says, c.met, dict(c.seen)) for c in report.criteria] == [
        ("expr", "A problem statement of at least 20 characters", False,
         {"problem_statement": "Too short"}),
        ("evidence", "A stakeholder map is attached", False,
         {"evidence": "stakeholder_map", "attached": False}),
        ("approval", "The coach approves", False, {"role": "coach", "approvals": 0, "needed": 1}),
    ]
    assert [c.says for c in report.missing] == [c.says for c in report.criteria]
    assert report.as_dict()["passable"] is False

    engine.set_fields(p.id, {"problem_statement": STATEMENT})
    engine.add_evidence(p.id, "stakeholder_map", note="on the wall")
    half = engine.check(p.id, "validate")
    assert [c.met for c in half.criteria] == [True, True, False]
    assert [c.says for c in half.missing] == ["The coach approves"]
    assert half.criteria[0].seen == {"problem_statement": STATEMENT}
    assert half.criteria[1].seen == {"evidence": "stakeholder_map", "attached": True}

    engine.approve(p.id, role="coach", by="Malee")
    full = engine.check(p.id, "validate")
    assert full.passable is True
    assert full.missing == ()
    assert full.criteria[2].seen == {"role": "coach", "approvals": 1, "needed": 1}
    assert engine.check(p.id).trigger == "validate"  # the stage's first trigger
    assert [r.trigger for r in engine.checks(p.id)] == ["validate", "withdraw", "admit",
                                                          "decline"]
    assert engine.get(p.id).stage == "idea"  # checking changes nothing


def test_a_refused_gate_carries_the_report_and_writes_nothing(engine: Engine) -> None:
    p = engine.create_project(SI, "Clean Water")
    engine.set_fields(p.id, {"problem_statement": STATEMENT})
    before = _snapshot(engine, p.id)
    with pytest.raises(GateRefused) as caught:
        engine.advance(p.id, "validate", COACH)
    assert str(caught.value) == (
        f"project {p.id} cannot 'validate' from 'idea' to 'validation': missing A stakeholder "
        "map is attached; The coach approves")
    report = caught.value.report
    assert report.passable is False
    assert [c.says for c in report.missing] == ["A stakeholder map is attached",
                                                "The coach approves"]
    assert [c.met for c in report.criteria] == [True, False, False]
    assert _snapshot(engine, p.id) == before
    assert before[0].lock_version == 2


def test_advance_moves_and_records_the_transition(engine: Engine, clock: Any) -> None:
    p = _ready_to_validate(engine)
    clock.tick(days=2)
    moved = engine.advance(p.id, "validate", COACH)
    assert (moved.stage, moved.visit, moved.approvals) == ("validation", 2, {})
    assert moved.stage_entered_at == clock.now
    assert moved.lock_version == p.lock_version + 1
    assert engine.get(p.id) == moved
    event = engine.history(p.id)[-1]
    assert (event.seq, event.kind, event.actor, event.role) == (
        moved.lock_version, "advanced", "Malee", "coach")
    assert (event.from_stage, event.to_stage, event.trigger) == ("idea", "validation",
                                                                 "validate")
    assert event.payload["override"] is False
    assert [c["met"] for c in event.payload["gate"]] == [True, True, True]


def test_approvals_count_only_since_stage_entry(engine: Engine, gated: str) -> None:
    p = engine.create_project(gated, "P", fields={"n": 10})
    engine.approve(p.id, role="coach", by="Malee")
    assert engine.check(p.id, "go").passable is True
    engine.advance(p.id, "go")
    assert engine.get(p.id).approvals == {}
    back = engine.advance(p.id, "back")
    assert back.stage == "a"
    report = engine.check(p.id, "go")
    assert report.passable is False
    assert report.criteria[1].seen == {"role": "coach", "approvals": 0, "needed": 1}
    # a new visit of the stage: the same person may approve again, and it counts
    engine.approve(p.id, role="coach", by="Malee")
    assert engine.check(p.id, "go").passable is True

    si = _ready_to_validate(engine)
    engine.approve(si.id, role="committee", by="Anan")
    engine.approve(si.id, role="committee", by="Busaba")
    engine.advance(si.id, "validate")
    committee = engine.check(si.id, "start_test_run").criteria[2]
    assert committee.seen == {"role": "committee", "approvals": 0, "needed": 2}


@pytest.mark.parametrize(("entered", "ready"), [
    (datetime(2026, 1, 5, 3, tzinfo=UTC), datetime(2026, 7, 5, 3, tzinfo=UTC)),
    # calendar months: 31 Aug + 6 months is 28 Feb (181 days), not 180 or 182 days later
    (datetime(2026, 8, 31, 3, tzinfo=UTC), datetime(2027, 2, 28, 3, tzinfo=UTC)),
], ids=["jan-jul", "aug31-feb28"])
def test_min_time_in_stage_counts_calendar_months(engine: Engine, gated: str, clock: Any,
                                                  entered: datetime, ready: datetime) -> None:
    clock.now = entered
    p = engine.create_project(gated, "P")
    engine.advance(p.id, "go", BOSS, override=True, reason="set up the test")
    clock.now = entered + relativedelta(months=5)
    with pytest.raises(GateRefused) as caught:
        engine.advance(p.id, "wait")
    [criterion] = caught.value.report.criteria
    assert (criterion.kind, criterion.says, criterion.met) == (
        "min_time_in_stage", "At least 6 months in this stage", False)
    assert datetime.fromisoformat(criterion.seen["passable_at"]) == ready
    assert datetime.fromisoformat(criterion.seen["entered_at"]) == entered
    clock.now = ready - relativedelta(seconds=1)
    assert engine.check(p.id, "wait").passable is False
    clock.now = ready
    assert engine.check(p.id, "wait").passable is True
    assert engine.advance(p.id, "wait").stage == "c"


def test_min_time_in_stage_of_the_bundled_present_gate(engine: Engine, clock: Any) -> None:
    p = _ready_to_validate(engine)
    engine.advance(p.id, "validate")
    engine.set_fields(p.id, {"target_group": "farmers", "interviews_done": 10})
    engine.add_evidence(p.id, "test_plan", note="plan")
    engine.approve(p.id, role="committee", by="Anan")
    engine.approve(p.id, role="committee", by="Busaba")
    entered = clock.now
    engine.advance(p.id, "start_test_run")
    engine.add_evidence(p.id, "test_run_report", note="report")
    engine.approve(p.id, role="coach", by="Malee")
    clock.now = entered + relativedelta(months=5)
    report = engine.check(p.id, "present")
    assert [(c.kind, c.met) for c in report.criteria] == [
        ("min_time_in_stage", False), ("evidence", True), ("approval", True)]
    clock.now = entered + relativedelta(months=6)
    assert engine.advance(p.id, "present").stage == "showcase"


# triggers and roles ----------------------------------------------------------------------


def test_unknown_trigger_and_trigger_not_available(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    before = _snapshot(engine, p.id)
    with pytest.raises(NotFound) as unknown:
        engine.advance(p.id, "fly", MANAGER)
    assert str(unknown.value) == ("unknown trigger 'fly' in journey social-incubator@3; from "
                                  "stage 'idea' the triggers are: validate, withdraw, admit, "
                                  "decline")
    with pytest.raises(TriggerNotOffered) as unavailable:  # a refusal (exit 1), not bad input
        engine.advance(p.id, "present", MANAGER)
    assert str(unavailable.value) == ("trigger 'present' is not available in stage 'idea'; "
                                      "available: validate, withdraw, admit, decline")
    with pytest.raises(TriggerNotOffered,
                       match=r"not available in stage 'idea'; available: validate"):
        engine.check(p.id, "hand_off")
    assert _snapshot(engine, p.id) == before
    engine.advance(p.id, "withdraw", MANAGER)
    with pytest.raises(TriggerNotOffered) as final:
        engine.advance(p.id, "validate", MANAGER)
    assert str(final.value) == ("trigger 'validate' is not available in stage 'withdrawn'; "
                                "available: none (the stage is final)")


def test_roles_on_a_transition_are_enforced(engine: Engine) -> None:
    p = engine.create_project(SI, "P")
    before = _snapshot(engine, p.id)
    refusals = {
        "wrong role": (lambda: engine.advance(p.id, "withdraw", COACH),
                       ("trigger 'withdraw' needs one of the roles program_manager; Malee acts "
                        "as coach")),
        "anonymous": (lambda: engine.advance(p.id, "withdraw"),
                      ("trigger 'withdraw' needs one of the roles program_manager; the caller "
                       "acts as no role")),
        "role not held": (lambda: engine.advance(p.id, "withdraw", COACH,
                                                 role="program_manager"),
                          "Malee does not hold the role 'program_manager'"),
        "acting in another held role": (
            lambda: engine.advance(p.id, "withdraw",
                                   Actor("Pim", roles={"coach", "program_manager"}),
                                   role="coach"),
            "trigger 'withdraw' needs one of the roles program_manager; Pim acts as coach"),
        "anonymous with a role": (lambda: engine.advance(p.id, "withdraw", None, role="coach"),
                                  "an anonymous caller does not hold the role 'coach'"),
    }
    for name, (call, message) in refusals.items():
        with pytest.raises(PermissionDenied) as caught:
            call()
        assert str(caught.value) == message, name
        assert _snapshot(engine, p.id) == before, name
    moved = engine.advance(p.id, "withdraw", Actor("Pim", roles={"coach", "program_manager"}))
    assert moved.stage == "withdrawn"
    event = engine.history(p.id)[-1]
    assert (event.actor, event.role) == ("Pim", "program_manager")


def test_role_given_explicitly_is_recorded(engine: Engine) -> None:
    p = _ready_to_validate(engine)
    engine.advance(p.id, "validate", Actor("Pim", roles={"coach", "advisor"}), role="advisor")
    assert engine.history(p.id)[-1].role == "advisor"


# overrides -------------------------------------------------------------------------------


def test_override_needs_a_reason(engine: Engine, gated: str) -> None:
    p = engine.create_project(gated, "P")
    before = _snapshot(engine, p.id)
    for reason in (None, "", "   "):
        with pytest.raises(InvalidValue, match=r"^an override needs a reason \(--reason TEXT\)$"):
            engine.advance(p.id, "go", BOSS, override=True, reason=reason)
    assert _snapshot(engine, p.id) == before


def test_override_is_refused_for_a_role_the_journey_does_not_allow(engine: Engine,
                                                                  gated: str) -> None:
    p = engine.create_project(gated, "P")
    before = _snapshot(engine, p.id)
    for actor, role in ((COACH, None), (Actor("Both", {"boss", "coach"}), "coach"),
                        (None, None)):
        with pytest.raises(PermissionDenied) as caught:
            engine.advance(p.id, "go", actor, role=role, override=True, reason="urgent")
        assert str(caught.value) == "overriding the gate of 'go' needs one of the roles: boss"
    si = engine.create_project(SI, "P")
    with pytest.raises(PermissionDenied) as nobody:  # 'validate' names no override role
        engine.advance(si.id, "validate", MANAGER, override=True, reason="urgent")
    assert str(nobody.value) == "overriding the gate of 'validate' needs one of the roles: no role"
    assert _snapshot(engine, p.id) == before


def test_override_by_an_allowed_role_is_recorded(engine: Engine, gated: str) -> None:
    p = engine.create_project(gated, "P", fields={"n": 3})
    overrides: list[dict[str, Any]] = []
    engine.on("override", lambda **data: overrides.append(data))
    moved = engine.advance(p.id, "go", BOSS, override=True, reason="Board decision 12/2026")
    assert moved.stage == "b"
    event = engine.history(p.id)[-1]
    assert (event.kind, event.actor, event.role, event.trigger) == (
        "advanced", "Boonmee", "boss", "go")
    assert event.payload["override"] is True
    assert event.payload["reason"] == "Board decision 12/2026"
    assert event.payload["missing"] == ["At least 10", "1 approval from coach"]
    assert [(c["says"], c["met"], c["seen"]) for c in event.payload["gate"]] == [
        ("At least 10", False, {"n": 3}),
        ("1 approval from coach", False, {"role": "coach", "approvals": 0, "needed": 1})]
    [data] = overrides
    assert (data["trigger"], data["reason"], data["actor"]) == ("go", "Board decision 12/2026",
                                                                BOSS)
    assert data["project"].stage == "b"
    assert data["report"].passable is False


def test_an_override_records_the_role_that_may_override(engine: Engine, gated: str) -> None:
    # 'coach' sorts before 'boss' would not, but 'boss' is the only override role: an
    # actor holding both is recorded as overriding as boss, whatever the sort order
    p = engine.create_project(gated, "P")
    both = Actor("Malee", roles={"coach", "boss", "helper"})
    engine.advance(p.id, "go", both, override=True, reason="trusted")
    event = engine.history(p.id)[-1]
    assert (event.payload["override"], event.role) == (True, "boss")


def test_override_of_a_passable_gate_is_not_recorded_as_one(engine: Engine, gated: str) -> None:
    p = engine.create_project(gated, "P", fields={"n": 10})
    engine.approve(p.id, role="coach", by="Malee")
    engine.advance(p.id, "go", BOSS, override=True, reason="habit")
    payload = engine.history(p.id)[-1].payload
    assert payload["override"] is False
    assert "reason" not in payload


# listeners -------------------------------------------------------------------------------


def test_listeners_see_committed_changes(engine: Engine, gated: str, store_url: str) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    observer = Engine.from_url(store_url)

    def listen(kind: str) -> Any:
        def listener(**data: Any) -> None:
            project_id = data["project"].id if "project" in data else data["project_id"]
            stored = observer.get(project_id)  # another connection: sees only committed rows
            calls.append((kind, {**data, "stored": (stored.stage, stored.lock_version)}))
        return listener

    for kind in ("stage_entered", "stage_exited", "gate_refused", "override"):
        engine.on(kind, listen(kind))
    try:
        p = engine.create_project(gated, "P", fields={"n": 10})
        assert [(k, d["stage"], d["trigger"], d["stored"]) for k, d in calls] == [
            ("stage_entered", "a", None, ("a", 1))]
        calls.clear()

        with pytest.raises(GateRefused):
            engine.advance(p.id, "go", COACH)
        [(kind, data)] = calls
        assert kind == "gate_refused"
        assert (data["project_id"], data["actor"], data["stored"]) == (p.id, COACH, ("a", 1))
        assert [c.says for c in data["report"].missing] == ["1 approval from coach"]
        calls.clear()

        engine.approve(p.id, role="coach", by="Malee")
        assert calls == []  # approvals enter no stage
        engine.advance(p.id, "go", COACH)
        assert [(k, d["stage"], d["trigger"], d["actor"], d["project"].stage, d["stored"])
                for k, d in calls] == [
            ("stage_exited", "a", "go", COACH, "b", ("b", 3)),
            ("stage_entered", "b", "go", COACH, "b", ("b", 3))]
    finally:
        observer.close()


def test_unknown_listener_kind(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"unknown listener kind 'stage_left'; kinds: "):
        engine.on("stage_left", lambda **_: None)


# cohorts ---------------------------------------------------------------------------------


def test_advance_many_is_all_or_nothing(engine: Engine, gated: str) -> None:
    ready = [engine.create_project(gated, f"P{i}", fields={"n": 10}) for i in range(3)]
    for p in ready:
        engine.approve(p.id, role="coach", by="Malee")
    laggard = engine.create_project(gated, "Laggard", fields={"n": 2})
    engine.approve(laggard.id, role="coach", by="Malee")
    ids = [p.id for p in ready] + [laggard.id]
    before = {i: _snapshot(engine, i) for i in ids}
    entered: list[Any] = []
    engine.on("stage_entered", lambda **data: entered.append(data))
    with pytest.raises(GateRefused) as caught:
        engine.advance_many(ids, "go", COACH)
    assert str(caught.value) == (f"1 of 4 projects do not meet the gate of 'go'; nothing moved: "
                                 f"{laggard.id}: At least 10")
    assert caught.value.report.project == laggard.id
    assert {i: _snapshot(engine, i) for i in ids} == before
    assert entered == []

    with pytest.raises(NotFound, match=r"^no project with id 999999$"):
        engine.advance_many([ready[0].id, 999999], "go", COACH)
    with pytest.raises(PermissionDenied):
        engine.advance_many([ready[0].id, ready[1].id], "close", COACH)
    assert {i: _snapshot(engine, i) for i in ids} == before


def test_advance_many_moves_a_whole_cohort(engine: Engine, gated: str, clock: Any) -> None:
    cohort = [engine.create_project(gated, f"P{i}", cohort="2026A", fields={"n": 10})
              for i in range(5)]
    for p in cohort:
        engine.approve(p.id, role="coach", by="Malee")
    clock.tick(days=1)
    ids = [p.id for p in reversed(cohort)] + [cohort[0].id]  # order kept, duplicates once
    moved = engine.advance_many(ids, "go", COACH)
    assert [p.id for p in moved] == ids[:-1]
    assert {p.stage for p in moved} == {"b"}
    for p in cohort:
        stored = engine.get(p.id)
        assert (stored.stage, stored.lock_version, stored.stage_entered_at) == (
            "b", 3, clock.now)
        events = engine.history(p.id)
        assert [e.seq for e in events] == [1, 2, 3]
        assert (events[-1].kind, events[-1].trigger, events[-1].role) == (
            "advanced", "go", "coach")
    assert [p.name for p in engine.list_projects(stage="b")] == [p.name for p in cohort]


# journey versions ------------------------------------------------------------------------

PINNED_V1 = """\
journey: pinned
version: 1
roles: [coach]
fields:
  n: {type: int, default: 0}
  legacy: {type: string, default: "old"}
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
  review: {}
  done: {final: true}
transitions:
  - {trigger: begin, from: intake, to: middle}
  - {trigger: submit, from: middle, to: review}
  - {trigger: finish, from: review, to: done}
"""


def test_projects_stay_pinned_to_their_journey_version(engine: Engine) -> None:
    assert engine.publish(PINNED_V1) == ("pinned", 1)
    old = engine.create_project("pinned", "Old")
    assert (old.version, old.stage) == (1, "start")
    assert engine.publish(PINNED_V2) == ("pinned", 2)
    new = engine.create_project("pinned", "New")
    assert (new.version, new.stage, new.fields) == (2, "intake", {"n": 0})
    explicit = engine.create_project("pinned@1", "Explicit")
    assert explicit.version == 1
    assert engine.get(old.id).version == 1
    moved = engine.advance(old.id, "go")  # v1's trigger, absent from v2
    assert (moved.version, moved.stage) == (1, "middle")
    assert engine.advance(old.id, "finish").stage == "done"  # v1: middle -> done
    with pytest.raises(NotFound, match=r"unknown trigger 'go' in journey pinned@2"):
        engine.advance(new.id, "go")
    assert engine.advance(new.id, "begin").version == 2
    assert sorted((j["journey"], j["version"]) for j in engine.list_journeys()
                  if j["journey"] == "pinned") == [("pinned", 1), ("pinned", 2)]


def test_publishing_is_idempotent_and_versions_never_change(engine: Engine) -> None:
    engine.publish(PINNED_V1)
    listed = engine.list_journeys()
    assert engine.publish(PINNED_V1) == ("pinned", 1)
    assert engine.list_journeys() == listed
    with pytest.raises(ConflictError) as caught:
        engine.publish(PINNED_V1.replace('"old"', '"older"'))
    assert str(caught.value) == ("journey pinned@1 is already published with different "
                                 "content; a published version never changes: give it a new "
                                 "version")
    assert engine.list_journeys() == listed
    assert engine.journey("pinned", 1).fields["legacy"].default == "old"


def test_migrate_dry_run_then_with_a_map(engine: Engine, clock: Any) -> None:
    engine.publish(PINNED_V1)
    engine.publish(PINNED_V2)
    p = engine.create_project("pinned@1", "P", fields={"n": 4})
    before = _snapshot(engine, p.id)
    expected = {"project": p.id, "from_version": 1, "to_version": 2, "from_stage": "start",
                "to_stage": "intake", "dropped_fields": ["legacy"], "fields": {"n": 4}}
    plan = engine.migrate(p.id, 2, {"start": "intake"}, dry_run=True)
    assert plan == {**expected, "dry_run": True}
    assert _snapshot(engine, p.id) == before

    clock.tick(days=1)
    done = engine.migrate(p.id, 2, {"start": "intake"}, actor=MANAGER)
    assert done == {**expected, "dry_run": False}
    stored = engine.get(p.id)
    assert (stored.version, stored.stage, stored.fields) == (2, "intake", {"n": 4})
    assert (stored.lock_version, stored.stage_entered_at) == (2, clock.now)
    event = engine.history(p.id)[-1]
    assert (event.kind, event.actor, event.from_stage, event.to_stage) == (
        "migrated", "Pranee", "start", "intake")
    assert engine.advance(p.id, "begin").stage == "middle"


def test_migrate_keeps_a_stage_that_exists_in_both_versions(engine: Engine) -> None:
    engine.publish(PINNED_V1)
    engine.publish(PINNED_V2)
    p = engine.create_project("pinned@1", "P")
    engine.advance(p.id, "go")
    plan = engine.migrate(p.id, 2)
    assert (plan["from_stage"], plan["to_stage"]) == ("middle", "middle")
    stored = engine.get(p.id)
    assert (stored.version, stored.stage) == (2, "middle")
    assert engine.advance(p.id, "submit").stage == "review"


def test_migrate_refuses_a_stage_without_counterpart_and_writes_nothing(engine: Engine) -> None:
    engine.publish(PINNED_V1)
    engine.publish(PINNED_V2)
    p = engine.create_project("pinned@1", "P")
    before = _snapshot(engine, p.id)
    for dry_run in (True, False):
        with pytest.raises(ConflictError) as caught:
            engine.migrate(p.id, 2, dry_run=dry_run)
        assert str(caught.value) == (
            f"cannot migrate project {p.id}: stage 'start' has no counterpart in pinned@2; map "
            "it with --map start=NEW (stages: intake, middle, review, done)")
        with pytest.raises(ConflictError) as both:
            engine.migrate(p.id, 2, {"middle": "nowhere"}, dry_run=dry_run)
        assert str(both.value) == (
            f"cannot migrate project {p.id}: --map names stage 'middle' which pinned@2 lacks "
            "as target 'nowhere'; stage 'start' has no counterpart in pinned@2; map it with "
            "--map start=NEW (stages: intake, middle, review, done)")
        assert _snapshot(engine, p.id) == before
    with pytest.raises(NotFound, match=r"^unknown journey 'pinned@3'"):
        engine.migrate(p.id, 3, {"start": "intake"})
    assert _snapshot(engine, p.id) == before
