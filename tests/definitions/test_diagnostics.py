"""Broken journeys: one fixture per check, exact ``FILE:LINE:COL: error: MESSAGE`` lines.

Every position below was checked by hand against the fixture: it points at the
offending key or value (for CEL, at the offending token inside the expression).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bompao.definitions import JourneyCatalog, Source, bundled_dir, compile_journey, load_yaml
from bompao.definitions.extends import Resolver
from bompao.errors import (
    CheckError,
    DefinitionError,
    ExtendsError,
    LoadError,
    NotFound,
    SchemaError,
)

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
CEL_EXPECTING = ("expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', "
                 "NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}")
NOT_FINAL = "is not final and has no way out: add a transition from it or mark it 'final: true'"
EXPECTED_DURATION = ("expected N day(s), week(s), month(s), year(s) or business day(s), "
                     "e.g. '14 days'")

TAG_EXPECTED = ("expected an SDG target such as 'sdg:4.4' (goal 1 to 17, target a number "
                "or a letter), an IRIS+ metric code such as 'iris:PI4060' (two letters, four "
                "digits), or a plain tag such as 'education'")

SOCIAL = bundled_dir() / "earlier" / "social-incubator-1.yaml"  # what the partners extend
SEES = "and evidence, approvals, days_in_stage, now"

EXPECTED: dict[str, tuple[type[DefinitionError], list[str]]] = {
    # --- errors that teach (issue 15): the cause first, at the partner's own line ------
    "partner_typo": (CheckError, [
        ("broken/partner_typo.yaml:10:53: error: unknown stage 'ethic_review' (did you mean "
         "'ethics_review'?); stages: ethics_review, handoff, idea, showcase, stalled, "
         "test_run, validation, withdrawn"),
    ]),
    "partner_remove": (CheckError, [
        ("broken/partner_remove.yaml:8:12: error: remove.stages: removing 'stalled' (and with "
         f"it transition 'stall', test_run -> stalled) breaks the base journey at {SOCIAL}:82:18"
         ": no transition from stage 'test_run' offers trigger 'stall'; it offers: present, "
         "withdraw; override 'stages.test_run.follow_ups' in this journey to drop or change "
         "it"),
    ]),
    "partner_replace": (CheckError, [
        ("broken/partner_replace.yaml:10:5: error: this transition replaces the base's "
         "'present' from 'test_run', the way into 'showcase': stage 'showcase' cannot be "
         f"reached from the initial stage 'idea' (the stage is at {SOCIAL}:83:3); add a "
         "transition into 'showcase' or remove the stage"),
        ("broken/partner_replace.yaml:13:12: error: remove.fields: removing "
         f"'partners_committed' breaks the base journey at {SOCIAL}:161:23: "
         "transitions[3].gate.all[0].expr: CEL: unknown name 'partners_committed'; an "
         "expression sees the fields (demo_day, interviews_done, people_reached, "
         f"problem_statement, target_group) {SEES}; override or remove the transition "
         "'hand_off' from 'showcase' as well"),
    ]),
    # --- indicators (issue 13) -----------------------------------------------------------
    "indicator_tag": (SchemaError, [
        ("broken/indicator_tag.yaml:5:11: error: indicators.people_reached.type: expected "
         "'int', 'decimal', 'percent', 'money' or 'bool', got 'integer'"),
        ("broken/indicator_tag.yaml:6:12: error: indicators.people_reached.every: bad "
         "reporting rhythm '5 months': calendar periods split a year evenly; expected "
         "monthly, quarterly, half-yearly, yearly, or 'N months' with N one of 1, 2, 3, 4, "
         "6, 12 (also '1 quarter', '1 year')"),
        ("broken/indicator_tag.yaml:7:12: error: indicators.people_reached.tags[0]: tag "
         f"'sdg:18.1': the SDGs are goals 1 to 17; {TAG_EXPECTED}"),
        ("broken/indicator_tag.yaml:7:24: error: indicators.people_reached.tags[1]: tag "
         f"'iris:P4060' is not an IRIS+ code; {TAG_EXPECTED}"),
    ]),
    "indicator_refs": (CheckError, [
        ("broken/indicator_refs.yaml:5:40: error: unknown stage 'tst_run' (did you mean "
         "'test_run'?); stages: done, test_run"),
        ("broken/indicator_refs.yaml:5:57: error: unknown role 'particpant' (did you mean "
         "'participant'?); roles: participant"),
        ("broken/indicator_refs.yaml:5:77: error: indicators.people_reached.target: an int "
         "indicator takes whole numbers, got 2.5 (the indicator is int)"),
        ("broken/indicator_refs.yaml:6:38: error: indicators.operating: a bool indicator "
         "combines its periods with 'last' or 'max' (any true), not 'sum'"),
        ("broken/indicator_refs.yaml:14:84: error: transitions[0].gate.expr: indicator "
         "'operating' has no 'progress'; it has: latest, missing, periods, total (progress "
         "needs a target)"),
    ]),
    # --- shapes the JSON Schema also refuses (tests/definitions/test_schema.py) ---------
    "criterion_two_kinds": (SchemaError, [
        ("broken/criterion_two_kinds.yaml:13:11: error: transitions[0].gate: a criterion needs "
         "exactly one of all, any, not, expr, evidence, approval, min_time_in_stage; got "
         "'expr', 'evidence'"),
    ]),
    "follow_up_no_time": (SchemaError, [
        ("broken/follow_up_no_time.yaml:11:9: error: stages.start.follow_ups[0]: a follow-up "
         "needs 'after', 'every' or 'at'"),
        ("broken/follow_up_no_time.yaml:12:9: error: stages.start.follow_ups[1]: a follow-up "
         "with 'at' takes neither 'after' nor 'every'"),
    ]),
    "remove_alone": (ExtendsError, [
        ("broken/remove_alone.yaml:9:1: error: remove: only a journey that extends another can "
         "remove from it; add 'extends: KEY@VERSION' or drop 'remove'"),
    ]),
    "thai_key": (SchemaError, [
        ("broken/thai_key.yaml:5:3: error: stage key 'ไอเดีย' is not a valid name: keys are "
         "lower-case English letters, digits and '_'; keep the Thai as its title: "
         "english_key: {title: {th: ไอเดีย}}"),
    ]),
    "yaml_tab": (LoadError, [
        ("broken/yaml_tab.yaml:5:1: error: invalid YAML: a tab character here; YAML indents "
         "with spaces only: replace the tab with spaces"),
    ]),
    "yaml_indent": (LoadError, [
        ("broken/yaml_indent.yaml:7:4: error: invalid YAML: wrong indentation: 'final' is "
         "indented 3 spaces, which lines up with no key above it; indent it 4 spaces to sit "
         "beside 'initial', or 2 to sit beside 'start'"),
    ]),
    "yaml_star": (LoadError, [
        ("broken/yaml_star.yaml:9:11: error: invalid YAML: an unquoted '*' starts a YAML "
         "alias; write it in quotes: \"*\" (as in from: \"*\", every non-final stage)"),
    ]),
    "yaml_colon": (LoadError, [
        ("broken/yaml_colon.yaml:7:12: error: invalid YAML: ': ' inside an unquoted value "
         "starts a new key; put the whole value in quotes: \"Idea: the start\""),
    ]),
    "cel_words": (CheckError, [
        ("broken/cel_words.yaml:15:17: error: transitions[0].gate.all[0].expr: CEL: unknown "
         "name 'interview_done' (did you mean 'interviews_done'?); an expression sees the "
         f"fields (interviews_done) {SEES}"),
        ("broken/cel_words.yaml:16:33: error: transitions[0].gate.all[1].expr: CEL: compares "
         "`interviews_done` (a number) with the text \"5\"; write 5 without quotes"),
    ]),
    "no_initial": (CheckError, [
        ("broken/no_initial.yaml:5:3: error: no initial stage: mark exactly one stage with "
        "'initial: true'"),
    ]),
    "several_initial": (CheckError, [
        ("broken/several_initial.yaml:6:3: error: stage 'other' cannot be reached from the "
        "initial stage 'start'"),
        ("broken/several_initial.yaml:7:5: error: several initial stages (other, start); "
        "exactly one may be initial"),
    ]),
    "unknown_stage": (CheckError, [
        # 'start' without a way out and 'middle'/'done' unreachable are consequences of
        # 'midle', which reading it as 'middle' mends: only the causes are reported
        ("broken/unknown_stage.yaml:11:9: error: unknown stage 'midle' (did you mean "
        "'middle'?); stages: done, middle, start"),
        ("broken/unknown_stage.yaml:13:20: error: unknown stage 'limbo'; stages: done, "
        "middle, start"),
    ]),
    "unknown_role": (CheckError, [
        "broken/unknown_role.yaml:10:21: error: unknown role 'mentor'; roles: coach, committee",
        ("broken/unknown_role.yaml:16:13: error: unknown role 'cooch' (did you mean 'coach'?); "
        "roles: coach, committee"),
        "broken/unknown_role.yaml:18:24: error: unknown role 'jury'; roles: coach, committee",
    ]),
    "unknown_field": (CheckError, [
        "broken/unknown_field.yaml:9:13: error: unknown field 'deadline'; fields: score",
        ("broken/unknown_field.yaml:18:14: error: transitions[0].gate.expr: CEL: unknown name "
         "'scores' (did you mean 'score'?); an expression sees the fields (score) and "
         "evidence, approvals, days_in_stage, now"),
    ]),
    "unknown_evidence": (CheckError, [
        ("broken/unknown_evidence.yaml:15:21: error: unknown evidence item 'stakeholder_mapp' "
        "(did you mean 'stakeholder_map'?); evidence items: stakeholder_map"),
        ("broken/unknown_evidence.yaml:16:21: error: unknown evidence item 'budget'; "
        "evidence items: stakeholder_map"),
    ]),
    "unknown_trigger": (CheckError, [
        ("broken/unknown_trigger.yaml:9:18: error: no transition from stage 'start' offers "
        "trigger 'stal'; it offers: stall"),
    ]),
    "trigger_not_offered": (CheckError, [
        ("broken/trigger_not_offered.yaml:9:18: error: no transition from stage 'start' offers "
        "trigger 'finish'; it offers: go"),
    ]),
    "unreachable": (CheckError, [
        ("broken/unreachable.yaml:6:3: error: stage 'island' cannot be reached from the "
        "initial stage 'start'"),
    ]),
    "dead_end": (CheckError, [
        f"broken/dead_end.yaml:6:3: error: stage 'stuck' {NOT_FINAL}",
    ]),
    "final_exit": (CheckError, [
        ("broken/final_exit.yaml:12:11: error: transition 'reopen' leaves the final stage "
        "'done'; final stages have no way out"),
    ]),
    "duplicate_transition": (CheckError, [
        ("broken/duplicate_transition.yaml:13:11: error: duplicate transition: trigger 'go' "
        "from 'start' is already defined at line 9"),
    ]),
    "cel_syntax": (CheckError, [
        ("broken/cel_syntax.yaml:14:22: error: transitions[0].gate.expr: CEL: Syntax error: "
        f"extraneous input '>=' {CEL_EXPECTING}"),
        ("broken/cel_syntax.yaml:19:23: error: transitions[1].gate.expr: CEL: Syntax error: "
        f"extraneous input '>=' {CEL_EXPECTING}"),
        ("broken/cel_syntax.yaml:26:20: error: transitions[2].gate.expr: CEL: Syntax error: "
        f"extraneous input '>=' {CEL_EXPECTING}"),
    ]),
    "cel_type": (CheckError, [
        ("broken/cel_type.yaml:15:19: error: transitions[0].gate.expr: CEL: found no matching "
        "overload for '_+_' applied to '(int, string)'"),
        ("broken/cel_type.yaml:20:32: error: transitions[1].gate.expr: CEL: compares `name` "
         "(text) with `3` (a number); both sides of '>' need the same type"),
        ("broken/cel_type.yaml:27:15: error: transitions[2].gate.expr: CEL: found no matching "
        "overload for 'size' applied to '(int)'"),
    ]),
    "bad_duration": (SchemaError, [
        ("broken/bad_duration.yaml:7:16: error: stages.start.follow_ups[0].after: bad duration "
        f"'2 fortnights': {EXPECTED_DURATION}"),
        ("broken/bad_duration.yaml:16:26: error: transitions[0].gate.min_time_in_stage: bad "
        f"duration 'six months': {EXPECTED_DURATION}"),
    ]),
    "at_not_date": (CheckError, [
        ("broken/at_not_date.yaml:9:13: error: at: field 'demo_day' is string; 'at' needs a "
        "date or datetime field"),
    ]),
    "unknown_key": (SchemaError, [
        ("broken/unknown_key.yaml:6:5: error: unknown key 'titel' in stages.start (did you mean "
        "'title'?); allowed: after, check_ins, description, expected_duration, final, follow_ups, "
        "initial, title"),
        ("broken/unknown_key.yaml:12:5: error: unknown key 'guard' in transitions[0]; allowed: "
        "branches, description, from, gate, override_roles, roles, title, to, trigger"),
    ]),
    "wrong_type": (SchemaError, [
        "broken/wrong_type.yaml:2:10: error: version: expected a valid integer, got 'one'",
        "broken/wrong_type.yaml:3:8: error: roles: expected a valid list, got 'coach'",
    ]),
    "yes_no": (SchemaError, [
        ("broken/yes_no.yaml:5:14: error: stages.start.initial: expected a valid boolean, "
        "got 'yes'"),
        "broken/yes_no.yaml:6:17: error: stages.done.final: expected a valid boolean, got 'on'",
    ]),
    "duplicate_key": (LoadError, [
        "broken/duplicate_key.yaml:7:3: error: duplicate key 'start' (first at line 4)",
    ]),
    "extends_unknown": (ExtendsError, [
        ("broken/extends_unknown.yaml:3:10: error: unknown journey 'no-such-journey'; known "
         "journeys: incubator-builder, local-government-incubator, social-incubator, "
         "university-incubator"),
    ]),
    # The two files extend each other: the cycle is reported where it closes.
    "cycle_a": (ExtendsError, [
        "broken/cycle_b.yaml:3:10: error: extends cycle: cycle-a@1 -> cycle-b@1 -> cycle-a@1",
    ]),
    "cycle_b": (ExtendsError, [
        "broken/cycle_a.yaml:3:10: error: extends cycle: cycle-b@1 -> cycle-a@1 -> cycle-b@1",
    ]),
    "remove_missing": (ExtendsError, [
        ("broken/remove_missing.yaml:5:12: error: remove.stages: 'limbo' is not in the base "
        "journey; it has: handoff, idea, showcase, stalled, test_run, validation, withdrawn"),
        ("broken/remove_missing.yaml:6:17: error: remove.transitions: 'teleport' matches no "
        "transition of the base journey; its triggers: hand_off, present, resume, stall, "
        "start_test_run, validate, withdraw"),
        ("broken/remove_missing.yaml:6:27: error: remove.transitions: {'trigger': 'stall', "
        "'from': 'idea'} matches no transition of the base journey; its triggers: hand_off, "
        "present, resume, stall, start_test_run, validate, withdraw"),
        ("broken/remove_missing.yaml:7:12: error: remove.fields: 'score' is not in the base "
        "journey; it has: demo_day, interviews_done, partners_committed, people_reached, "
        "problem_statement, target_group"),
    ]),
    "schema_problems": (SchemaError, [
        ("broken/schema_problems.yaml:1:10: error: journey: 'Schema Problems' does not match "
        "^[a-z0-9][a-z0-9-]*$"),
        ("broken/schema_problems.yaml:2:10: error: version: expected greater than or equal to "
        "1, got 0"),
        ("broken/schema_problems.yaml:3:1: error: unknown key 'colour' in the document; "
        "allowed: application, assign_roles, calendar, coaching, description, evidence, "
        "extends, fields, indicators, journey, "
        "language, override_roles, partner, remove, roles, scoring, stages, timezone, title, "
        "transitions, version"),
        ("broken/schema_problems.yaml:10:13: error: stages.start.follow_ups[0].to: expected a "
        "valid list, got 'coach'"),
        ("broken/schema_problems.yaml:13:5: error: unknown key 'titel' in stages.done (did you "
        "mean 'title'?); allowed: after, check_ins, description, expected_duration, final, "
        "follow_ups, initial, title"),
        ("broken/schema_problems.yaml:15:5: error: transitions[0]: a transition needs 'to' "
        "(one destination) or 'branches' (several, tried in order)"),
        ("broken/schema_problems.yaml:17:11: error: transitions[0].gate: a criterion needs "
        "exactly one of all, any, not, expr, evidence, approval, min_time_in_stage; got "
        "'expr', 'evidence'"),
    ]),
    "many_problems": (CheckError, [
        # the root causes first, in file order; then what an unknown stage leaves
        # unreachable or without a way out even when read as its closest match
        ("broken/many_problems.yaml:14:13: error: at: field 'kickoff' is string; 'at' needs a "
        "date or datetime field"),
        "broken/many_problems.yaml:16:14: error: unknown role 'mentor'; roles: coach",
        ("broken/many_problems.yaml:23:9: error: unknown stage 'reviw' (did you mean "
        "'review'?); stages: done, orphan, review, start"),
        ("broken/many_problems.yaml:29:23: error: transitions[1].gate.all[0].expr: CEL: "
         "compares `score` (a number) with the text \"3\"; write 3 without quotes"),
        ("broken/many_problems.yaml:30:21: error: unknown evidence item 'budget'; evidence "
        "items: plan"),
        "broken/many_problems.yaml:31:28: error: unknown role 'jury'; roles: coach",
        ("broken/many_problems.yaml:33:11: error: transition 'reopen' leaves the final stage "
        "'done'; final stages have no way out"),
        ("broken/many_problems.yaml:18:3: error: stage 'orphan' cannot be reached from the "
        "initial stage 'start'"),
        f"broken/many_problems.yaml:18:3: error: stage 'orphan' {NOT_FINAL}",
    ]),
}

# The token each CEL diagnostic must point at (the text of the file from LINE:COL on).
CEL_TOKENS = {
    "cel_syntax": [">= 3", ">= 3", ">= 3"],
    "cel_type": ["+ name", "> 3'", "(score)"],
    "unknown_field": ["scores"],
}


def fixture_text(name: str) -> str:
    return (BROKEN / f"{name}.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def resolve() -> Resolver:
    """Finds the fixtures' journeys (for the cycle), then the bundled ones."""
    catalog = JourneyCatalog()
    sources: dict[tuple[object, object], Source] = {}
    for path in sorted(BROKEN.glob("*.yaml")):
        try:
            source = load_yaml(path.read_bytes(), f"broken/{path.name}")
        except LoadError:
            continue
        sources[(source.data.get("journey"), source.data.get("version"))] = source

    def find(key: str, version: int) -> Source:
        return sources.get((key, version)) or catalog.resolve(key, version)

    return find


