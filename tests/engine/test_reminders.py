"""Indicator reminders (issue 13, item 4): a period that ends without a value plans a
follow-up to the owner ``remind_after`` it (business days in the journey's calendar),
cancelled when the value arrives; ``at_risk_after`` flags the project after that many
missing periods and a value that brings it below clears the flag. Run through the
daemon's own dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from bompao.definitions import compile_journey
from bompao.engine import Engine
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.errors import DefinitionError

BANGKOK = ZoneInfo("Asia/Bangkok")
SPEC = "indicator:people_reached"
REMIND = """\
journey: remind
version: 1
timezone: Asia/Bangkok
calendar: TH
roles: [participant, coach]
indicators:
  people_reached:
    type: int
    every: 1 month
    during: [test_run]
    owner: participant
    remind_after: 10 business days
    at_risk_after: 2
  income: {type: money, every: 1 month, during: [test_run]}
stages:
  idea: {initial: true}
  test_run: {}
  done: {final: true}
transitions:
  - {trigger: start, from: idea, to: test_run}
  - {trigger: finish, from: test_run, to: done}
"""


def oracle_due(period_end: date, business_days: int) -> datetime:
    """Midnight in Bangkok ``business_days`` Thai working days after ``period_end``
    (counted with the holidays package directly, not with bompao's calendar code)."""
    thai = holidays.country_holidays("TH", years=range(period_end.year, period_end.year + 2))
    day, left = period_end, business_days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in thai:
            left -= 1
    return datetime.combine(day, time(0), BANGKOK)


def bangkok(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BANGKOK).astimezone(UTC)


def reminders(engine: Engine, project: int) -> list[tuple[int, str, datetime]]:
    """(occurrence, status, due) of the project's reminder rows, oldest first."""
    rows = [r for r in engine.list_follow_ups(project=project) if r["spec"] == SPEC]
    return sorted((r["occurrence"], r["status"], datetime.fromisoformat(str(r["due_at"])))
                  for r in rows)


@pytest.fixture
def started(engine: Engine, clock: Any) -> int:
    clock.now = bangkok(2027, 3, 20)
    engine.publish(REMIND)
    project = engine.create_project("remind", "Reach")
    engine.assign(project.id, role="participant", person="Nok")
    engine.advance(project.id, "start")
    return project.id


def run_at(engine: Engine, clock: Any, when: datetime) -> Any:
    clock.now = when
    return Dispatcher(engine, Config(daemon_name="reminders")).run_due()


def test_the_reminder_is_due_business_days_after_the_period_across_songkran(
        engine: Engine, started: int) -> None:
    # March ends on 1 April; 10 Thai working days skip Chakri Day (6 April), Songkran
    # (13-15 April) and the weekends
    due = oracle_due(date(2027, 4, 1), 10)
    assert due.date() == date(2027, 4, 21)
    assert reminders(engine, started) == [(0, "pending", due)]
    listed = [r for r in engine.list_follow_ups(project=started) if r["spec"] == SPEC]
    assert listed[0]["action"] == "notify"


def test_delivered_by_the_dispatcher_then_the_next_period_is_planned(
        engine: Engine, clock: Any, started: int) -> None:
    march = oracle_due(date(2027, 4, 1), 10)
    assert run_at(engine, clock, march - timedelta(seconds=1)).claimed == 0
    result = run_at(engine, clock, march)
    assert (result.claimed, result.done) == (1, 1)
    # April ends on 1 May (Labour Day, a Saturday, made up on Monday 3 May; 4 May is
    # Coronation Day): the April reminder counts from there
    april = oracle_due(date(2027, 5, 1), 10)
    assert reminders(engine, started) == [(0, "done", march), (1, "pending", april)]
    sent = [e for e in engine.history(started) if e.kind == "follow_up"]
    assert [(e.payload["spec"], e.payload["outcome"]) for e in sent] == [(SPEC, "done")]


def test_a_value_cancels_the_pending_reminder_and_plans_the_next_period(
        engine: Engine, clock: Any, started: int) -> None:
    clock.now = bangkok(2027, 4, 3)
    engine.measure(started, "people_reached", "2027-03", 12)
    april = oracle_due(date(2027, 5, 1), 10)
    march = oracle_due(date(2027, 4, 1), 10)
    assert reminders(engine, started) == [(0, "cancelled", march), (1, "pending", april)]
    # nothing goes out for March
    assert run_at(engine, clock, march + timedelta(days=1)).claimed == 0
    # another indicator's value touches no reminder
    engine.measure(started, "income", "2027-04", 100.5)
    assert reminders(engine, started)[-1] == (1, "pending", april)


def test_measuring_the_current_period_early_skips_its_reminder_later(
        engine: Engine, clock: Any, started: int) -> None:
    # March is pending while
    # April is measured early; March's reminder still goes out, April's is skipped
    clock.now = bangkok(2027, 4, 10)
    engine.measure(started, "people_reached", "2027-04", 30)
    march = oracle_due(date(2027, 4, 1), 10)
    assert reminders(engine, started) == [(0, "pending", march)]
    assert run_at(engine, clock, march).done == 1
    april = oracle_due(date(2027, 5, 1), 10)
    result = run_at(engine, clock, april)
    assert (result.claimed, result.cancelled) == (1, 1)
    may = oracle_due(date(2027, 6, 1), 10)
    assert reminders(engine, started) == [(0, "done", march), (1, "cancelled", april),
                                          (2, "pending", may)]
    skipped = [e.payload for e in engine.history(started) if e.kind == "follow_up"][-1]
    assert (skipped["outcome"], skipped["detail"]) == (
        "skipped", "people_reached was reported for 2027-04")


def test_month_ends_and_the_new_year(engine: Engine, clock: Any) -> None:
    engine.publish(REMIND)
    clock.now = bangkok(2027, 1, 31, 23)  # the last hour of January in Bangkok
    project = engine.create_project("remind", "Late")
    engine.advance(project.id, "start")
    assert reminders(engine, project.id)[0][2] == oracle_due(date(2027, 2, 1), 10)
    # February's 28 days: its reminder counts from 1 March
    run_at(engine, clock, oracle_due(date(2027, 2, 1), 10))
    assert reminders(engine, project.id)[-1][2] == oracle_due(date(2027, 3, 1), 10)
    # December's counts from New Year's Day, a holiday
    clock.now = bangkok(2027, 12, 31, 23)
    december = engine.create_project("remind", "December")
    engine.advance(december.id, "start")
    assert reminders(engine, december.id)[0][2] == oracle_due(date(2028, 1, 1), 10)
    # leaving the stage cancels the pending reminder
    engine.advance(december.id, "finish")
    assert [s for _, s, _ in reminders(engine, december.id)] == ["cancelled"]


def test_at_risk_after_two_missing_periods_and_cleared_by_a_value(
        engine: Engine, clock: Any, started: int) -> None:
    run_at(engine, clock, oracle_due(date(2027, 4, 1), 10))  # March missing: 1 < 2
    assert engine.get(started).flags == []
    run_at(engine, clock, oracle_due(date(2027, 5, 1), 10))  # March and April missing
    assert engine.get(started).flags == ["at_risk"]
    flagged = [e for e in engine.history(started) if e.kind == "flagged"]
    assert [e.payload for e in flagged] == [{"flag": "at_risk", "indicator": "people_reached"}]
    # one value: one period missing, below the threshold, so the flag clears
    engine.measure(started, "people_reached", "2027-03", 5)
    assert engine.get(started).flags == []
    measured = [e for e in engine.history(started) if e.kind == "measured"][-1]
    assert measured.payload["unflagged"] == "at_risk"
    # what the event log rebuilds is what is stored
    assert engine.state_at(started, clock.now) == engine.get(started)


def test_an_at_risk_flag_set_otherwise_is_not_cleared_by_a_value(
        engine: Engine, clock: Any, started: int) -> None:
    engine.flag(started, "at_risk")
    run_at(engine, clock, oracle_due(date(2027, 5, 1), 10))
    engine.measure(started, "people_reached", "2027-03", 5)
    engine.measure(started, "people_reached", "2027-04", 5)
    assert engine.get(started).flags == ["at_risk"]


def test_at_risk_after_needs_remind_after() -> None:
    text = REMIND.replace("    remind_after: 10 business days\n", "")
    with pytest.raises(DefinitionError) as caught:
        compile_journey(text, file="remind.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        ("remind.yaml:12:20: error: indicators.people_reached: 'at_risk_after' counts the "
         "periods whose reminder went out without a value; give 'remind_after' (and "
         "'owner') too")]


