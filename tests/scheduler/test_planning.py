"""Planning follow-ups: what entering, leaving and editing a project schedules.

Due times are checked as the ISO 8601 text ``Engine.list_follow_ups`` shows (in the
journey's timezone, Asia/Bangkok, +07:00), so each expectation reads as the local
wall-clock time a coach would see. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import holidays
import pytest
from scheduler.peers import MutableClock

from bompao import audit
from bompao.engine import Engine
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.errors import GateRefused

RHYTHM = """\
journey: rhythm
version: 1
title: {en: Rhythm}
timezone: Asia/Bangkok
calendar: TH
roles: [coach]
fields:
  demo_day: {type: date}
  n: {type: int, default: 0}
  note: {type: string, default: ""}
stages:
  idea:
    initial: true
    follow_ups:
      - {id: check_in, after: 14 days, action: notify, to: [coach]}
      - {id: month_end, after: 1 month, action: notify, to: [coach]}
      - {id: paperwork, after: 3 business days, action: flag, flag: late_paperwork}
      - {id: demo, at: demo_day, action: notify, to: [coach]}
  validation:
    follow_ups:
      - {id: fortnightly, every: 2 weeks, action: notify, to: [coach]}
      - {id: monthly, every: 1 month, action: notify, to: [coach]}
      - {id: give_up, after: 90 days, action: flag, flag: at_risk}
  done: {final: true}
transitions:
  - {trigger: validate, from: idea, to: validation, gate: {expr: "n >= 1"}}
  - {trigger: back, from: validation, to: idea}
  - {trigger: finish, from: validation, to: done}
"""

BKK = "+07:00"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rows(engine: Engine, project: int, status: str | None = None) -> list[dict[str, Any]]:
    return engine.list_follow_ups(project=project, status=status, limit=None)


def by_spec(engine: Engine, project: int, status: str = "pending") -> dict[str, dict[str, Any]]:
    found = rows(engine, project, status)
    result = {r["spec"]: r for r in found}
    assert len(result) == len(found), f"two {status} rows for one spec: {found}"
    return result


@pytest.fixture
def rhythm(engine: Engine) -> str:
    return engine.publish(RHYTHM)[0]


def test_entering_the_initial_stage_plans_each_follow_up_in_local_time(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    clock.now = utc(2027, 1, 31, 3, 0)  # Sunday 31 January 2027, 10:00 in Bangkok
    project = engine.create_project(rhythm, "Clinic", fields={"demo_day": "2027-03-10"})
    planned = by_spec(engine, project.id)
    assert {spec: r["due_at"] for spec, r in planned.items()} == {
        "check_in": "2027-02-14T10:00:00+07:00",
        "month_end": "2027-02-28T10:00:00+07:00",   # 31 January + 1 month: end of February
        "paperwork": "2027-02-03T10:00:00+07:00",   # Mon, Tue, Wed: the weekend does not count
        "demo": "2027-03-10T00:00:00+07:00",        # at: a date field = local midnight
    }
    for spec, row in planned.items():
        assert row["stage"] == "idea", spec
        assert row["occurrence"] == 0, spec
        assert row["attempts"] == 0, spec
        assert row["action"] == {"paperwork": "flag"}.get(spec, "notify")
        assert row["idempotency_key"]
    assert len({r["idempotency_key"] for r in planned.values()}) == 4
    # the same instant in UTC, for the record
    assert datetime.fromisoformat(planned["demo"]["due_at"]) == utc(2027, 3, 9, 17, 0)


def test_months_fall_on_the_last_day_of_shorter_months_and_leap_februaries(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    clock.now = utc(2028, 1, 31, 3, 0)
    leap = engine.create_project(rhythm, "Leap")
    assert by_spec(engine, leap.id)["month_end"]["due_at"] == "2028-02-29T10:00:00+07:00"
    clock.now = utc(2027, 8, 31, 3, 0)
    september = engine.create_project(rhythm, "Thirty")
    assert by_spec(engine, september.id)["month_end"]["due_at"] == "2027-09-30T10:00:00+07:00"


def test_month_arithmetic_happens_on_the_local_calendar_not_on_utc(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    # 28 February 20:00 UTC is already 1 March 03:00 in Bangkok: one month later is
    # 1 April locally (31 March 20:00 UTC), where UTC arithmetic would say 28 March.
    clock.now = utc(2027, 2, 28, 20, 0)
    project = engine.create_project(rhythm, "Late night")
    row = by_spec(engine, project.id)["month_end"]
    assert row["due_at"] == "2027-04-01T03:00:00+07:00"
    assert datetime.fromisoformat(row["due_at"]) == utc(2027, 3, 31, 20, 0)


def test_business_days_count_from_the_local_date(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    # Friday 8 January 20:00 UTC is Saturday 9 January 03:00 in Bangkok: three business
    # days on from a Saturday are Monday, Tuesday, Wednesday (13 January), at 03:00.
    clock.now = utc(2027, 1, 8, 20, 0)
    project = engine.create_project(rhythm, "Weekend start")
    assert by_spec(engine, project.id)["paperwork"]["due_at"] == "2027-01-13T03:00:00+07:00"


SONGKRAN_2027 = [date(2027, 4, 13), date(2027, 4, 14), date(2027, 4, 15)]
CHAKRI_2027 = date(2027, 4, 6)


@pytest.mark.parametrize(("entered", "count", "due"), [
    # Monday 12 April 2027; Songkran is Tuesday 13 to Thursday 15 April
    ("2027-04-12T10:00:00+07:00", 1, "2027-04-16T10:00:00+07:00"),
    ("2027-04-12T10:00:00+07:00", 2, "2027-04-19T10:00:00+07:00"),
    # Friday 9 April: the weekend, Monday 12, three days of Songkran, Friday 16, Monday 19
    ("2027-04-09T10:00:00+07:00", 3, "2027-04-19T10:00:00+07:00"),
    # Friday 2 April: the weekend, Monday 5, then Chakri Day (Tuesday 6 April) is skipped
    ("2027-04-02T10:00:00+07:00", 2, "2027-04-07T10:00:00+07:00"),
    # on a plain week nothing is skipped
    ("2027-03-01T10:00:00+07:00", 4, "2027-03-05T10:00:00+07:00"),
], ids=["songkran-1", "songkran-2", "weekend-and-songkran-3", "chakri-day-2", "plain-week-4"])
def test_business_days_skip_weekends_and_thai_public_holidays(
        engine: Engine, clock: MutableClock, entered: str, count: int, due: str) -> None:
    thai = holidays.country_holidays("TH", years=2027)
    assert all(day in thai for day in [*SONGKRAN_2027, CHAKRI_2027])  # why the dates skip
    key = engine.publish(f"""\
