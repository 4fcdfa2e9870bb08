"""The intake keys of a journey: application, scoring, coaching; their diagnostics (with
positions), the partner overlay, the JSON Schema and the CEL names they declare."""

from __future__ import annotations

import json
from datetime import date

import jsonschema
import pytest

from bompao.definitions.intake import DEFAULT_TOPICS, Scale, parse_scale
from bompao.definitions.pipeline import compile_journey
from bompao.definitions.schema import journey_schema
from bompao.definitions.source import load_yaml
from bompao.errors import DefinitionError

JOURNEY = """\
journey: call
version: 1
roles: [reviewer, coach]
fields:
  problem_statement: string
  team_size: int
  needs: list[string]
  conflicts: list[string]
application:
  fields: [problem_statement, team_size, needs]
  required: [problem_statement]
  help: {problem_statement: {en: "What problem?", th: "ปัญหาคืออะไร"}}
  opens: 2027-01-01
  closes: 2027-02-28
scoring:
  role: reviewer
  reviewers: 3
  conflicts: [partner, {field: conflicts}]
  rubric:
    need: {title: {en: Need, th: ความจำเป็น}, weight: 2, scale: 1..5}
    team: {weight: 1, scale: 0..10}
  normalise: zscore
coaching:
  needs: needs
stages:
  applied: {initial: true}
  selected: {}
  declined: {final: true}
  done: {final: true}
transitions:
  - {trigger: select, from: applied, to: selected,
     gate: {expr: "score.count >= 2 && rank <= 10 && score.weighted > -5.0"}}
  - {trigger: decline, from: applied, to: declined}
  - {trigger: finish, from: selected, to: done,
     gate: {expr: "sessions.count >= 1 && sessions.minutes >= 60"}}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        compile_journey(text, file="j.yaml")
    return [str(d) for d in caught.value.diagnostics]


def test_the_keys_load_with_their_defaults() -> None:
    doc = compile_journey(JOURNEY).doc
    assert doc.application is not None
    assert doc.application.opens == date(2027, 1, 1)
    assert doc.application.required == ["problem_statement"]
    assert doc.scoring is not None
    assert doc.scoring.rubric["team"].scale == Scale(0, 10)
    assert doc.scoring.partner_conflict
    assert doc.scoring.listed()[0].field == "conflicts"
    assert doc.coaching is not None
    assert doc.coaching.role == "coach"
    assert list(doc.coaching.topics) == list(DEFAULT_TOPICS) == [
        "idea_development", "model_and_plan", "project_management", "impact_measurement"]
    assert all(t.title and t.title["th"] for t in doc.coaching.topics.values())


@pytest.mark.parametrize(("text", "expected"), [
    ("1..5", Scale(1, 5)), (" 0 .. 10 ", Scale(0, 10)), ("-2..2", Scale(-2, 2))])
def test_scales(text: str, expected: Scale) -> None:
    assert parse_scale(text) == expected
    assert 3 in Scale(1, 5)
    assert 6 not in Scale(1, 5)
    assert True not in Scale(0, 5)
    assert 2.5 not in Scale(1, 5)


def test_bad_scale_is_positioned() -> None:
    found = problems(JOURNEY.replace("scale: 1..5", "scale: 5..1"))
    assert found == [("j.yaml:20:65: error: scoring.rubric.need.scale: bad scale '5..1': "
                     "5 is not below 1; e.g. '1..5'")]


def test_every_reference_problem_at_once_with_positions() -> None:
    text = (JOURNEY.replace("role: reviewer", "role: reviewr")
            .replace("field: conflicts", "field: conflicz")
            .replace("required: [problem_statement]", "required: [problem_statemen]")
            .replace("  team_size: int\n", "  team_size: int\n  rank: int\n", 1)
            .replace("needs: needs", "needs: team_size"))
    found = problems(text)
    assert found == [
        ("j.yaml:7:3: error: field name 'rank' is taken by CEL's rank while the journey "
        "declares 'scoring'; rename the field"),
        ("j.yaml:12:14: error: required field 'problem_statemen' is not one the form asks; "
        "the form asks: problem_statement, team_size, needs"),
        ("j.yaml:17:9: error: unknown role 'reviewr' (did you mean 'reviewer'?); roles: "
        "coach, reviewer"),
        ("j.yaml:19:32: error: unknown field 'conflicz' (did you mean 'conflicts'?); fields: "
        "conflicts, needs, problem_statement, rank, team_size"),
        ("j.yaml:25:10: error: needs field 'team_size' is int; it must be list[string] "
        "naming coaching topics"),
    ]


def test_dates_and_trimmed_need_enough_reviewers() -> None:
    found = problems(JOURNEY.replace("closes: 2027-02-28", "closes: 2026-12-01")
                     .replace("normalise: zscore", "normalise: trimmed")
                     .replace("reviewers: 3", "reviewers: 2"))
    assert any("application closes on 2026-12-01 before it opens on 2027-01-01" in p
               for p in found)
    assert any(p.startswith("j.yaml:22:14: error: a trimmed mean") for p in found)


def test_cel_names_are_type_checked_at_load() -> None:
    found = problems(JOURNEY.replace("score.count >= 2", "score.cnt >= 2"))
    assert len(found) == 1
    assert "score has no 'cnt' (did you mean 'count'?); it has: count, mean, weighted" \
        in found[0]
    found = problems(JOURNEY.replace("rank <= 10", "rank <= 'ten'"))
    assert len(found) == 1
    assert "transitions[0].gate.expr" in found[0]
    without = JOURNEY.replace("coaching:\n  needs: needs\n", "")
    found = problems(without)
    assert len(found) == 1
    assert "CEL sees sessions.* only when the journey declares 'coaching'" in found[0]


def test_a_field_named_score_is_fine_without_scoring() -> None:
    text = JOURNEY.split("application:", maxsplit=1)[0].replace("  conflicts: list[string]\n",
                                                    "  score: int\n") + (
        "stages:\n  a: {initial: true}\n  b: {final: true}\n"
        "transitions:\n  - {trigger: go, from: a, to: b, gate: {expr: 'score > 2'}}\n")
    assert compile_journey(text).doc.scoring is None


def test_a_partner_overrides_key_by_key() -> None:
    partner = ("journey: call-cmu\nversion: 1\nextends: call@1\npartner: cmu\n"
               "scoring:\n  normalise: trimmed\napplication:\n  closes: 2027-03-15\n")
    compiled = compile_journey(partner, file="p.yaml",
                               resolve=lambda key, version: load_yaml(JOURNEY, "j.yaml"))
    assert compiled.doc.scoring is not None
    assert compiled.doc.application is not None
    assert compiled.doc.scoring.normalise == "trimmed"
    assert list(compiled.doc.scoring.rubric) == ["need", "team"]  # kept from the base
    assert (compiled.doc.application.opens, compiled.doc.application.closes) == (
        date(2027, 1, 1), date(2027, 3, 15))


def test_the_schema_accepts_the_keys_and_rejects_a_bad_scale() -> None:
    schema = journey_schema()
    data = json.loads(json.dumps(load_yaml(JOURNEY, "j.yaml").data, default=str))
    jsonschema.validate(data, schema)
    data["scoring"]["rubric"]["need"]["scale"] = "five"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    data["scoring"]["rubric"]["need"]["scale"] = "1..5"
    data["scoring"]["normalise"] = "median"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