@pytest.mark.parametrize("bad", ["0", "-1", "many", "1.5"])
def test_at_risk_after_is_a_positive_whole_number(bad: str) -> None:
    text = REMIND.replace("at_risk_after: 2", f"at_risk_after: {bad}")
    with pytest.raises(DefinitionError) as caught:
        compile_journey(text, file="remind.yaml")
    assert str(caught.value.diagnostics[0]).startswith("remind.yaml:13:20: error: ")
    assert "at_risk_after" in str(caught.value.diagnostics[0])


def test_measurement_refusals_speak_thai(engine: Engine, started: int) -> None:
    from bompao.definitions.messages import error_text  # noqa: PLC0415
    from bompao.engine import Actor  # noqa: PLC0415
    from bompao.errors import InvalidValue, PermissionDenied  # noqa: PLC0415

    whole = ("indicator 'people_reached' is int: an int indicator takes whole numbers, "
             "got 12.5")
    whole_th = ("ตัวชี้วัด 'people_reached' เป็นแบบ 'int': ตัวชี้วัดแบบ 'int' "
                "รับเฉพาะจำนวนเต็ม แต่ได้ 12.5")
    rhythm = ("indicator 'people_reached': period '2027-Q1' is not a period of this "
              "indicator; periods of 1 month are named like 2027-01, 2027-02")
    rhythm_th = ("ตัวชี้วัด 'people_reached': รอบ '2027-Q1' ไม่ใช่รอบของตัวชี้วัดนี้: "
                 "รอบละ 1 month ตั้งชื่อแบบ 2027-01, 2027-02")
    unknown = ("unknown indicator 'peple_reached' in journey remind@1 (did you mean "
               "'people_reached'?); indicators: income, people_reached")
    cases = [
        (("people_reached", "2027-03", 12.5), InvalidValue, whole, whole_th),
        (("people_reached", "2027-Q1", 3), InvalidValue, rhythm, rhythm_th),
        (("peple_reached", None, 3), InvalidValue, unknown, None),
    ]
    for (name, period, value), kind, english, thai in cases:
        with pytest.raises(kind) as caught:
            engine.measure(started, name, period, value)
        assert str(caught.value) == english
        if thai is not None:
            assert error_text(caught.value, "th") == thai
    with pytest.raises(PermissionDenied) as denied:
        engine.measure(started, "people_reached", None, 3, actor=Actor("Som", {"coach"}))
    assert error_text(denied.value, "th").startswith(
        "ตัวชี้วัด 'people_reached' รายงานโดยบทบาท 'participant' แต่ 'Som' มีบทบาท")


def test_followups_list_names_the_indicator(engine: Engine, started: int, store_url: str,
                                            cli: Any) -> None:
    import json  # noqa: PLC0415

    code, out, err = cli("--db", store_url, "--json", "followups", "list", "--project",
                         str(started))
    assert (code, err) == (0, "")
    rows = [r for r in json.loads(out) if r["spec"] == SPEC]
    assert [(r["action"], r["status"], r["stage"]) for r in rows] == [
        ("notify", "pending", "test_run")]
    assert rows[0]["due_at"] == oracle_due(date(2027, 4, 1), 10).isoformat()
