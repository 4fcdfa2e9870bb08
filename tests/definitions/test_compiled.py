"""The compiled journey: gate evaluation, transitions, follow-up due times, typed fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bompao.definitions import CompiledJourney, GateContext, compile_journey
from bompao.errors import DefinitionError, InvalidValue, NotFound, TriggerNotOffered

BANGKOK = ZoneInfo("Asia/Bangkok")

JOURNEY = """\
journey: gates
version: 1
roles: [coach, committee]
fields:
  score: {type: int, default: 0}
  statement: {type: string}
  ratio: {type: float}
  ready: {type: bool, default: false}
  tags: {type: "list[string]", default: []}
  demo_day: {type: date}
  kickoff: {type: datetime}
evidence:
  plan: {}
  report: {}
stages:
  start:
    initial: true
    follow_ups:
      - {id: once, after: 14 days, action: notify, to: [coach]}
      - {id: weekly, every: 1 week, action: notify, to: [coach]}
      - {id: monthly, every: 1 month, action: notify, to: [coach]}
      - {id: then_monthly, after: 10 days, every: 1 month, action: notify, to: [coach]}
      - {id: demo, at: demo_day, action: notify, to: [coach]}
      - {id: kick, at: kickoff, action: flag, flag: kicked}
      - {id: slow, after: 3 business days, action: flag, flag: slow}
      - {id: give_up, after: 1 year, action: transition, trigger: finish}
  done: {final: true}
transitions:
  - trigger: by_expr
    from: start
    to: done
    gate: {expr: "score >= 3 && size(statement) >= 5"}
  - trigger: by_evidence
    from: start
    to: done
    gate: {evidence: plan}
  - trigger: by_approval
    from: start
    to: done
    gate: {approval: {role: committee, count: 2}}
  - trigger: by_time
    from: start
    to: done
    gate: {min_time_in_stage: 1 month}
  - trigger: by_combination
    from: start
    to: done
    gate:
      all:
        - any:
            - expr: "ready"
              says: {en: Ready, th: พร้อม}
            - evidence: plan
        - not: {evidence: report}
  - trigger: by_builtins
    from: start
    to: done
    gate: {expr: "'plan' in evidence && approvals['coach'] >= 1 && days_in_stage >= 7"}
  - trigger: by_dates
    from: start
    to: done
    gate: {expr: "now >= demo_day && 'urgent' in tags"}
  - trigger: finish
    from: start
    to: done