def compile_fixture(name: str, resolve: Resolver) -> DefinitionError:
    path = BROKEN / f"{name}.yaml"
    with pytest.raises(DefinitionError) as caught:
        compile_journey(path.read_bytes(), file=f"broken/{path.name}", resolve=resolve)
    return caught.value


def test_every_fixture_has_its_expected_diagnostics() -> None:
    assert sorted(p.stem for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_diagnostics(name: str, resolve: Resolver) -> None:
    kind, lines = EXPECTED[name]
    error = compile_fixture(name, resolve)
    assert [str(d) for d in error.diagnostics] == lines
    assert type(error) is kind
    assert (error.file, error.line, error.column) == (
        error.diagnostics[0].file, error.diagnostics[0].line, error.diagnostics[0].column)
    assert str(error) == "\n".join(lines)


@pytest.mark.parametrize("name", sorted(CEL_TOKENS))
def test_cel_positions_point_at_the_token_inside_the_expression(name: str,
                                                                resolve: Resolver) -> None:
    error = compile_fixture(name, resolve)
    text = fixture_text(name).splitlines()
    cel = [d for d in error.diagnostics if "CEL:" in d.message]
    pointed = [text[d.line - 1][d.column - 1:] for d in cel]
    assert [p[:len(t)] for p, t in zip(pointed, CEL_TOKENS[name], strict=True)] == \
        CEL_TOKENS[name]


def test_the_three_scalar_styles_are_all_covered() -> None:
    """cel_syntax and cel_type each hold a plain, a quoted and a ``|`` block expression."""
    for name in ("cel_syntax", "cel_type"):
        lines = [line.strip() for line in fixture_text(name).splitlines()
                 if line.strip().startswith("expr:")]
        assert [line.split(":", 1)[1].strip()[:1] for line in lines] in (
            ["s", '"', "|"], ["s", "'", "|"])


def test_several_problems_in_one_file_are_reported_at_once(resolve: Resolver) -> None:
    error = compile_fixture("many_problems", resolve)
    assert len(error.diagnostics) == 9
    kinds = {"no way out", "'at' needs a date", "unknown role", "cannot be reached",
             "unknown stage", "CEL:", "unknown evidence item", "leaves the final stage"}
    assert {k for k in kinds if any(k in d.message for d in error.diagnostics)} == kinds
    causes = [(d.line, d.column) for d in error.diagnostics[:7]]
    assert causes == sorted(causes)


def test_schema_problems_are_reported_at_once(resolve: Resolver) -> None:
    assert len(compile_fixture("schema_problems", resolve).diagnostics) == 7


def test_an_extends_cycle_through_a_resolver() -> None:
    """Two documents extending each other, found through a plain resolver function."""
    a = "journey: a\nversion: 1\nextends: b@1\nstages: {x: {}}\n"
    b = "journey: b\nversion: 1\nextends: a@1\nstages: {y: {}}\n"
    sources = {("a", 1): load_yaml(a, "a.yaml"), ("b", 1): load_yaml(b, "b.yaml")}

    def resolve(key: str, version: int) -> Source:
        try:
            return sources[(key, version)]
        except KeyError:
            raise NotFound(f"no journey {key}@{version}") from None

    with pytest.raises(ExtendsError) as caught:
        compile_journey(a, file="a.yaml", resolve=resolve)
    assert [str(d) for d in caught.value.diagnostics] == [
        "b.yaml:3:10: error: extends cycle: a@1 -> b@1 -> a@1"]


def test_extends_without_a_resolver_is_an_error() -> None:
    with pytest.raises(ExtendsError) as caught:
        compile_journey(fixture_text("remove_missing"), file="p.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        ("p.yaml:3:10: error: cannot resolve extends 'social-incubator@1': no journey "
        "catalog given")]


