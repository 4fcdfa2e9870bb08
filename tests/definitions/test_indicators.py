"""Indicators in the journey (issue 13): the rhythm's periods, tag formats, extends,
the CEL names gates see and which transitions read measurements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bompao.definitions import GateContext, Source, compile_journey, load_yaml
from bompao.definitions.indicators import (
    Measurement,
    Rhythm,
    check_tag,
    due_periods,
    parse_rhythm,
    summarize,
)
from bompao.errors import CheckError, ExtendsError, NotFound

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "indicators.yaml"
NOW = datetime(2027, 6, 15, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "months"), [
    ("monthly", 1), ("1 month", 1), ("quarterly", 3), ("3 months", 3), ("1 quarter", 3),
    ("half-yearly", 6), ("6 months", 6), ("yearly", 12), ("1 year", 12), ("12 months", 12),
    ("2 months", 2), ("4 months", 4)])
def test_rhythms_are_calendar_periods(text: str, months: int) -> None:
    assert parse_rhythm(text) == Rhythm(months)


@pytest.mark.parametrize("text", ["5 months", "2 years", "1 week", "14 days", "fortnightly",
                                  "0 months", ""])
def test_rhythms_that_do_not_split_a_year_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="reporting rhythm"):
        parse_rhythm(text)


@pytest.mark.parametrize(("months", "label", "start"), [
    (1, "2027-03", date(2027, 3, 1)), (3, "2027-Q2", date(2027, 4, 1)),
    (6, "2027-H2", date(2027, 7, 1)), (12, "2027", date(2027, 1, 1)),
    (2, "2027-05", date(2027, 5, 1))])
def test_period_names_round_trip(months: int, label: str, start: date) -> None:
    rhythm = Rhythm(months)
    assert rhythm.parse(label) == start
    assert rhythm.label(start) == label
    assert rhythm.start_of(date(start.year, start.month, 28)) == start


def test_a_quarter_may_be_named_by_its_first_month() -> None:
    assert Rhythm(3).parse("2027-04") == date(2027, 4, 1)


@pytest.mark.parametrize(("months", "label", "words"), [
    (3, "2027-05", "does not start a period of 3 months"),
    (1, "2027-Q1", "not a period of this indicator"),
    (1, "2027-13", "month 13 is not 01 to 12"),
    (1, "2027", "is a whole year"),
    (1, "March", "is not a period name"),
    (12, "2027-H1", "not a period of this indicator")])
def test_periods_outside_the_rhythm_are_refused(months: int, label: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        Rhythm(months).parse(label)
    assert Rhythm(months).examples() in str(caught.value)  # names what would be right


@pytest.mark.parametrize("tag", ["sdg:4.4", "SDG:4.1", "sdg:17.19", "sdg:4.a", "sdg:5",
                                 "iris:PI4060", "IRIS:OI1479", "education"])
def test_tag_formats_accepted(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize(("tag", "words"), [
    ("sdg:18.1", "goals 1 to 17"), ("sdg:0", "goals 1 to 17"), ("sdg:4.0", "SDG target"),
    ("sdg:4.z", "a to j"), ("sdg4.4", "not an SDG target"), ("iris:P4060", "not an IRIS+"),
    ("iris:PI40601", "not an IRIS+"), ("Education!", "bad tag")])
def test_tag_formats_refused_with_what_is_allowed(tag: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_tag(tag)


def test_the_valid_fixture_declares_cel_names_with_their_types() -> None:
    journey = compile_journey(VALID.read_bytes(), file="indicators.yaml")
    assert set(journey.indicators) == {"people_reached", "satisfaction", "income",
                                       "still_operating"}
    spec = journey.indicators["people_reached"]
    assert (spec.type, spec.aggregate, spec.every, spec.owner, spec.target) == (
        "int", "sum", Rhythm(1), "participant", 200)
    assert spec.title == {"en": "People reached", "th": "จำนวนผู้ได้รับประโยชน์"}
    # defaults: percent and bool take the last period; int, decimal and money add up
    assert journey.indicators["still_operating"].aggregate == "last"
    assert journey.indicators["income"].aggregate == "sum"
    (transition,) = journey.transitions
    assert transition.indicators == {"people_reached", "satisfaction", "still_operating"}


def test_a_journey_whose_gates_read_no_indicator_marks_no_transition() -> None:
    text = VALID.read_text(encoding="utf-8").split("transitions:")[0] + (
        "transitions:\n  - {trigger: hand_off, from: test_run, to: handoff}\n")
    (transition,) = compile_journey(text).transitions
    assert transition.indicators == frozenset()


def _journey_with(expr: str) -> str:
    return VALID.read_text(encoding="utf-8").split("    gate:")[0] + (
        f"    gate: {{expr: {expr!r}}}\n")


@pytest.mark.parametrize(("expr", "words"), [
    ("indicators.people_reached.total >= 'many'",
     "compares `indicators.people_reached.total` (a number) with `'many'` (text)"),
    ("indicators.still_operating.total > 1",
     "compares `indicators.still_operating.total` (true or false) with `1` (a number)"),
    ("indicators.income.progress > 0.5", "has no 'progress'"),
    ("indicators.peple_reached.total > 1", ("unknown indicator 'peple_reached' (did you "
                                           "mean 'people_reached'?)")),
    ("indicators.people_reached.latst > 1", "(did you mean 'latest'?)"),
])
def test_cel_names_are_type_checked_when_the_journey_loads(expr: str, words: str) -> None:
    with pytest.raises(CheckError) as caught:
        compile_journey(_journey_with(expr), file="j.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert words in diagnostic.message
    assert diagnostic.line == 28  # the gate's line in the file


def _context(summaries: dict[str, dict[str, object]]) -> GateContext:
    return GateContext(fields={}, evidence={}, approvals={}, entered_at=NOW, now=NOW,
                       indicators=summaries)


def test_gates_evaluate_indicator_summaries_and_a_missing_value_is_unmet() -> None:
    journey = compile_journey(_journey_with(
        "indicators.people_reached.total >= 200 && indicators.people_reached.missing == 0"))
    (branch,) = journey.transitions[0].branches
    met = branch.evaluate(_context({"people_reached": {"total": 230, "missing": 0}}), journey)
    assert met.met
    short = branch.evaluate(_context({"people_reached": {"total": 199, "missing": 0}}),
                            journey)
    assert not short.met
    assert short.seen["indicators.people_reached.total"] == 199
    nothing = branch.evaluate(_context({}), journey)
    assert not nothing.met
    assert nothing.seen["missing"] == ["indicators.people_reached.total",
                                       "indicators.people_reached.missing"]


BASE = """\
journey: base
version: 1
roles: [participant, coach]
indicators:
  people_reached: {type: int, target: 200, owner: participant, tags: ["sdg:4.4"]}
  volunteers: {type: int}
