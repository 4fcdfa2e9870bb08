"""Deep checks: fixtures with known answers, the bundled journeys, min/max, and the Z3
translation checked against CEL itself on random expressions and values."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    DEEP_FIELDS,
    Family,
    deep_expressions,
    deep_gates,
    deep_values,
    generated_journeys,
)

from bompao.definitions import GateContext, JourneyCatalog, bundled_dir, compile_journey
from bompao.definitions.deep import deep_check
from bompao.definitions.deep.cel import OutsideSubset, parse
from bompao.definitions.deep.smt import Vocabulary, translate
from bompao.definitions.expressions import compile_expression, make_env
from bompao.definitions.model import FieldSpec
from bompao.errors import InvalidValue, SchemaError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "deep"
BOMPAO = Path(sys.executable).with_name("bompao")

# Each answer was worked out by hand from the fixture: (line, column, severity, text).
APPROVALS_NOTE = ("approvals: the journey declares roles, not people (any number of people "
                  "may approve in a role, each once per stage visit), so an approval count "
                  "is reported only when the gate itself contradicts it, e.g. with "
                  "approvals.ROLE in an expression or under 'not'")
SUBSET = ("outside the subset deep checks understand (comparisons, arithmetic, size(), &&, "
          "||, ! on int, float, bool, string and list fields)")
KNOWN = {
    "contradiction.yaml": [
        (17, 13, "error", ("the gate of trigger 'impossible' can never pass: expression "
         "'score > 10 && score < 5' can never be true (score is int)")),
        (24, 17, "error", ("the gate of trigger 'over_max' can never pass: expression "
         "'grade > 10' can never be true (grade is int, min 0, max 10)")),
        (32, 18, "error", ("the gate of trigger 'ratio_out' can never pass: expression "
         "'ratio * 2.0 > 2.5' can never be true (ratio is float, min 0.0, max 1.0)")),
        (38, 17, "error", ("the gate of trigger 'finish' can never pass: expression "
         "'score >= 3' contradicts not expression 'score > 1' (line 39)")),
    ],
    "time.yaml": [
        (11, 31, "error", ("follow-up 'too_late' can never fire: follow-up 'give_up' (after "
                           "3 months, action: transition 'stall') always leaves stage "
                           "'running' first")),
        (12, 29, "error", ("follow-up 'review' can never fire: follow-up 'give_up' (after 3 "
                           "months, action: transition 'stall') always leaves stage "
                           "'running' first")),
        (22, 30, "error", ("the gate of trigger 'finish' can never pass in stage 'running': "
         "follow-up 'give_up' (after 3 months, action: transition 'stall') always leaves "
         "the stage first, before min_time_in_stage 6 months")),
    ],
    "reach.yaml": [
        (5, 1, "note", APPROVALS_NOTE),
        (9, 3, "error", ("no final stage can be reached from stage 'intake' through gates that "
         "can pass; gates that can never pass close 'shelve' to 'archive'; the other ways "
         "out lead only to stages that cannot finish either")),
        (10, 3, "error", ("no final stage can be reached from stage 'review' through gates "
         "that can pass; gates that can never pass close 'accept' to 'done'; the other ways "
         "out lead only to stages that cannot finish either")),
        (11, 3, "error", ("stage 'archive' can never be entered: every way in has a gate that "
         "can never pass: 'shelve' from 'intake' (line 28)")),
        (12, 3, "error", ("stage 'done' can never be entered: every way in has a gate that can "
         "never pass: 'accept' from 'review' (line 21)")),
        (22, 21, "error", ("the gate of trigger 'accept' can never pass: evidence 'plan' "
         "contradicts not evidence 'plan' (line 23)")),
        (29, 21, "error", ("the gate of trigger 'shelve' can never pass: approval {role: "
         "committee, count: 3} contradicts expression 'approvals.committee < 2' (line 30)")),
    ],
    "subset.yaml": [
        (18, 18, "note", f"not checked: \"'ok' in tags\" uses 'in' on a list field, {SUBSET}"),
        (22, 18, "note", f"not checked: 'now > demo_day' uses timestamps ('now'), {SUBSET}"),
        (42, 18, "error", ("the gate of trigger 'named' can never pass: expression \"name."
         "startsWith('Ban') && size(name) == 3 && name != 'Ban'\" can never be true (name is "
         "string)")),
    ],
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_fixture_findings_are_the_known_answers(name: str) -> None:
    path = FIXTURES / name
    findings = deep_check(path.read_text(), file=str(path))
    assert [(f.line, f.column, f.severity, f.message) for f in findings] == KNOWN[name]
    assert all(f.file == str(path) for f in findings)


def test_every_fixture_has_known_answers() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.yaml")) == sorted(KNOWN)


@pytest.mark.parametrize("path", sorted(bundled_dir().glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_journeys_have_no_deep_error(path: Path) -> None:
    findings = deep_check(path.read_text(), file=str(path), resolve=JourneyCatalog().resolve)
    assert [str(f) for f in findings if f.severity == "error"] == []


def _one_way(gate: str, fields: str = "score: {type: int, default: 0}",
             follow_ups: str = "") -> str:
    return (f"journey: t\nversion: 1\nroles: [coach]\nfields:\n  {fields}\nstages:\n"
            f"  a:\n    initial: true\n    follow_ups: [{follow_ups}]\n  b: {{final: true}}\n"
            f"transitions:\n  - trigger: go\n    from: a\n    to: b\n    gate: {gate}\n"
            "  - {trigger: leave, from: a, to: b}\n")


@pytest.mark.parametrize(("gate", "errors"), [
    ("{expr: 'score > 10 && score < 5'}", 1),
    ("{expr: 'score > 10 || score < 5'}", 0),
    ("{expr: 'score * score < 0'}", 1),  # overflow is an error in CEL, not a wrap-around
    ("{expr: 'score / 0 == 1'}", 1),  # division by zero is an error: never met
    ("{not: {expr: 'score / 0 == 1'}}", 0),  # ... so its negation is met
    ("{expr: 'days_in_stage < 0'}", 1),
    ("[{min_time_in_stage: 10 days}, {expr: 'days_in_stage < 9'}]", 1),
    ("[{min_time_in_stage: 10 days}, {expr: 'days_in_stage < 11'}]", 0),
    ("{any: [{expr: 'score > 1 && score < 1'}, {evidence: e}]}", 0),
    ("{approval: {role: coach, count: 2}}", 0),
    ("[{approval: {role: coach, count: 2}}, {not: {approval: {role: coach}}}]", 1),
    ("{expr: \"has(approvals.coach) && approvals.coach == 0\"}", 0),  # a key may hold 0
    ("{expr: \"'e' in evidence && !has(evidence.e)\"}", 1),
])
def test_gate_verdicts(gate: str, errors: int) -> None:
    text = _one_way(gate).replace("roles: [coach]", "roles: [coach]\nevidence: {e: {}}")
    found = [f for f in deep_check(text) if f.severity == "error"]
    assert len(found) == errors, [str(f) for f in found]


def test_an_auto_transition_with_a_gate_that_may_fail_does_not_always_leave() -> None:
    gated = _one_way("[{min_time_in_stage: 6 months}]",
                     follow_ups="{after: 1 month, action: transition, trigger: leave}")
    gated = gated.replace("{trigger: leave, from: a, to: b}",
                          "{trigger: leave, from: a, to: b, gate: {expr: 'score > 3'}}")
    assert [f for f in deep_check(gated) if f.severity == "error"] == []
    forced = gated.replace("trigger: leave}", "trigger: leave, force: true}")
    assert [f.message for f in deep_check(forced) if f.severity == "error"] == [
        ("the gate of trigger 'go' can never pass in stage 'a': follow-up '#1 (transition)' "
         "(after 1 month, action: transition 'leave') always leaves the stage first, before "
         "min_time_in_stage 6 months")]


def test_a_follow_up_whose_transition_can_never_pass() -> None:
    text = _one_way("{expr: 'score < 0'}", fields="score: {type: int, default: 0, min: 0}",
                    follow_ups="{id: push, after: 2 days, action: transition, trigger: go}")
    assert [(f.line, f.message) for f in deep_check(text) if f.severity == "error"] == [
        (9, ("follow-up 'push' can never fire its transition: the gate of trigger 'go' can "
             "never pass from stage 'a'")),
        (15, ("the gate of trigger 'go' can never pass: expression 'score < 0' can never be "
              "true (score is int, min 0)"))]
    # a person may override the gate, a follow-up (without force) may not
    overridable = text.replace("    to: b\n    gate:", "    to: b\n    override_roles: [coach]\n"
                               "    gate:")
    assert overridable != text
    assert [f.line for f in deep_check(overridable) if f.severity == "error"] == [9, 16]


@settings(max_examples=40, deadline=None, database=None)
@given(family=generated_journeys())
def test_generated_journeys_are_deep_checked_at_real_positions(family: Family) -> None:
    text = family.versions[1]
    lines = text.count("\n") + 1
    for finding in deep_check(text, file="g.yaml"):
        assert finding.file == "g.yaml"
        assert 1 <= finding.line <= lines
        assert finding.severity in ("error", "note")


def test_a_month_is_not_always_longer_than_31_days() -> None:
    text = _one_way("[{min_time_in_stage: 31 days}]",
                    follow_ups="{after: 1 month, action: transition, trigger: leave}")
    assert [f for f in deep_check(text) if f.severity == "error"] == []


@pytest.mark.parametrize(("field", "message"), [
    ("{type: int, min: 5, max: 1}", "fields.score: min 5 is greater than max 1"),
    ("{type: int, min: 0, max: 10, default: 11}", "fields.score: default 11 is above max 10"),
    ("{type: float, min: 0.5, default: 0.25}", "fields.score: default 0.25 is below min 0.5"),
    ("{type: string, min: 1}", ("fields.score: 'min' and 'max' apply to int and float "
                                "fields; this field is string")),
    ("{type: int, max: 2.5}", "fields.score: an int field's 'min' and 'max' are whole numbers"),
])
def test_min_max_problems_are_positioned(field: str, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        compile_journey(_one_way("{expr: 'true'}", fields=f"score: {field}"), file="j.yaml")
    assert [(d.line, d.column, d.message) for d in caught.value.diagnostics] == [
        (5, 10, message)]


def test_values_are_held_to_min_and_max() -> None:
    journey = compile_journey(_one_way("{expr: 'score >= 0.0'}",
                                       fields="score: {type: float, min: 0, max: 1.5}"))
    assert journey.coerce_fields({"score": 1.5}) == {"score": 1.5}
    assert journey.fields_from_text({"score": "0"}) == {"score": 0.0}
    for bad, why in ((1.75, "expected at most 1.5 (the field's max), got 1.75"),
                     (-1, "expected at least 0 (the field's min), got -1.0"),
                     (math.nan, "expected a finite float, got nan")):
        with pytest.raises(InvalidValue) as caught:
            journey.coerce_fields({"score": bad})
        assert str(caught.value) == f"field 'score': {why}"
    with pytest.raises(InvalidValue, match=r"at most 1\.5"):
        journey.fields_from_text({"score": "2"})


def test_the_parser_says_what_is_outside_the_subset() -> None:
    for text, what in (("x in {1: 2}", "map literals"), ("1u > 0u", "unsigned integers"),
                       ("b'a' == b'a'", "bytes literals"), ("x == null", "null")):
        with pytest.raises(OutsideSubset, match=what):
            parse(text)


def _z3_met(text: str, values: dict[str, object]) -> bool:
    specs = {name: FieldSpec(type=kind) for name, kind in DEEP_FIELDS.items()}  # type: ignore[arg-type]
    vocabulary = Vocabulary(specs)
    formula = translate(parse(text), vocabulary)
    terms = {name: vocabulary.field(name) for name in DEEP_FIELDS}  # before the constraints
    solver = z3.Solver()
    solver.add(*vocabulary.constraints, formula)
    for name, term in terms.items():
        solver.add(term.defined == (name in values))
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, bool | int):
            solver.add(term.value == value)
        elif isinstance(value, float):
            # '==' is identity: +0.0 and -0.0 differ (fpEQ would let Z3 pick -0.0)
            solver.add(term.value == z3.FPVal(value, z3.Float64()))
        else:
            solver.add(term.value == z3.StringVal(str(value)))
    return bool(solver.check() == z3.sat)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, database=None)
@given(text=deep_expressions(), values=deep_values())
def test_z3_agrees_with_cel_on_every_value(text: str, values: dict[str, object]) -> None:
    """The oracle is CEL itself (cel-expr-python): met means a value and true."""
    program = compile_expression(make_env(DEEP_FIELDS), text)
    try:
        result = program.eval(data=values)
        met = str(result.type()) != "ERROR" and result.value() is True
    except RuntimeError:
        met = False
    assert _z3_met(text, values) == met


def _gate_journey(gate: object) -> str:
    fields = ", ".join(f"{name}: {{type: {kind}}}" for name, kind in DEEP_FIELDS.items())
    return (f"journey: g\nversion: 1\nroles: [coach]\nfields: {{{fields}}}\n"
            "evidence: {e1: {}, e2: {}}\nstages:\n  a: {initial: true}\n  b: {final: true}\n"
            f"transitions:\n  - {{trigger: go, from: a, to: b, gate: {json.dumps(gate)}}}\n"
            "  - {trigger: leave, from: a, to: b}\n")


@pytest.mark.slow
@settings(max_examples=80, deadline=None, database=None)
@given(gate=deep_gates(), data=st.data())
def test_a_gate_said_never_to_pass_never_passes_in_the_engine(gate: object,
                                                             data: st.DataObject) -> None:
    """The oracle is the engine's own gate evaluation on random projects and times."""
    text = _gate_journey(gate)
    assert yaml.safe_load(text)["transitions"][0]["gate"] == gate
    journey = compile_journey(text)
    never = any("the gate of trigger 'go' can never pass" in f.message
                for f in deep_check(text))
    transition = journey.transition("a", "go")
    for _ in range(15):
        entered = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
            hours=data.draw(st.integers(0, 24 * 365)))
        coach = data.draw(st.integers(0, 3))
        ctx = GateContext(
            fields=data.draw(deep_values()),
            evidence={e: {} for e in data.draw(st.sets(st.sampled_from(["e1", "e2"])))},
            approvals={"coach": coach} if coach else {},
            entered_at=entered,
            now=entered + timedelta(hours=data.draw(st.integers(0, 24 * 120))))
        if transition.evaluate(ctx, journey).met:
            assert not never, f"deep checks said never, but it passed with {ctx}"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BOMPAO), *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120, check=False)


