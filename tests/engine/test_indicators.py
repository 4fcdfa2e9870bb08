"""Measurements (issue 13): ``Engine.measure`` records a value per period as an event
through the one write path, refuses what is wrong with nothing written, and gates read
``indicators.NAME.*`` from the event log only when they name an indicator."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from bompao.engine import Actor, Engine
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.errors import GateRefused, InvalidValue, NotFound, PermissionDenied

IMPACT = """\
journey: impact
version: 1
timezone: Asia/Bangkok
roles: [participant, coach]
indicators:
  people_reached:
    title: {en: People reached, th: จำนวนผู้ได้รับประโยชน์}
    type: int
    every: 1 month
    during: [test_run]
    owner: participant
    target: 200
  satisfaction: {type: percent, every: quarterly}
  still_operating: {type: bool, every: yearly}
stages:
  idea: {initial: true}
  test_run:
    follow_ups:
      - {after: 100 days, action: transition, trigger: present}
  showcase: {}
  done: {final: true}
transitions:
  - {trigger: start, from: idea, to: test_run}
  - trigger: present
    from: test_run
    to: showcase
    gate: {expr: "indicators.people_reached.total >= 200 && indicators.people_reached.missing == 0"}
  - {trigger: finish, from: showcase, to: done, gate: {expr: "days_in_stage >= 0"}}