stages:
  run: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: run, to: done}
"""


def _resolve(key: str, version: int) -> Source:
    if (key, version) != ("base", 1):
        raise NotFound(f"unknown journey '{key}@{version}'")
    return load_yaml(BASE, "base.yaml")


def test_a_partner_overrides_one_key_of_an_indicator_and_adds_another() -> None:
    journey = compile_journey("""\
journey: partner
version: 1
extends: base@1
indicators:
  people_reached: {target: 500}
  income: {type: money, unit: {en: baht, th: บาท}}
""", resolve=_resolve)
    reached = journey.indicators["people_reached"]
    assert (reached.target, reached.owner, reached.tags) == (500, "participant", ["sdg:4.4"])
    assert journey.indicators["income"].unit == {"en": "baht", "th": "บาท"}
    assert "volunteers" in journey.indicators


def test_a_partner_removes_an_indicator_and_a_gate_naming_it_is_refused() -> None:
    journey = compile_journey("journey: partner\nversion: 1\nextends: base@1\n"
                              "remove: {indicators: [volunteers]}\n", resolve=_resolve)
    assert set(journey.indicators) == {"people_reached"}
    with pytest.raises(ExtendsError, match=r"remove.indicators: 'income' is not in the base"):
        compile_journey("journey: partner\nversion: 1\nextends: base@1\n"
                        "remove: {indicators: [income]}\n", resolve=_resolve)


def test_a_partner_override_is_checked_at_the_partner_line() -> None:
    with pytest.raises(CheckError) as caught:
        compile_journey("journey: partner\nversion: 1\nextends: base@1\n"
                        "indicators:\n  people_reached: {owner: mentor}\n",
                        file="partner.yaml", resolve=_resolve)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("partner.yaml", 5)
    assert "unknown role 'mentor'" in diagnostic.message


def test_due_periods_follow_the_stages_in_the_journey_timezone() -> None:
    rhythm = Rhythm(1)
    # entered test_run at 2027-01-31 18:00 UTC = 2027-02-01 01:00 in Bangkok: February on
    stays = [("idea", datetime(2027, 1, 5, tzinfo=UTC), datetime(2027, 1, 31, 18, tzinfo=UTC)),
             ("test_run", datetime(2027, 1, 31, 18, tzinfo=UTC),
              datetime(2027, 4, 10, tzinfo=UTC)),
             ("showcase", datetime(2027, 4, 10, tzinfo=UTC), None)]
    due = due_periods(rhythm, stays, ["test_run"], NOW, "Asia/Bangkok")
    assert due == [date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1)]
    in_utc = due_periods(rhythm, stays, ["test_run"], NOW, "UTC")
    assert in_utc[0] == date(2027, 1, 1)
    # the period in progress (June) is not due yet
    assert due_periods(rhythm, stays, ["showcase"], NOW, "Asia/Bangkok") == [
        date(2027, 4, 1), date(2027, 5, 1)]


class _Spec:
    def __init__(self, kind: str, aggregate: str, target: object = None,
                 baseline: object = None) -> None:
        self.type, self.aggregate, self.target, self.baseline = kind, aggregate, target, baseline


@pytest.mark.parametrize(("aggregate", "total"), [("sum", 60), ("last", 25), ("max", 25),
                                                  ("mean", 20.0)])
def test_a_correction_replaces_its_period_in_every_aggregate(aggregate: str,
                                                             total: float) -> None:
    at = NOW
    values = [Measurement(date(2027, 1, 1), 10, at, "a"), Measurement(date(2027, 2, 1), 99, at,
                                                                       "a"),
              Measurement(date(2027, 3, 1), 25, at, "a"),
              Measurement(date(2027, 2, 1), 25, at, "b")]  # corrects February
    summary = summarize(_Spec("int", aggregate, target=100, baseline=20), Rhythm(1), values,
                        [date(2027, 1, 1), date(2027, 4, 1)])
    assert summary["total"] == total
    assert summary["periods"] == 3
    assert summary["missing"] == 1
    assert summary["missing_periods"] == ["2027-04"]
    assert summary["progress"] == pytest.approx((total - 20) / 80)
    assert [v["value"] for v in summary["values"]] == [10, 25, 25]
    assert summary["values"][1]["by"] == "b"


def test_nothing_measured_sums_to_zero_and_has_no_latest() -> None:
    summary = summarize(_Spec("int", "sum", target=10), Rhythm(1), [], [])
    assert (summary["total"], summary["latest"], summary["progress"]) == (0, None, 0.0)
    last = summarize(_Spec("bool", "last", target=True), Rhythm(12), [], [])
    assert (last["total"], last["progress"]) == (None, None)