def test_cli_validate_deep() -> None:
    done = _cli("validate", "--deep", "journeys/", "tests/fixtures/deep/time.yaml")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    assert errors == [f"tests/fixtures/deep/time.yaml:{line}:{column}: error: {message}"
                      for line, column, _, message in KNOWN["time.yaml"]]
    assert done.stdout.count("ok: journeys/") == 4
    clean = _cli("validate", "--deep", "journeys/")
    assert clean.returncode == 0, clean.stderr
    plain = _cli("validate", "tests/fixtures/deep/time.yaml")
    assert plain.returncode == 0
    assert plain.stderr == ""


def test_cli_validate_deep_json() -> None:
    done = _cli("--json", "validate", "--deep", "tests/fixtures/deep/subset.yaml")
    assert done.returncode == 1
    [result] = json.loads(done.stdout)["files"]
    assert result["ok"] is False
    assert [(f["line"], f["severity"]) for f in result["findings"]] == [
        (18, "note"), (22, "note"), (42, "error")]


def test_each_branch_is_a_way_with_its_own_gate_and_position() -> None:
    text = ("journey: t\nversion: 1\nroles: [coach]\nfields:\n  score: {type: int, default: 0}\n"
            "stages:\n  a: {initial: true}\n  b: {final: true}\n  c: {final: true}\n"
            "transitions:\n  - trigger: go\n    from: a\n    branches:\n"
            "      - to: b\n        gate: {expr: 'score > 10 && score < 5'}\n"
            "      - to: c\n")
    errors = [(f.line, f.message) for f in deep_check(text) if f.severity == "error"]
    # the impossible first branch is found at its own gate (line 15); the second branch
    # (no gate) still reaches a final stage, so 'a' is not cut off
    assert errors == [
        (8, ("stage 'b' can never be entered: every way in has a gate that can never pass: "
             "'go' from 'a' (line 15)")),
        (15, ("the gate of trigger 'go' can never pass: expression 'score > 10 && score < 5' "
              "can never be true (score is int)"))]