"""

ENTERED = datetime(2026, 1, 31, 10, tzinfo=BANGKOK)


@pytest.fixture(scope="module")
def journey() -> CompiledJourney:
    return compile_journey(JOURNEY, file="gates.yaml")


def ctx(fields: Mapping[str, Any] | None = None, evidence: Mapping[str, Any] | None = None,
        approvals: Mapping[str, int] | None = None, *, entered_at: datetime = ENTERED,
        now: datetime | None = None) -> GateContext:
    return GateContext(fields=fields or {}, evidence=evidence or {}, approvals=approvals or {},
                       entered_at=entered_at, now=now or entered_at + timedelta(days=1))


def check(journey: CompiledJourney, trigger: str, context: GateContext) -> Any:
    return journey.transition("start", trigger).evaluate(context, journey)


# --- gates ------------------------------------------------------------------------------------

def test_expr_met_shows_the_values_it_saw(journey: CompiledJourney) -> None:
    result = check(journey, "by_expr", ctx({"score": 3, "statement": "hello"}))
    assert result.met is True
    assert result.kind == "expr"
    assert dict(result.seen) == {"score": 3, "statement": "hello"}
    assert result.text() == "score >= 3 && size(statement) >= 5"
    assert result.unmet() == []


def test_expr_unmet_shows_the_values_it_saw(journey: CompiledJourney) -> None:
    result = check(journey, "by_expr", ctx({"score": 2, "statement": "hello"}))
    assert result.met is False
    assert dict(result.seen) == {"score": 2, "statement": "hello"}
    assert result.unmet() == [result]


def test_a_missing_field_is_unmet_not_an_exception(journey: CompiledJourney) -> None:
    result = check(journey, "by_expr", ctx({"score": 5}))
    assert result.met is False
    assert dict(result.seen) == {"score": 5, "missing": ["statement"]}
    none = check(journey, "by_expr", ctx({"score": 5, "statement": None}))
    assert none.met is False
    assert none.seen["missing"] == ["statement"]


def test_evidence(journey: CompiledJourney) -> None:
    missing = check(journey, "by_evidence", ctx(evidence={"report": {"url": "x"}}))
    assert (missing.met, dict(missing.seen)) == (False, {"evidence": "plan", "attached": False})
    attached = check(journey, "by_evidence", ctx(evidence={"plan": {"url": "https://x"}}))
    assert (attached.met, dict(attached.seen)) == (True, {"evidence": "plan", "attached": True})
    assert attached.text() == "Evidence: plan"
    assert attached.text("th") == "หลักฐาน: plan"


@pytest.mark.parametrize(("approvals", "met"), [
    ({}, False), ({"committee": 1}, False), ({"coach": 5}, False), ({"committee": 2}, True),
    ({"committee": 3}, True),
])
def test_approval_counts(journey: CompiledJourney, approvals: dict[str, int], met: bool) -> None:
    result = check(journey, "by_approval", ctx(approvals=approvals))
    assert result.met is met
    assert dict(result.seen) == {"role": "committee", "approvals": approvals.get("committee", 0),
                                 "needed": 2}
    assert result.text() == "2 approvals from committee"


def test_min_time_in_stage_counts_calendar_months(journey: CompiledJourney) -> None:
    # entered on 31 January: one calendar month later is 28 February, same local time
    end_of_february = datetime(2026, 2, 28, 10, tzinfo=BANGKOK)
    early = check(journey, "by_time", ctx(now=end_of_february - timedelta(seconds=1)))
    assert early.met is False
    assert dict(early.seen) == {"entered_at": "2026-01-31T10:00:00+07:00",
                                "passable_at": "2026-02-28T10:00:00+07:00"}
    assert check(journey, "by_time", ctx(now=end_of_february)).met is True
    assert early.text() == "At least 1 month in this stage"
    assert early.text("th") == "อยู่ในขั้นนี้อย่างน้อย 1 เดือน"


def test_min_time_in_stage_uses_the_journeys_timezone(journey: CompiledJourney) -> None:
    entered = datetime(2026, 1, 31, 20, tzinfo=UTC)  # 1 February 03:00 in Bangkok
    result = check(journey, "by_time", ctx(entered_at=entered, now=entered))
    assert result.seen["passable_at"] == "2026-02-28T20:00:00+00:00"  # 1 March in Bangkok


def test_all_any_not(journey: CompiledJourney) -> None:
    def run(**kwargs: Any) -> Any:
        return check(journey, "by_combination", ctx(**kwargs))

    assert run(fields={"ready": True}).met is True
    assert run(evidence={"plan": {}}).met is True
    blocked = run(fields={"ready": True}, evidence={"report": {}})
    assert blocked.met is False
    assert [c.kind for c in blocked.children] == ["any", "not"]
    assert [c.met for c in blocked.children] == [True, False]
    assert [r.kind for r in blocked.unmet()] == ["not"]
    neither = run(fields={"ready": False})
    assert neither.met is False
    assert [(r.kind, r.text()) for r in neither.unmet()] == [
        ("expr", "Ready"), ("evidence", "Evidence: plan")]
    assert neither.unmet()[0].text("th") == "พร้อม"
    assert neither.as_dict()["criteria"][0]["criteria"][0] == {
        "kind": "expr", "says": "Ready", "met": False, "seen": {"ready": False}}


def test_builtins_evidence_approvals_days_in_stage(journey: CompiledJourney) -> None:
    def run(days: int, **kwargs: Any) -> Any:
        return check(journey, "by_builtins", ctx(now=ENTERED + timedelta(days=days), **kwargs))

    assert run(7, evidence={"plan": {}}, approvals={"coach": 1}).met is True
    assert run(6, evidence={"plan": {}}, approvals={"coach": 1}).met is False
    assert run(9, evidence={}, approvals={"coach": 1}).met is False
    no_coach = run(9, evidence={"plan": {}}, approvals={})
    assert no_coach.met is False  # approvals['coach'] is absent: unmet, not an exception
    assert no_coach.seen["days_in_stage"] == 9


def test_dates_and_lists_reach_cel_typed(journey: CompiledJourney) -> None:
    fields = {"demo_day": "2026-03-01", "tags": ["urgent"]}
    midnight = datetime(2026, 3, 1, 0, tzinfo=BANGKOK)
    before = check(journey, "by_dates", ctx(fields, now=midnight - timedelta(minutes=1)))
    assert before.met is False
    assert before.seen["demo_day"] == "2026-03-01T00:00:00+07:00"
    assert check(journey, "by_dates", ctx(fields, now=midnight)).met is True
    assert check(journey, "by_dates", ctx({**fields, "tags": []}, now=midnight)).met is False


def test_no_gate_is_met(journey: CompiledJourney) -> None:
    result = check(journey, "finish", ctx())
    assert result.met is True
    assert result.text("th") == "ไม่มีเงื่อนไข"


# --- transitions ------------------------------------------------------------------------------

def test_transition_lookup(journey: CompiledJourney) -> None:
    transition = journey.transition("start", "by_expr")
    assert (transition.trigger, transition.sources, transition.dest) == (
        "by_expr", ("start",), "done")
    assert journey.dest("start", "finish") == "done"
    assert journey.triggers("start") == [
        "by_expr", "by_evidence", "by_approval", "by_time", "by_combination", "by_builtins",
        "by_dates", "finish"]
    assert journey.triggers("done") == []


def test_an_unknown_trigger_lists_the_available_ones(journey: CompiledJourney) -> None:
    with pytest.raises(NotFound) as caught:
        journey.transition("start", "fly")
    assert str(caught.value) == (
        "unknown trigger 'fly' in journey gates@1; from stage 'start' the triggers are: "
        "by_expr, by_evidence, by_approval, by_time, by_combination, by_builtins, by_dates, "
        "finish")
    assert caught.value.exit_code == 2


def test_a_trigger_not_available_in_the_stage_lists_the_available_ones() -> None:
    journey = compile_journey(
        "journey: two\nversion: 1\nstages: {a: {initial: true}, b: {}, c: {final: true}}\n"
        "transitions:\n  - {trigger: go, from: a, to: b}\n  - {trigger: stop, from: b, to: c}\n"
        "  - {trigger: quit, from: '*', to: c}\n")
    with pytest.raises(TriggerNotOffered) as caught:
        journey.transition("a", "stop")
    assert str(caught.value) == ("trigger 'stop' is not available in stage 'a'; "
                                 "available: go, quit")
    with pytest.raises(TriggerNotOffered) as final:
        journey.dest("c", "stop")
    assert str(final.value) == ("trigger 'stop' is not available in stage 'c'; "
                                "available: none (the stage is final)")
    assert journey.transition("b", "quit").sources == ("a", "b")


# --- follow-ups -------------------------------------------------------------------------------

def follow_up(journey: CompiledJourney, name: str) -> Any:
    (found,) = [f for f in journey.stages["start"].follow_ups if f.name == name]
    return found


def due(journey: CompiledJourney, name: str, occurrence: int = 0,
        fields: Mapping[str, Any] | None = None) -> datetime | None:
    return follow_up(journey, name).due(ENTERED, fields or {}, occurrence, journey)


def test_after_is_due_once(journey: CompiledJourney) -> None:
    assert due(journey, "once") == datetime(2026, 2, 14, 10, tzinfo=BANGKOK)
    assert due(journey, "once", 1) is None
    assert follow_up(journey, "once").recurring is False


def test_every_repeats_from_stage_entry(journey: CompiledJourney) -> None:
    assert [due(journey, "weekly", n) for n in range(3)] == [
        datetime(2026, 2, d, 10, tzinfo=BANGKOK) for d in (7, 14, 21)]
    assert follow_up(journey, "weekly").recurring is True


def test_every_month_from_the_31st_does_not_drift(journey: CompiledJourney) -> None:
    assert [due(journey, "monthly", n) for n in range(4)] == [
        datetime(2026, 2, 28, 10, tzinfo=BANGKOK), datetime(2026, 3, 31, 10, tzinfo=BANGKOK),
        datetime(2026, 4, 30, 10, tzinfo=BANGKOK), datetime(2026, 5, 31, 10, tzinfo=BANGKOK)]


def test_after_then_every(journey: CompiledJourney) -> None:
    assert [due(journey, "then_monthly", n) for n in range(3)] == [
        datetime(2026, 2, 10, 10, tzinfo=BANGKOK), datetime(2026, 3, 10, 10, tzinfo=BANGKOK),
        datetime(2026, 4, 10, 10, tzinfo=BANGKOK)]


def test_at_a_date_field_is_due_at_local_midnight_once(journey: CompiledJourney) -> None:
    assert due(journey, "demo") is None  # the field is empty
    assert due(journey, "demo", 0, {"demo_day": "2026-03-01"}) == \
        datetime(2026, 3, 1, 0, tzinfo=BANGKOK)
    assert due(journey, "demo", 1, {"demo_day": "2026-03-01"}) is None


def test_at_a_datetime_field_is_due_at_that_instant(journey: CompiledJourney) -> None:
    assert due(journey, "kick", 0, {"kickoff": "2026-02-02T09:30:00+00:00"}) == \
        datetime(2026, 2, 2, 9, 30, tzinfo=UTC)


def test_business_days_in_a_follow_up_skip_songkran(journey: CompiledJourney) -> None:
    entered = datetime(2026, 4, 10, 9, tzinfo=BANGKOK)  # Friday before Songkran
    result = follow_up(journey, "slow").due(entered, {}, 0, journey)
    assert result == datetime(2026, 4, 20, 9, tzinfo=BANGKOK)


def test_follow_up_names_and_actions(journey: CompiledJourney) -> None:
    start = journey.stages["start"]
    assert [f.name for f in start.follow_ups] == [
        "once", "weekly", "monthly", "then_monthly", "demo", "kick", "slow", "give_up"]
    assert follow_up(journey, "give_up").action == "transition"
    assert follow_up(journey, "give_up").spec.trigger == "finish"
    unnamed = compile_journey(
        "journey: u\nversion: 1\nroles: [coach]\nstages:\n  a:\n    initial: true\n"
        "    follow_ups: [{after: 1 day, action: notify, to: [coach]}]\n  b: {final: true}\n"
        "transitions: [{trigger: go, from: a, to: b}]\n")
    assert [f.name for f in unnamed.stages["a"].follow_ups] == ["notify_0"]


def compile_or_refuse(text: str) -> CompiledJourney | DefinitionError:
    try:
        return compile_journey(text, file="due.yaml")
    except DefinitionError as exc:
        return exc


@pytest.mark.parametrize(("calendar", "duration"), [
    ("US-CA", "3 business days"),   # the pattern allows a subdivision
    ("TH", "999999 years"),         # six digits are allowed
    ("TH", "999999 months"),
], ids=["subdivision-calendar", "huge-years", "huge-months"])
def test_a_journey_that_compiles_can_compute_its_due_times(calendar: str,
                                                           duration: str) -> None:
    """Either the definition is refused when it loads, or its follow-ups get a due time:
    never an exception inside the scheduler later."""
    text = (f"journey: due\nversion: 1\ncalendar: {calendar}\nstages:\n  a:\n"
            f"    initial: true\n    follow_ups: [{{after: {duration}, action: flag, "
            f"flag: late}}]\n  b: {{final: true}}\ntransitions: [{{trigger: go, from: a, "
            f"to: b}}]\n")
    outcome = compile_or_refuse(text)
    if isinstance(outcome, DefinitionError):
        assert outcome.diagnostics[0].line in (3, 7), str(outcome)
        return
    (spec,) = outcome.stages["a"].follow_ups
    assert isinstance(spec.due(ENTERED, {}, 0, outcome), datetime)


# --- typed fields -----------------------------------------------------------------------------

def test_coerce_fields_returns_stored_forms(journey: CompiledJourney) -> None:
    assert journey.coerce_fields({
        "score": 3, "statement": "ok", "ratio": 2, "ready": True, "tags": ["a"],
        "demo_day": date(2026, 3, 1), "kickoff": datetime(2026, 3, 1, 9, tzinfo=BANGKOK),
    }) == {"score": 3, "statement": "ok", "ratio": 2.0, "ready": True, "tags": ["a"],
           "demo_day": "2026-03-01", "kickoff": "2026-03-01T09:00:00+07:00"}
    assert journey.coerce_fields({"demo_day": "2026-03-01", "statement": None}) == {
        "demo_day": "2026-03-01", "statement": None}
    assert journey.defaults() == {"score": 0, "ready": False, "tags": []}


@pytest.mark.parametrize(("values", "message"), [
    ({"nope": 1}, ("unknown field 'nope' in journey gates@1; fields: demo_day, kickoff, ratio, "
                  "ready, score, statement, tags")),
    ({"score": "3"}, "field 'score': expected int, got str '3'"),
    ({"score": True}, "field 'score': expected int, got bool True"),
    ({"score": 1.5}, "field 'score': expected int, got float 1.5"),
    ({"ready": "yes"}, "field 'ready': expected bool, got str 'yes'"),
    ({"ratio": "1.5"}, "field 'ratio': expected float, got str '1.5'"),
    ({"statement": 5}, "field 'statement': expected string, got int 5"),
    ({"tags": "a,b"}, "field 'tags': expected list[string], got str 'a,b'"),
    ({"tags": ["a", 2]}, "field 'tags': expected string, got int 2"),
    ({"demo_day": "2026-02-30"}, "field 'demo_day': expected date, got '2026-02-30'"),
    ({"demo_day": datetime(2026, 3, 1, tzinfo=UTC)},
     "field 'demo_day': expected a date (YYYY-MM-DD), got a date and time"),
    ({"kickoff": "2026-03-01T09:00:00"},
     ("field 'kickoff': expected a date and time with a UTC offset, e.g. "
     "2026-03-01T09:00:00+07:00")),
    ({"kickoff": "soon"}, "field 'kickoff': expected datetime, got 'soon'"),
])
def test_coerce_fields_errors_name_the_field_and_type(journey: CompiledJourney,
                                                      values: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        journey.coerce_fields(values)
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_compiled_journey_properties(journey: CompiledJourney) -> None:
    assert journey.ref == "gates@1"
    assert (journey.timezone, journey.calendar, journey.partner) == ("Asia/Bangkok", "TH", None)
    assert journey.initial == "start"
    assert journey.label() == "gates"  # untitled: its key
    assert journey.stages["start"].label("th") == "start"
    assert journey.file == "gates.yaml"
    assert journey.source == JOURNEY