journey: paperwork-{count}
version: 1
calendar: TH
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
      - {{id: remind, after: {count} business days, action: notify, to: [coach]}}
  b: {{final: true}}
transitions:
  - {{trigger: go, from: a, to: b}}
""")[0]
    clock.now = datetime.fromisoformat(entered)
    project = engine.create_project(key, "Songkran")
    assert by_spec(engine, project.id)["remind"]["due_at"] == due


def test_a_bundled_journey_plans_the_idea_check_in_fourteen_days_out(
        engine: Engine, clock: MutableClock) -> None:
    project = engine.create_project("social-incubator", "Bundled")
    planned = by_spec(engine, project.id)
    assert list(planned) == ["idea_check_in"]
    assert planned["idea_check_in"]["due_at"] == "2027-01-18T10:00:00+07:00"
    assert planned["idea_check_in"]["action"] == "notify"


def test_an_at_follow_up_waits_for_its_date_field(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    project = engine.create_project(rhythm, "No date yet")
    assert "demo" not in by_spec(engine, project.id)
    engine.set_fields(project.id, {"demo_day": "2027-06-01"})
    demo = by_spec(engine, project.id)["demo"]
    assert demo["due_at"] == "2027-06-01T00:00:00+07:00"
    assert demo["occurrence"] == 0


def test_advancing_cancels_the_old_stages_pending_follow_ups_and_plans_the_new_ones(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    project = engine.create_project(rhythm, "Mover", fields={"n": 1, "demo_day": "2027-03-10"})
    before = by_spec(engine, project.id)
    clock.tick(days=2, hours=5)
    moved_at = clock.now
    engine.advance(project.id, "validate")
    cancelled = by_spec(engine, project.id, "cancelled")
    assert set(cancelled) == set(before) == {"check_in", "month_end", "paperwork", "demo"}
    for spec, row in cancelled.items():
        assert row["id"] == before[spec]["id"]
        assert datetime.fromisoformat(row["finished_at"]) == moved_at
    pending = by_spec(engine, project.id)
    assert {spec: r["due_at"] for spec, r in pending.items()} == {
        "fortnightly": "2027-01-20T15:00:00+07:00",   # entered 6 January 15:00 local
        "monthly": "2027-02-06T15:00:00+07:00",
        "give_up": "2027-04-06T15:00:00+07:00",
    }
    assert all(r["stage"] == "validation" for r in pending.values())
    # coming back to idea is a new visit: fresh due times and fresh idempotency keys
    clock.tick(days=1)
    engine.advance(project.id, "back")
    again = by_spec(engine, project.id)
    assert set(again) == {"check_in", "month_end", "paperwork", "demo"}
    assert again["check_in"]["due_at"] == "2027-01-21T15:00:00+07:00"
    assert again["demo"]["due_at"] == "2027-03-10T00:00:00+07:00"
    old_keys = {r["idempotency_key"] for r in before.values()}
    assert not old_keys & {r["idempotency_key"] for r in again.values()}
    cancelled_now = rows(engine, project.id, "cancelled")
    assert sorted(r["spec"] for r in cancelled_now) == sorted(
        ["check_in", "month_end", "paperwork", "demo", "fortnightly", "monthly", "give_up"])


def test_a_refused_advance_cancels_nothing(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    project = engine.create_project(rhythm, "Not ready", fields={"demo_day": "2027-03-10"})
    before = rows(engine, project.id)
    clock.tick(days=1)
    with pytest.raises(GateRefused):
        engine.advance(project.id, "validate")
    assert rows(engine, project.id) == before
    assert engine.get(project.id).stage == "idea"


def test_cancelling_and_planning_share_the_advance_transaction(
        engine: Engine, rhythm: str, clock: MutableClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    project = engine.create_project(rhythm, "Atomic", fields={"n": 1})
    before = rows(engine, project.id)
    events = len(engine.history(project.id))

    def broken_plan(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk full while planning")

    # the pending follow-ups are cancelled before the new stage's are planned; a failure
    # in planning must roll the cancel (and the stage change) back with it
    monkeypatch.setattr(engine.hot, "plan", broken_plan)
    clock.tick(days=1)
    with pytest.raises(RuntimeError, match="disk full"):
        engine.advance(project.id, "validate")
    monkeypatch.undo()
    assert rows(engine, project.id) == before
    assert all(r["status"] == "pending" for r in before)
    assert engine.get(project.id).stage == "idea"
    assert len(engine.history(project.id)) == events
    engine.advance(project.id, "validate")
    assert engine.get(project.id).stage == "validation"


def test_changing_the_date_field_re_plans_the_at_follow_up(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    project = engine.create_project(rhythm, "Demo", fields={"demo_day": "2027-03-10"})
    first = by_spec(engine, project.id)
    clock.tick(days=3)
    engine.set_fields(project.id, {"demo_day": "2027-04-21"})
    cancelled = by_spec(engine, project.id, "cancelled")
    assert list(cancelled) == ["demo"]
    assert cancelled["demo"]["id"] == first["demo"]["id"]
    assert cancelled["demo"]["due_at"] == "2027-03-10T00:00:00+07:00"
    now = by_spec(engine, project.id)
    assert now["demo"]["due_at"] == "2027-04-21T00:00:00+07:00"
    assert now["demo"]["id"] != first["demo"]["id"]
    assert now["demo"]["idempotency_key"] != first["demo"]["idempotency_key"]
    # the other follow-ups are untouched
    for spec in ("check_in", "month_end", "paperwork"):
        assert now[spec] == first[spec]
    # the same date again, or another field, re-plans nothing
    engine.set_fields(project.id, {"demo_day": "2027-04-21", "note": "hello"})
    assert by_spec(engine, project.id) == now
    assert len(rows(engine, project.id, "cancelled")) == 1


def test_a_date_field_changed_outside_its_stage_plans_nothing(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    project = engine.create_project(rhythm, "Elsewhere", fields={"n": 1})
    engine.advance(project.id, "validate")
    before = rows(engine, project.id)
    engine.set_fields(project.id, {"demo_day": "2027-05-05"})
    assert rows(engine, project.id) == before


def test_a_recurring_follow_up_is_re_planned_after_each_run(
        engine: Engine, rhythm: str, clock: MutableClock) -> None:
    clock.now = utc(2027, 1, 31, 3, 0)  # 31 January, 10:00 in Bangkok
    project = engine.create_project(rhythm, "Rhythm", fields={"n": 1})
    engine.advance(project.id, "validate")
    dispatcher = Dispatcher(engine, Config(daemon_name="planner"))
    seen: list[dict[str, Any]] = []
    expected = {
        # every 1 month counts from the stage entry, so it does not drift to the 28th
        "monthly": ["2027-02-28T10:00:00+07:00", "2027-03-31T10:00:00+07:00",
                    "2027-04-30T10:00:00+07:00", "2027-05-31T10:00:00+07:00"],
        "fortnightly": ["2027-02-14T10:00:00+07:00", "2027-02-28T10:00:00+07:00",
                        "2027-03-14T10:00:00+07:00", "2027-03-28T10:00:00+07:00",
                        "2027-04-11T10:00:00+07:00", "2027-04-25T10:00:00+07:00",
                        "2027-05-09T10:00:00+07:00", "2027-05-23T10:00:00+07:00",
                        "2027-06-06T10:00:00+07:00"],
    }
    for step in range(3):
        pending = by_spec(engine, project.id)
        monthly = pending["monthly"]
        assert monthly["occurrence"] == step
        assert monthly["due_at"] == expected["monthly"][step]
        seen.append(monthly)
        clock.now = datetime.fromisoformat(monthly["due_at"])
        result = dispatcher.run_due()
        assert result.failed == 0
        done = {(r["spec"], r["occurrence"]) for r in rows(engine, project.id, "done")}
        assert ("monthly", step) in done
    assert len({r["idempotency_key"] for r in seen}) == 3
    assert len({r["id"] for r in seen}) == 3
    pending = by_spec(engine, project.id)
    assert pending["monthly"]["occurrence"] == 3
    assert pending["monthly"]["due_at"] == expected["monthly"][3]
    fortnightly = sorted((r for r in rows(engine, project.id, "pending")
                          if r["spec"] == "fortnightly"), key=lambda r: r["occurrence"])
    done = sorted((r for r in rows(engine, project.id, "done") if r["spec"] == "fortnightly"),
                  key=lambda r: r["occurrence"])
    assert [r["occurrence"] for r in done] == list(range(len(done)))
    assert [r["due_at"] for r in done + fortnightly] == expected["fortnightly"][:len(done) + 1]
    # the one-shot flag ran once and is not re-planned
    assert "give_up" in by_spec(engine, project.id)


MOVING_V1 = """\
journey: moving
version: 1
timezone: Asia/Bangkok
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
      - {id: old_only, after: 10 days, action: notify, to: [coach]}
      - {id: shared, after: 20 days, action: notify, to: [coach]}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""