"""
# 2027-01-10 10:00 in Bangkok
JAN = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def started(engine: Engine, clock: Any) -> int:
    clock.now = JAN
    engine.publish(IMPACT)
    project = engine.create_project("impact", "Reach", partner="cmu")
    engine.advance(project.id, "start")
    return project.id


def test_a_measurement_is_an_event_and_a_correction_another(engine: Engine, clock: Any,
                                                            started: int) -> None:
    first = engine.measure(started, "people_reached", "2027-01", 40)
    clock.tick(days=3)
    corrected = engine.measure(started, "people_reached", "2027-01", 45, note="recount")
    assert corrected.lock_version == first.lock_version + 1
    events = [e for e in engine.history(started) if e.kind == "measured"]
    assert [(e.payload["period"], e.payload["value"]) for e in events] == [
        ("2027-01", 40), ("2027-01", 45)]
    assert events[1].payload["note"] == "recount"
    summary = engine.indicators(started)["people_reached"]
    assert summary["values"] == [{"period": "2027-01", "value": 45, "by": None,
                                  "note": "recount", "at": events[1].at.isoformat()}]
    assert (summary["total"], summary["periods"]) == (45, 1)
    # as it was before the correction
    before = engine.indicators(started, at=events[0].at)["people_reached"]
    assert before["total"] == 40
    # the project's state as events rebuild it is the stored one, measurement included
    assert engine.state_at(started, clock.now) == engine.get(started)
    assert engine.state_at(started, events[0].at).lock_version == first.lock_version


def test_the_default_period_is_the_current_one_in_the_journey_timezone(
        engine: Engine, clock: Any, started: int) -> None:
    clock.now = datetime(2027, 3, 31, 18, 30, tzinfo=UTC)  # 2027-04-01 01:30 in Bangkok
    engine.measure(started, "people_reached", None, 7)
    engine.measure(started, "satisfaction", None, 55.5)
    engine.measure(started, "still_operating", None, True)
    found = engine.indicators(started)
    assert found["people_reached"]["values"][0]["period"] == "2027-04"
    assert found["satisfaction"]["values"][0]["period"] == "2027-Q2"
    assert found["still_operating"]["latest"] is True


BAD: list[tuple[str, str | None, Any, type[Exception], str]] = [
    ("people_reached", "2027-01", "many", InvalidValue, "expected a number, got 'many'"),
    ("people_reached", "2027-01", True, InvalidValue, "expected a number, got True"),
    ("people_reached", "2027-01", 2.5, InvalidValue, "takes whole numbers, got 2.5"),
    ("people_reached", "2027-01", math.nan, InvalidValue, "expected a finite number"),
    ("satisfaction", "2027-Q1", math.inf, InvalidValue, "expected a finite number"),
    ("satisfaction", "2027-Q1", 101, InvalidValue, "a percent is 0 to 100, got 101"),
    ("still_operating", "2027", 1, InvalidValue, "expected true or false, got 1"),
    ("people_reached", "2027-Q1", 5, InvalidValue, ("not a period of this indicator; "
                                                   "periods of 1 month are named like")),
    ("satisfaction", "2027-02", 5, InvalidValue, "does not start a period of 3 months"),
    ("people_reached", "2027-02", 5, InvalidValue, ("period '2027-02' has not begun (today "
                                                   "is 2027-01-10 in Asia/Bangkok)")),
    ("peple_reached", None, 5, InvalidValue, ("unknown indicator 'peple_reached' in journey "
                                             "impact@1 (did you mean 'people_reached'?)")),
]


@pytest.mark.parametrize(("indicator", "period", "value", "error", "words"), BAD,
                         ids=[b[4][:30] for b in BAD])
def test_what_is_wrong_is_refused_and_nothing_written(
        engine: Engine, started: int, indicator: str, period: str | None, value: Any,
        error: type[Exception], words: str) -> None:
    before = engine.history(started)
    with pytest.raises(error) as caught:
        engine.measure(started, indicator, period, value)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert engine.history(started) == before


def test_only_the_owner_role_reports_and_only_within_the_partner(engine: Engine,
                                                                 started: int) -> None:
    with pytest.raises(PermissionDenied, match="reported by the role 'participant'; "
                       "'Malee' holds: coach"):
        engine.measure(started, "people_reached", "2027-01", 5,
                       actor=Actor("Malee", roles={"coach"}))
    with pytest.raises(NotFound):
        engine.measure(started, "people_reached", "2027-01", 5,
                       actor=Actor("Noi", roles={"participant"}, partner="kku"))
    moved = engine.measure(started, "people_reached", "2027-01", 5,
                           actor=Actor("Noi", roles={"participant"}, partner="cmu"))
    last = engine.history(started)[-1]
    assert (last.kind, last.actor, last.role) == ("measured", "Noi", "participant")
    assert moved.lock_version == last.seq
    # an indicator without an owner takes anyone's value
    engine.measure(started, "satisfaction", "2027-Q1", 60, actor=Actor("Malee"))


def test_a_gate_reads_totals_and_missing_periods(engine: Engine, clock: Any,
                                                 started: int) -> None:
    engine.measure(started, "people_reached", "2027-01", 150)
    with pytest.raises(GateRefused, match=r"indicators\.people_reached\.total >= 200"):
        engine.advance(started, "present")
    clock.now = datetime(2027, 3, 5, tzinfo=UTC)  # January and February have ended
    engine.measure(started, "people_reached", "2027-01", 120)  # a correction: 150 -> 120
    engine.measure(started, "people_reached", "2027-03", 90)
    report = engine.check(started, "present")
    assert not report.passable
    (criterion,) = report.criteria
    assert criterion.seen == {"indicators.people_reached.total": 210,
                              "indicators.people_reached.missing": 1}  # February
    engine.measure(started, "people_reached", "2027-02", 0)
    moved = engine.advance(started, "present")
    assert moved.stage == "showcase"
    gate = engine.history(started)[-1].payload["gate"]
    assert gate[0]["seen"]["indicators.people_reached.total"] == 210


def test_a_follow_up_transition_reads_measurements_too(engine: Engine, clock: Any,
                                                       started: int) -> None:
    short = engine.create_project("impact", "Short")
    engine.advance(short.id, "start")
    clock.now = datetime(2027, 4, 25, tzinfo=UTC)  # 105 days later: the follow-ups are due
    for month, value in (("2027-01", 100), ("2027-02", 60), ("2027-03", 40)):
        engine.measure(started, "people_reached", month, value)
        engine.measure(short.id, "people_reached", month, value // 2)
    Dispatcher(engine, Config(daemon_name="impact")).run_due()
    assert engine.get(started).stage == "showcase"
    moved = [e for e in engine.history(started) if e.kind == "advanced"][-1]
    assert moved.payload["follow_up"] is True
    assert moved.payload["gate"][0]["seen"]["indicators.people_reached.total"] == 200
    assert engine.get(short.id).stage == "test_run"  # 100 reached: the gate refused


def test_measurements_are_read_only_for_gates_that_name_indicators(
        engine: Engine, started: int, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real = engine.hot.list_events

    def counting(cursor: Any, project_id: int, until: Any = None) -> Any:
        reads.append(project_id)
        return real(cursor, project_id, until)

    monkeypatch.setattr(engine.hot, "list_events", counting)
    for value, period in ((100, "2027-01"), (100, "2027-01")):
        engine.measure(started, "people_reached", period, value)
    assert reads == []  # recording a value reads no event either
    with pytest.raises(GateRefused):
        engine.advance(started, "present")  # total 100: the gate read the events once
    assert reads == [started]
    other = engine.create_project("impact", "Other")
    engine.advance(other.id, "start")  # no gate, no indicator: nothing read
    assert reads == [started]