def test_a_journey_extending_itself_is_a_cycle() -> None:
    text = "journey: me\nversion: 1\nextends: me@1\nstages: {}\n"
    with pytest.raises(ExtendsError) as caught:
        compile_journey(text, file="me.yaml", resolve=JourneyCatalog().resolve)
    assert [str(d) for d in caught.value.diagnostics] == [
        "me.yaml:3:10: error: extends cycle: me@1 -> me@1"]


# --- CEL positions through the rest of YAML's scalar syntax ---------------------------

_HEAD = """\
journey: edge
version: 1
fields:
  score: {type: int, default: 0}
  name: {type: string, default: ""}
stages:
  start: {initial: true}
  done: {final: true}
transitions:
  - trigger: go
    from: start
    to: done
    gate:
"""

# Each gate has one syntax error: the second '>=' of "score >= >= 3". The diagnostic
# must point at it, however the scalar is written.
CEL_EDGE_CASES = {
    "flow-mapping": "      {expr: score >= >= 3}\n",
    "block-strip": "      expr: |-\n        score >= >= 3\n",
    "block-second-line": "      expr: |\n        score >= 1 &&\n          score >= >= 3\n",
    "thai-before-the-error": "      expr: \"name == 'ไทย' && score >= >= 3\"\n",
    # The cases below fail: see the report (expressions.problem_mark).
    "double-quoted-with-escapes": '      expr: "name == \\"ab\\" && score >= >= 3"\n',
    "single-quoted-with-escapes": "      expr: 'name == ''ab'' && score >= >= 3'\n",
    "plain-over-two-lines": "      expr: score >= 1 &&\n        score >= >= 3\n",
    "folded-block": "      expr: >\n        score >= 1 &&\n        score >= >= 3\n",
    "block-starting-with-a-blank-line": "      expr: |\n\n        score >= >= 3\n",
    "block-with-indentation-indicator": "      expr: |2\n          score >= >= 3\n",
}


