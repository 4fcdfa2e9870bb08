"""``extends: KEY@VERSION``: override by key, ``remove:``, and positions in both files."""

from __future__ import annotations

import pytest

from bompao.definitions import JourneyCatalog, Source, compile_journey, load_yaml
from bompao.errors import CheckError, DefinitionError, ExtendsError, NotFound

BASE = """\
journey: base
version: 1
title: {en: Base, th: ฐาน}
roles: [coach]
fields:
  score: {type: int, default: 0}
evidence:
  plan: {title: {en: Plan}}
stages:
  a:
    initial: true
    title: {en: A, th: เอ}
    follow_ups:
      - {after: 3 days, action: notify, to: [coach]}
  b: {title: {en: B}}
  c: {final: true}
  d: {final: true}
transitions:
  - {trigger: go, from: a, to: b, gate: {expr: "score > 1"}}
  - {trigger: finish, from: b, to: c}
  - {trigger: detour, from: b, to: d}
"""


def resolver(*texts: str) -> object:
    sources: dict[tuple[str, int], Source] = {}
    for index, text in enumerate(texts):
        source = load_yaml(text, f"base{index}.yaml" if index else "base.yaml")
        sources[(source.data["journey"], source.data["version"])] = source

    def resolve(key: str, version: int) -> Source:
        try:
            return sources[(key, version)]
        except KeyError:
            raise NotFound(f"unknown journey '{key}@{version}'") from None

    return resolve


def child(body: str) -> str:
    return "journey: child\nversion: 1\nextends: base@1\n" + body


def test_override_by_key() -> None:
    text = child("""\
roles: [mentor]
fields:
  score: {type: int, default: 5}
  extra: {type: string}
stages:
  b: {follow_ups: [{every: 1 week, action: notify, to: [mentor]}]}
  review: {title: {en: Review}}
transitions:
  - {trigger: go, from: a, to: review}
  - {trigger: pass, from: review, to: b}
""")
    journey = compile_journey(text, file="child.yaml", resolve=resolver(BASE))
    assert journey.roles == ["coach", "mentor"]
    assert list(journey.fields) == ["score", "extra"]
    assert journey.fields["score"].default == 5
    assert list(journey.stages) == ["a", "b", "c", "d", "review"]
    assert journey.stages["b"].title == {"en": "B"}  # the base's key stays
    assert [str(f.spec.every) for f in journey.stages["b"].follow_ups] == ["1 week"]
    assert journey.dest("a", "go") == "review"  # replaced by (trigger, from)
    assert journey.transition("a", "go").gate is None
    assert [t.trigger for t in journey.transitions] == ["go", "finish", "detour", "pass"]
    assert journey.title == {"en": "Base", "th": "ฐาน"}
    assert journey.doc.extends == "base@1"


def test_remove_stages_transitions_fields_and_evidence() -> None:
    text = child("remove:\n  stages: [d]\n  transitions: [{trigger: go, from: a}]\n"
                 "  fields: [score]\n  evidence: [plan]\n"
                 "transitions:\n  - {trigger: start, from: a, to: b}\n")
    journey = compile_journey(text, file="child.yaml", resolve=resolver(BASE))
    assert list(journey.stages) == ["a", "b", "c"]
    assert [t.trigger for t in journey.transitions] == ["finish", "start"]
    assert journey.fields == {}
    assert journey.evidence == {}


def test_problems_point_into_the_file_they_come_from() -> None:
    text = child("stages:\n  b: {follow_ups: [{at: nowhere, action: flag, flag: x}]}\n")
    broken_base = BASE.replace('expr: "score > 1"', 'expr: "scor > 1"')
    with pytest.raises(CheckError) as caught:
        compile_journey(text, file="child.yaml", resolve=resolver(broken_base))
    assert [str(d) for d in caught.value.diagnostics] == [
        ("base.yaml:19:49: error: transitions[0].gate.expr: CEL: unknown name 'scor' (did you "
         "mean 'score'?); an expression sees the fields (score) and evidence, approvals, "
         "days_in_stage, now"),
        "child.yaml:5:25: error: unknown field 'nowhere'; fields: score",
    ]


def test_an_invalid_base_is_reported_with_its_own_problems() -> None:
    broken_base = BASE.replace("version: 1", "version: 1\ncolour: red", 1)
    with pytest.raises(ExtendsError) as caught:
        compile_journey(child(""), file="child.yaml", resolve=_raising(broken_base))
    assert [str(d) for d in caught.value.diagnostics] == [
        "child.yaml:3:10: error: the base journey 'base@1' is invalid",
        "base.yaml:3:1: error: unknown key 'colour'",
    ]


def _raising(text: str) -> object:
    def resolve(key: str, version: int) -> Source:
        raise DefinitionError.at("base.yaml", 3, 1, "unknown key 'colour'")

    return resolve


def test_a_partner_extends_the_bundled_social_incubator() -> None:
    text = child("").replace("extends: base@1", "extends: social-incubator@1") + (
        "stages:\n  pilot: {title: {en: Pilot, th: นำร่อง}}\n"
        "transitions:\n  - {trigger: pilot, from: showcase, to: pilot}\n"
        "  - {trigger: hand_off, from: pilot, to: handoff}\n")
    journey = compile_journey(text, file="partner.yaml", resolve=JourneyCatalog().resolve)
    assert list(journey.stages)[-1] == "pilot"
    assert journey.dest("pilot", "hand_off") == "handoff"
    assert journey.dest("showcase", "hand_off") == "handoff"


@pytest.mark.parametrize("order", ["transitions-first", "stages-first"])
def test_removing_a_stage_and_its_transition_does_not_depend_on_key_order(order: str) -> None:
    """``detour`` leads into ``d``: removing both is valid whichever is written first.

    Fails for stages-first: dropping ``d`` silently drops ``detour`` too, and then the
    explicit ``transitions: [detour]`` is refused as "matches no transition of the
    base journey" — which does have it.
    """
    lines = {"stages": "  stages: [d]\n", "transitions": "  transitions: [detour]\n"}
    first, second = ("transitions", "stages") if order == "transitions-first" else (
        "stages", "transitions")
    text = child("remove:\n" + lines[first] + lines[second])
    journey = compile_journey(text, file="child.yaml", resolve=resolver(BASE))
    assert "d" not in journey.stages
    assert "detour" not in {t.trigger for t in journey.transitions}


@pytest.mark.parametrize("body", [
    "remove: {stages: [[b]]}\n",
    "remove: {fields: [{score: 1}]}\n",
    "remove: {evidence: [[plan]]}\n",
    "transitions:\n  - {trigger: [go], from: a, to: b}\n",
    "transitions:\n  - {trigger: go, from: [[a]], to: b}\n",
    "transitions:\n  - {trigger: {go: 1}, from: a, to: b}\n",
], ids=["stage-list", "field-mapping", "evidence-list", "trigger-list", "from-nested-list",
        "trigger-mapping"])
def test_malformed_overrides_are_definition_errors(body: str) -> None:
    """A list or mapping where a name belongs must be a positioned error, not a TypeError."""
    with pytest.raises(DefinitionError) as caught:
        compile_journey(child(body), file="child.yaml", resolve=resolver(BASE))
    assert all(d.file == "child.yaml" and d.line >= 4 and d.column >= 1
               for d in caught.value.diagnostics), caught.value