MOVING_V2_SAME_STAGE = MOVING_V1.replace("version: 1", "version: 2").replace(
    "{id: old_only, after: 10 days", "{id: new_one, after: 5 days")
MOVING_V3_RENAMED = MOVING_V1.replace("version: 1", "version: 3").replace(
    "  a:\n", "  start:\n").replace("from: a", "from: start").replace(
    "{id: old_only, after: 10 days", "{id: fresh, after: 5 days")


def test_migrating_into_a_renamed_stage_cancels_and_plans_like_entering_it(
        engine: Engine, clock: MutableClock) -> None:
    for text in (MOVING_V1, MOVING_V3_RENAMED):
        engine.publish(text)
    project = engine.create_project("moving@1", "Mover")
    before = by_spec(engine, project.id)
    clock.tick(days=1)
    engine.migrate(project.id, 3, {"a": "start"})
    cancelled = by_spec(engine, project.id, "cancelled")
    assert {spec: r["id"] for spec, r in cancelled.items()} == {
        spec: r["id"] for spec, r in before.items()}
    pending = by_spec(engine, project.id)
    assert {spec: (r["stage"], r["due_at"]) for spec, r in pending.items()} == {
        "fresh": ("start", "2027-01-10T10:00:00+07:00"),    # 5 days after the migration
        "shared": ("start", "2027-01-25T10:00:00+07:00"),
    }
    assert pending["shared"]["idempotency_key"] != before["shared"]["idempotency_key"]