@pytest.mark.parametrize("gate", CEL_EDGE_CASES.values(), ids=list(CEL_EDGE_CASES))
def test_cel_column_maps_through_every_scalar_style(gate: str) -> None:
    text = _HEAD + gate
    with pytest.raises(CheckError) as caught:
        compile_journey(text, file="edge.yaml")
    (diagnostic,) = caught.value.diagnostics
    lines = text.splitlines()
    assert 1 <= diagnostic.line <= len(lines), str(diagnostic)
    pointed = lines[diagnostic.line - 1][diagnostic.column - 1:]
    assert pointed.startswith(">= 3"), f"{diagnostic} points at {pointed!r}"


def test_a_field_named_like_a_cel_type_is_reported_at_the_field() -> None:
    """``int``, ``string``, ``list``... are CEL's own identifiers: the field must be refused
    where it is declared, not as a confusing CEL error on every expression."""
    text = _HEAD.replace("  name: {type: string", "  int: {type: string") + \
        "      expr: score > 1\n"
    with pytest.raises(CheckError) as caught:
        compile_journey(text, file="edge.yaml")
    lines = [str(d) for d in caught.value.diagnostics]
    assert any(line.startswith("edge.yaml:5:3: error: ") and "'int'" in line
               for line in lines), lines


def test_a_template_nested_too_deeply_is_a_diagnostic() -> None:
    """Jinja's parser recurses once per bracket: a 1,200-character message must be a
    positioned problem, not a RecursionError."""

    def journey(message: str) -> str:
        follow_up = ("      - {after: 1 day, action: webhook, endpoint: hook, "
                     f"message: {{en: '{message}'}}}}")
        stage = f"  start:\n    initial: true\n    follow_ups:\n{follow_up}"
        return _HEAD.replace("  start: {initial: true}", stage) + "      expr: score > 1\n"

    compile_journey(journey("{{ [[1]] }}"), file="edge.yaml")  # shallow: fine
    with pytest.raises(CheckError) as caught:
        compile_journey(journey("{{ " + "[" * 600 + "]" * 600 + " }}"), file="edge.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("edge.yaml", 10)
