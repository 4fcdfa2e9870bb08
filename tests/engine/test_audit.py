"""The audit: a clean database audits clean, and each invariant broken by hand is reported.

Every test runs on a SQLite file and on a PostgreSQL schema (``store_url``). The
database is built through the engine and the dispatcher, then corrupted with direct
SQL (``UPDATE``/``DELETE``, one ``INSERT``), and the audit must report exactly the
invariant that was broken, on the right project, event or follow-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bompao import AuditReport, audit
from bompao.engine import Actor, Engine
from bompao.engine.audit import INVARIANTS, Finding
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.errors import UsageError
from bompao.storage import Database
from bompao.storage.tables import events, follow_ups, projects

AUDITED = """\
journey: audited
version: 1
roles: [coach, boss]
fields:
  n: {type: int, default: 0}
evidence:
  doc: {title: {en: A document}}
stages:
  a:
    initial: true
    follow_ups:
      - {id: ping, after: 0 days, action: notify, to: [coach]}
      - {id: mark, after: 0 days, action: flag, flag: seen}
      - {id: later, after: 30 days, action: notify, to: [coach]}
  b:
    follow_ups:
      - {id: remind, after: 10 days, action: notify, to: [coach]}
      - {id: auto_finish, after: 2 days, action: transition, trigger: finish}
  quiet: {final: true}
  end: {final: true}
transitions:
  - trigger: go
    from: a
    to: b
    override_roles: [boss]
    gate:
      all:
        - expr: "n >= 10"
          says: {en: At least 10}
        - any:
            - evidence: doc
            - approval: {role: coach}
  - {trigger: hush, from: a, to: quiet}
  - {trigger: finish, from: b, to: end, gate: {expr: "n >= 20"}}
"""
"""Gated (with an ``any``), overridable, with internal, external and transition follow-ups."""

AUDITED_V2 = AUDITED.replace("version: 1", "version: 2").replace(
    "  n: {type: int, default: 0}\n",
    "  n: {type: int, default: 0}\n  m: {type: int, default: 1}\n")
"""Version 2 adds a field: a migration to it keeps the stage."""

BARE = """\
journey: bare
version: 1
stages:
  s: {initial: true}
  t: {final: true}
transitions:
  - {trigger: done, from: s, to: t}