def test_migrating_within_the_same_stage_follows_the_new_versions_follow_ups(
        engine: Engine, clock: MutableClock) -> None:
    for text in (MOVING_V1, MOVING_V2_SAME_STAGE):
        engine.publish(text)
    project = engine.create_project("moving@1", "Stayer")  # entered 4 January, 10:00
    clock.tick(days=1)
    engine.migrate(project.id, 2)
    assert engine.get(project.id).stage == "a"
    pending = by_spec(engine, project.id)
    # version 2 of stage a has no 'old_only' and a 'new_one' five days after stage entry
    assert {spec: r["due_at"] for spec, r in pending.items()} == {
        "new_one": "2027-01-09T10:00:00+07:00",
        "shared": "2027-01-24T10:00:00+07:00",
    }


RACE = """\
journey: race
version: 1
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
      - {id: tick, after: 1 day, every: 1 day, action: notify, to: [coach]}
      - {id: move, after: 1 day, action: transition, trigger: go}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""


def test_a_transition_later_in_a_round_leaves_no_occurrence_planned_for_the_stage_it_left(
        engine: Engine, clock: MutableClock) -> None:
    # 'tick' runs first and plans its next occurrence; 'move' then takes the project on in
    # the same recording transaction: the planned occurrence belongs to a visit now over
    key = engine.publish(RACE)[0]
    project = engine.create_project(key, "Race")
    clock.tick(days=1, hours=1)
    result = Dispatcher(engine, Config(daemon_name="race")).run_due()
    assert result.done == 2
    moved = engine.get(project.id)
    assert (moved.stage, moved.visit) == ("b", 2)
    assert rows(engine, project.id, "pending") == []
    assert audit(engine).ok


LEAVES_EARLY = """\
journey: leaves
version: 1
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
      - {id: leave, after: 1 day, action: transition, trigger: go}
      - {id: ping, after: 1 month, action: notify, to: [coach]}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""