@pytest.mark.parametrize(("duration", "days", "passes_on"), [
    ("1 months", 28, [28, 29, 30]),  # January has 31 days: 28-30 days in, not a month yet
    ("5 business days", 5, [5, 6]),  # entered on a Friday: the weekend is no business day
])
def test_not_min_time_beside_days_in_stage_is_not_called_impossible(
        duration: str, days: int, passes_on: list[int]) -> None:
    """The counterexample of the flaky property test above: ``not: min_time_in_stage``
    was modelled as "fewer days than the duration's fewest", so beside
    ``days_in_stage >= N`` the gate was called impossible though it passes whenever the
    duration lasts longer than its fewest days. The oracle is the day count by hand."""
    gate = {"all": [{"not": {"min_time_in_stage": duration}},
                    {"expr": f"days_in_stage >= {days}"}]}
    text = _gate_journey(gate)
    assert not any("can never pass" in f.message for f in deep_check(text))
    journey = compile_journey(text)
    transition = journey.transition("a", "go")
    entered = datetime(2026, 1, 2, 3, tzinfo=UTC)  # Friday 2 January, 10:00 in Bangkok
    passed = [d for d in range(40) if transition.evaluate(GateContext(
        fields={}, evidence={}, approvals={}, entered_at=entered,
        now=entered + timedelta(days=d)), journey).met]
    assert passed == passes_on