"""
"""No follow-ups, no gates: a project that is only created."""

COACH = Actor("Malee", roles={"coach"})
BOSS = Actor("Pranee", roles={"boss"})


def build(engine: Engine, clock: Any) -> dict[str, int]:
    """A small database with every kind of event and follow-up outcome; the project ids."""
    engine.publish(AUDITED)
    engine.publish(AUDITED_V2)
    engine.publish(BARE)
    ids: dict[str, int] = {}
    moved = engine.create_project("audited@1", "Moved", partner="cmu", cohort="2027A")
    ids["moved"] = moved.id
    engine.set_fields(moved.id, {"n": 12})
    engine.add_evidence(moved.id, "doc", url="https://example.org/doc", actor=COACH)
    engine.assign(moved.id, role="coach", person="Malee")
    engine.approve(moved.id, role="coach", by="Malee")
    ids["forced"] = engine.create_project("audited@1", "Forced").id
    ids["quiet"] = engine.create_project("audited@1", "Quiet").id
    ids["finished"] = engine.create_project("audited@1", "Finished", fields={"n": 25}).id
    ids["migrated"] = engine.create_project("audited@1", "Migrated").id
    ids["bare"] = engine.create_project("bare", "Bare").id
    clock.tick(hours=1)
    dispatcher = Dispatcher(engine, Config(daemon_name="auditor-test"))
    assert dispatcher.run_due().done == 10  # ping and mark of the five audited projects
    clock.tick(hours=1)
    engine.advance(moved.id, "go", COACH)
    engine.advance(ids["forced"], "go", BOSS, override=True, reason="trusted")
    engine.advance(ids["quiet"], "hush", COACH)
    engine.advance(ids["finished"], "go", BOSS, override=True, reason="fast track")
    engine.migrate(ids["migrated"], 2)
    engine.flag(ids["migrated"], "watch")
    clock.tick(days=3)
    result = dispatcher.run_due()  # auto_finish: refused for moved (n 12), forced (n 0)
    assert (result.done, result.refused) == (1, 2), result.as_dict()
    return ids


@pytest.fixture
def ids(engine: Engine, clock: Any) -> dict[str, int]:
    """The projects of :func:`build`."""
    return build(engine, clock)


def sql(engine: Engine, statement: Any) -> None:
    """Run one corrupting statement."""
    with engine.db.begin() as conn:
        conn.execute(statement)


def event_of(engine: Engine, project: int,
             where: Callable[[Any], bool] = lambda _: True, kind: str | None = None) -> Any:
    """The first event of ``project`` (of ``kind``) that ``where`` accepts."""
    query = sa.select(events).where(events.c.project_id == project).order_by(events.c.seq)
    if kind is not None:
        query = query.where(events.c.kind == kind)
    with engine.db.begin(write=False) as conn:
        return next(r for r in conn.execute(query) if where(r))


def follow_up_of(engine: Engine, project: int, spec: str) -> Any:
    """The first follow-up row of ``project`` named ``spec``."""
    with engine.db.begin(write=False) as conn:
        return conn.execute(sa.select(follow_ups).where(
            follow_ups.c.project_id == project, follow_ups.c.spec == spec)
            .order_by(follow_ups.c.id)).first()


def set_payload(engine: Engine, event: Any, payload: dict[str, Any]) -> None:
    sql(engine, sa.update(events).where(events.c.id == event.id).values(payload=payload))


def found(report: AuditReport) -> list[tuple[str, int | None]]:
    """(invariant, project) of every violation, sorted."""
    return sorted((f.invariant, f.project) for f in report.violations)


def only(report: AuditReport, invariant: str) -> list[Finding]:
    """The violations, checked to all be of ``invariant``."""
    assert report.violations, report.summary()
    assert {f.invariant for f in report.violations} == {invariant}, report.summary()
    assert report.counts[invariant] == len(report.violations)
    assert not report.ok
    return report.violations


# a clean database ----------------------------------------------------------------------


def test_an_empty_database_audits_clean(db: Database) -> None:
    report = audit(db)
    assert report.ok
    assert report.violations == report.warnings == []
    assert report.checked["projects"] == 0
    assert "violations: 0, warnings: 0" in report.summary()


def test_a_database_built_by_the_engine_and_dispatcher_audits_clean(
        engine: Engine, ids: dict[str, int]) -> None:
    for report in (audit(engine), audit(engine.db)):
        assert report.ok, report.summary()
        assert report.violations == report.warnings == []
        checked = report.checked
        assert checked["projects"] == len(ids) == 6
        with engine.db.begin(write=False) as conn:
            assert checked["events"] == conn.scalar(sa.select(sa.func.count()).select_from(
                events))
            assert checked["follow_ups"] == conn.scalar(
                sa.select(sa.func.count()).select_from(follow_ups))
        # moved's go (passed through the "any"), finished's finish by the dispatcher
        assert (checked["transitions"], checked["overrides"]) == (3, 2)
        assert checked["runs"] == 13  # 10 pings and marks, 3 auto_finish
        assert checked["pending"] > 0
        assert checked["journeys"] == 3
        assert report.as_dict()["ok"] is True
    assert engine.get(ids["finished"]).stage == "end"
    assert engine.get(ids["migrated"]).version == 2


def test_the_audit_reads_in_batches_and_sees_every_project(
        engine: Engine, ids: dict[str, int]) -> None:
    whole = audit(engine, batch=500)
    for size in (1, 2, 4):
        assert audit(engine, batch=size).checked == whole.checked
    sql(engine, sa.update(projects).values(lock_version=projects.c.lock_version + 1))
    report = audit(engine, batch=4)
    assert found(report) == sorted(("seq", i) for i in ids.values())  # all, not the first
    capped = audit(engine, batch=2, max_findings=2)
    assert len(capped.violations) == 2
    assert capped.counts["seq"] == capped.violation_count == len(ids)


def test_bad_arguments_are_refused(engine: Engine) -> None:
    with pytest.raises(UsageError, match="batch must be at least 1"):
        audit(engine, batch=0)
    with pytest.raises(UsageError, match="aware time"):
        audit(engine, now=engine.now().replace(tzinfo=None))
    with pytest.raises(UsageError, match="grace must not be negative"):
        audit(engine, grace=timedelta(seconds=-1))
    with pytest.raises(UsageError, match="needs a Database or an Engine"):
        audit("sqlite:///x.db")


# each invariant, broken by hand --------------------------------------------------------


def test_a_stage_not_in_the_pinned_journey_version(engine: Engine, ids: dict[str, int]) -> None:
    bare = ids["bare"]
    created = event_of(engine, bare, kind="created")
    # stored and logged alike, so only the stage invariant can see it
    sql(engine, sa.update(projects).where(projects.c.id == bare).values(stage="nowhere"))
    sql(engine, sa.update(events).where(events.c.id == created.id).values(to_stage="nowhere"))
    [finding] = only(audit(engine), "stage")
    assert finding.project == bare
    assert finding.message == "stage 'nowhere' is not a stage of bare@1; stages: s, t"

    # a version that was never published
    sql(engine, sa.update(projects).where(projects.c.id == bare).values(
        stage="s", journey_version=7))
    set_payload(engine, created, {**created.payload, "version": 7})
    sql(engine, sa.update(events).where(events.c.id == created.id).values(to_stage="s"))
    [finding] = only(audit(engine.db), "stage")
    assert (finding.project, finding.message) == (bare, "journey bare@7 is not published")


def test_a_stage_changed_in_the_row_alone_breaks_the_stage_and_the_replay(
        engine: Engine, ids: dict[str, int]) -> None:
    sql(engine, sa.update(projects).where(projects.c.id == ids["bare"]).values(stage="nowhere"))
    report = audit(engine)
    assert found(report) == [("replay", ids["bare"]), ("stage", ids["bare"])]
    [replayed] = [f for f in report.violations if f.invariant == "replay"]
    assert replayed.message == "stage is stored as 'nowhere' but the events say 's'"


def test_a_stored_state_that_the_events_do_not_rebuild(
        engine: Engine, ids: dict[str, int]) -> None:
    moved = ids["moved"]
    sql(engine, sa.update(projects).where(projects.c.id == moved).values(
        fields={"n": 99}, flags=[]))
    findings = only(audit(engine), "replay")
    assert sorted(f.message for f in findings) == [
        "fields is stored as {'n': 99} but the events say {'n': 12}",
        "flags is stored as [] but the events say ['seen']"]
    assert {f.project for f in findings} == {moved}


def test_a_replay_difference_in_the_log_itself(engine: Engine, ids: dict[str, int]) -> None:
    quiet = ids["quiet"]
    hush = event_of(engine, quiet, kind="advanced")
    # the log says the project went somewhere else than the row says
    sql(engine, sa.update(events).where(events.c.id == hush.id).values(to_stage="a"))
    report = audit(engine)
    assert found(report) == [("gate", quiet), ("replay", quiet)]
    messages = sorted(f.message for f in report.violations)
    assert messages == [
        "'hush' from 'a' leads to 'quiet' in audited@1, not 'a'",
        "stage is stored as 'quiet' but the events say 'a'"]


def test_a_transition_whose_recorded_gate_was_not_met(
        engine: Engine, ids: dict[str, int]) -> None:
    moved = ids["moved"]
    go = event_of(engine, moved, kind="advanced")
    assert go.payload["override"] is False
    gate = [dict(c) for c in go.payload["gate"]]
    assert [c["kind"] for c in gate] == ["expr", "evidence", "approval"]
    assert all(c["met"] for c in gate)
    # one branch of the "any" unmet: the gate still passed
    set_payload(engine, go, {**go.payload, "gate": [gate[0], {**gate[1], "met": False},
                                                    gate[2]]})
    assert audit(engine).ok
    # the "all" unmet: it did not
    set_payload(engine, go, {**go.payload, "gate": [{**gate[0], "met": False}, *gate[1:]]})
    [finding] = only(audit(engine), "gate")
    assert (finding.project, finding.seq) == (moved, go.seq)
    assert finding.message == ("'go' (a -> b) fired without an override while its gate was "
                               "not met: At least 10")
    # criteria that do not fit the journey's gate
    set_payload(engine, go, {**go.payload, "gate": gate[:2]})
    [finding] = only(audit(engine), "gate")
    assert "do not fit the gate of audited@1: fewer criteria recorded" in finding.message


def test_an_override_is_not_gate_checked_but_a_system_transition_is(
        engine: Engine, ids: dict[str, int]) -> None:
    finish = event_of(engine, ids["finished"], lambda e: e.trigger == "finish",
                      kind="advanced")
    assert (finish.actor, finish.payload["follow_up"]) == ("system", True)
    forced = event_of(engine, ids["forced"], kind="advanced")
    assert forced.payload["override"] is True
    assert not all(c["met"] for c in forced.payload["gate"])
    set_payload(engine, finish, {**finish.payload, "gate": [
        {**c, "met": False} for c in finish.payload["gate"]]})
    [finding] = only(audit(engine), "gate")
    assert (finding.project, finding.seq) == (ids["finished"], finish.seq)


def test_a_lock_version_that_is_not_the_last_seq(engine: Engine, ids: dict[str, int]) -> None:
    quiet = ids["quiet"]
    lock = engine.get(quiet).lock_version
    sql(engine, sa.update(projects).where(projects.c.id == quiet).values(
        lock_version=lock + 1))
    [finding] = only(audit(engine), "seq")
    assert (finding.project, finding.message) == (
        quiet, f"lock_version is {lock + 1} but the last event is seq {lock}")


def test_a_gap_in_the_event_seqs(engine: Engine, ids: dict[str, int]) -> None:
    moved = ids["moved"]
    # the approval before the advance: the replayed state is the same without it
    approved = event_of(engine, moved, kind="approved")
    sql(engine, sa.delete(events).where(events.c.id == approved.id))
    [finding] = only(audit(engine), "seq")
    last = engine.get(moved).lock_version
    assert (finding.project, finding.message) == (
        moved, f"event seqs are not 1..{last - 1}: missing {approved.seq}")


def test_a_pending_follow_up_of_an_earlier_stage_visit(
        engine: Engine, ids: dict[str, int]) -> None:
    moved = ids["moved"]
    later = follow_up_of(engine, moved, "later")
    assert (later.status, later.visit) == ("cancelled", 1)
    sql(engine, sa.update(follow_ups).where(follow_ups.c.id == later.id).values(
        status="pending"))
    [finding] = only(audit(engine), "pending")
    assert (finding.project, finding.follow_up) == (moved, later.id)
    assert finding.message == ("pending 'later' (occurrence 0) belongs to visit 1 of stage "
                               "'a', but the project is on visit 2 of 'b'")


def test_a_pending_follow_up_the_stage_does_not_declare_or_planned_twice(
        engine: Engine, ids: dict[str, int]) -> None:
    moved = ids["moved"]
    remind = follow_up_of(engine, moved, "remind")
    assert remind.status == "pending"
    sql(engine, sa.update(follow_ups).where(follow_ups.c.id == remind.id).values(spec="gone"))
    [finding] = only(audit(engine), "pending")
    assert finding.message == "pending 'gone' is not a follow-up of stage 'b' in audited@1"
    auto = follow_up_of(engine, moved, "auto_finish")
    assert auto.status == "done"
    sql(engine, sa.update(follow_ups).where(follow_ups.c.id == remind.id).values(
        spec="remind"))
    sql(engine, sa.update(follow_ups).where(follow_ups.c.id == auto.id).values(
        spec="remind", status="pending"))
    report = audit(engine)
    assert found(report) == [("pending", moved), ("run_record", moved)]
    [twice] = [f for f in report.violations if f.invariant == "pending"]
    assert "a second pending 'remind' in this stage visit" in twice.message


def test_a_follow_up_occurrence_that_ran_twice(engine: Engine, ids: dict[str, int]) -> None:
    quiet = ids["quiet"]
    run = event_of(engine, quiet, lambda e: e.payload["spec"] == "ping", kind="follow_up")
    lock = engine.get(quiet).lock_version
    # the run recorded once more, at the end of a gap-free log
    sql(engine, sa.insert(events).values(
        project_id=quiet, seq=lock + 1, kind="follow_up", at=run.at, actor=run.actor,
        from_stage=run.from_stage, payload=dict(run.payload)))
    sql(engine, sa.update(projects).where(projects.c.id == quiet).values(
        lock_version=lock + 1))
    [finding] = only(audit(engine), "ran_twice")
    assert (finding.project, finding.follow_up) == (quiet, run.payload["follow_up"])
    assert finding.message == f"'ping' occurrence 0 ran 2 times (events {run.seq}, {lock + 1})"


def test_run_events_that_disagree_with_their_follow_ups(
        engine: Engine, ids: dict[str, int]) -> None:
    quiet = ids["quiet"]
    run = event_of(engine, quiet, lambda e: e.payload["spec"] == "ping", kind="follow_up")
    set_payload(engine, run, {**run.payload, "outcome": "failed"})
    [finding] = only(audit(engine), "run_record")
    assert (finding.project, finding.follow_up, finding.seq) == (
        quiet, run.payload["follow_up"], run.seq)
    assert finding.message == "done but its run event says outcome 'failed'"
    set_payload(engine, run, dict(run.payload))
    assert audit(engine).ok
    # done without ever running
    remind = follow_up_of(engine, ids["moved"], "remind")
    sql(engine, sa.update(follow_ups).where(follow_ups.c.id == remind.id).values(
        status="done"))
    [finding] = only(audit(engine), "run_record")
    assert (finding.follow_up, finding.message) == (remind.id, "done without a run event")


def test_a_follow_up_stuck_running_is_a_warning(
        engine: Engine, ids: dict[str, int], clock: Any) -> None:
    remind = follow_up_of(engine, ids["moved"], "remind")
    sql(engine, sa.update(follow_ups).where(follow_ups.c.id == remind.id).values(
        status="running", lease_owner="gone-daemon", lease_until=clock.now - timedelta(hours=1),
        attempts=1))
    report = audit(engine)
    assert report.ok, report.summary()
    [warning] = report.warnings
    assert (warning.invariant, warning.project, warning.follow_up) == (
        "stuck_running", ids["moved"], remind.id)
    assert "owner 'gone-daemon', 1 attempts" in warning.message
    assert report.counts["stuck_running"] == report.warning_count == 1
    # within the grace, a lease that just ended is the dispatcher's business
    assert audit(engine, grace=timedelta(hours=2)).warnings == []
    assert audit(engine, now=clock.now - timedelta(hours=2)).warnings == []


def test_stage_visits_that_disagree_with_the_log(engine: Engine, ids: dict[str, int]) -> None:
    """The visits the reports read live in the events that end them
    (``from_entered_at``): one that begins at another time, one lost, and one held by
    an event that ends no visit are each found."""
    moved, quiet, bare = ids["moved"], ids["quiet"], ids["bare"]
    go = event_of(engine, moved, kind="advanced")
    hush = event_of(engine, quiet, kind="advanced")
    created = event_of(engine, bare, kind="created")
    with engine.db.begin(write=False) as conn:
        began = conn.execute(sa.select(events.c.from_entered_at)
                             .where(events.c.id == go.id)).scalar_one()
    assert began is not None
    sql(engine, sa.update(events).where(events.c.id == go.id).values(
        from_entered_at=began + timedelta(days=1)))
    sql(engine, sa.update(events).where(events.c.id == hush.id).values(from_entered_at=None))
    sql(engine, sa.update(events).where(events.c.id == created.id).values(
        from_entered_at=created.at))
    findings = only(audit(engine), "visits")
    assert sorted(f.project for f in findings) == sorted([moved, quiet, bare])
    assert all("stage visits disagree with the log at entry seq" in f.message
               for f in findings)


def test_every_invariant_has_a_name_and_a_description() -> None:
    assert set(INVARIANTS) == {"stage", "replay", "gate", "seq", "pending", "ran_twice",
                               "run_record", "visits"}
    assert all(INVARIANTS.values())