@pytest.mark.parametrize("batch", [1, 500])
def test_a_catch_up_round_delivers_nothing_due_after_a_transition_moved_the_project(
        engine: Engine, clock: MutableClock, batch: int) -> None:
    # 'leave' (day 1) and 'ping' (month 1) are both due after 40 days; 'leave' takes the
    # project on, so 'ping' belongs to a visit that was over before it fell due
    key = engine.publish(LEAVES_EARLY)[0]
    project = engine.create_project(key, "Early")
    engine.assign(project.id, role="coach", person="Malee")
    clock.tick(days=40)
    Dispatcher(engine, Config(daemon_name="catch-up", batch=batch)).run_due()
    outcomes = {r["spec"]: r["status"] for r in rows(engine, project.id)}
    assert outcomes == {"leave": "done", "ping": "cancelled"}
    assert [e.payload["spec"] for e in engine.history(project.id) if e.kind == "follow_up"] == [
        "leave"]
    assert audit(engine).ok


THERE_AND_BACK = """\
journey: back
version: {version}
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
{follow_ups}
  b: {{final: true}}
transitions:
  - {{trigger: go, from: a, to: b}}
"""


def test_migrating_away_from_a_follow_up_and_back_plans_it_again(
        engine: Engine, clock: MutableClock) -> None:
    ping = "      - {id: ping, after: 1 month, action: notify, to: [coach]}"
    other = "      - {id: other, after: 2 months, action: notify, to: [coach]}"
    key = engine.publish(THERE_AND_BACK.format(version=1, follow_ups=ping))[0]
    engine.publish(THERE_AND_BACK.format(version=2, follow_ups=other))
    project = engine.create_project(f"{key}@1", "Back and forth")
    engine.migrate(project.id, 2)
    assert by_spec(engine, project.id, "cancelled").keys() == {"ping"}
    engine.migrate(project.id, 1)
    assert by_spec(engine, project.id).keys() == {"ping"}  # pending again, in this visit
    assert audit(engine).ok


BUSINESS = """\
journey: business
version: 1
timezone: Asia/Bangkok
calendar: TH
stages:
  a:
    initial: true
    follow_ups: [{id: check, after: 1 business day, action: flag, flag: checked}]
  b: {final: true}
transitions: [{trigger: go, from: a, to: b}]
"""


def test_a_holiday_in_the_operators_toml_moves_business_day_follow_ups(
        engine: Engine, clock: MutableClock, tmp_path: Any) -> None:
    from scheduler.peers import make_config  # noqa: PLC0415

    from bompao.definitions.durations import add_operator_days  # noqa: PLC0415

    engine.publish(BUSINESS)
    clock.now = datetime(2026, 6, 8, 2, tzinfo=UTC)  # Monday 09:00 in Bangkok
    before = engine.create_project("business", "Before").id
    try:
        make_config(tmp_path, '[calendars.TH]\nadd = { "2026-06-09" = "Cabinet holiday" }\n')
        after = engine.create_project("business", "After").id
        due = {p: engine.list_follow_ups(project=p)[0]["due_at"][:10] for p in (before, after)}
        assert due == {before: "2026-06-09", after: "2026-06-10"}
    finally:
        add_operator_days({})
