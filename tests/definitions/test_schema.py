"""The JSON Schema of ``bompao schema`` and the parser accept the same keys, at every level.

python-statemachine style: for each level of the document, the schema's property
names equal the pydantic model's keys, and equal the ``allowed:`` list the parser
prints for an unknown key there. An independent validator (the ``jsonschema``
package) then runs over every bundled journey, the partner fixtures and every broken
fixture, and its accept/reject is compared with ``bompao validate``'s (issue 15).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from bompao.definitions import JourneyCatalog, JourneyDoc, compile_journey, load_yaml
from bompao.definitions.model import (
    Approval,
    Criterion,
    EvidenceSpec,
    FieldSpec,
    FollowUpSpec,
    IndicatorSpec,
    RemoveSpec,
    StageSpec,
    TransitionSpec,
)
from bompao.definitions.schema import journey_schema
from bompao.errors import CheckError, DefinitionError, ExtendsError, LoadError, SchemaError

REPO = Path(__file__).resolve().parents[2]
BOMPAO = Path(sys.executable).with_name("bompao")
JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}

MODELS: dict[str, type[BaseModel]] = {
    "journey": JourneyDoc, "stage": StageSpec, "transition": TransitionSpec,
    "criterion": Criterion, "follow-up": FollowUpSpec, "field": FieldSpec,
    "evidence": EvidenceSpec, "approval": Approval, "remove": RemoveSpec,
    "indicator": IndicatorSpec,
}

MINIMAL = """\
journey: keys
version: 1
roles: [coach]
fields:
  score: {type: int}
evidence:
  plan: {}
indicators:
  reached: {type: int, every: 1 month, tags: ["sdg:4.4"]}
stages:
  start:
    initial: true
    follow_ups:
      - {after: 1 day, action: notify, to: [coach]}
  done: {final: true}
transitions:
  - trigger: go
    from: start
    to: done
    gate: {approval: {role: coach}}
"""

# Where an unknown key goes for each level, as (text to find, text to put instead).
UNKNOWN_AT = {
    "journey": ("version: 1\n", "version: 1\nbogus: 1\n"),
    "stage": ("    initial: true\n", "    initial: true\n    bogus: 1\n"),
    "transition": ("    to: done\n", "    to: done\n    bogus: 1\n"),
    "criterion": ("gate: {approval", "gate: {bogus: 1, approval"),
    "follow-up": ("{after: 1 day,", "{bogus: 1, after: 1 day,"),
    "field": ("{type: int}", "{type: int, bogus: 1}"),
    "evidence": ("plan: {}", "plan: {bogus: 1}"),
    "approval": ("{role: coach}", "{role: coach, bogus: 1}"),
    "indicator": ("{type: int, every", "{type: int, bogus: 1, every"),
    "remove": ("version: 1\n", "version: 1\nextends: social-incubator@1\nremove: {bogus: []}\n"),
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return journey_schema()


def schema_of(schema: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    if model is JourneyDoc:
        return schema
    return schema["$defs"][model.__name__]


def model_keys(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def test_bompao_schema_prints_valid_json() -> None:
    done = subprocess.run([str(BOMPAO), "schema"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    printed = json.loads(done.stdout)
    assert printed == json.loads(json.dumps(journey_schema()))
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed["type"] == "object"


def test_bompao_schema_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "journey.schema.json"
    done = subprocess.run([str(BOMPAO), "schema", "-o", str(target)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(
        json.dumps(journey_schema()))


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_schema_is_well_formed(schema: dict[str, Any]) -> None:
    for node in _walk(schema):
        if "$ref" in node and isinstance(node["$ref"], str):
            assert node["$ref"].startswith("#/$defs/")
            assert node["$ref"].removeprefix("#/$defs/") in schema["$defs"]
        if isinstance(node.get("type"), str):
            assert node["type"] in JSON_TYPES
        if isinstance(node.get("pattern"), str):
            re.compile(node["pattern"])
        if isinstance(node.get("properties"), dict) and "required" in node:
            assert set(node["required"]) <= set(node["properties"])
    assert schema["required"] == ["journey", "version"]
    # stages are required unless the journey extends another
    assert (schema["if"], schema["then"]) == ({"not": {"required": ["extends"]}},
                                              {"required": ["stages"]})


@pytest.mark.parametrize("level", list(MODELS))
def test_every_level_forbids_unknown_keys(schema: dict[str, Any], level: str) -> None:
    assert schema_of(schema, MODELS[level])["additionalProperties"] is False


@pytest.mark.parametrize("level", list(MODELS))
def test_schema_keys_equal_model_keys(schema: dict[str, Any], level: str) -> None:
    model = MODELS[level]
    assert set(schema_of(schema, model)["properties"]) == model_keys(model)


@pytest.mark.parametrize("level", list(UNKNOWN_AT))
def test_schema_keys_equal_the_keys_the_parser_allows(schema: dict[str, Any],
                                                      level: str) -> None:
    find, replace = UNKNOWN_AT[level]
    assert MINIMAL.count(find) == 1
    with pytest.raises(SchemaError if level != "remove" else ExtendsError) as caught:
        compile_journey(MINIMAL.replace(find, replace), file="keys.yaml",
                        resolve=JourneyCatalog().resolve)
    (diagnostic,) = caught.value.diagnostics
    assert "unknown key 'bogus'" in diagnostic.message
    allowed = diagnostic.message.split("allowed: ", 1)[1].split(", ")
    assert allowed == sorted(allowed)
    assert set(allowed) == set(schema_of(schema, MODELS[level])["properties"])


def test_the_minimal_document_compiles() -> None:
    assert compile_journey(MINIMAL).ref == "keys@1"


# --- documents: what the parser accepts, the schema accepts --------------------------------

def accepted_by_schema(text: str, schema: dict[str, Any]) -> bool:
    """The independent validator (the ``jsonschema`` package, draft 2020-12) on the data
    as an editor's YAML 1.2 reads it (yes/no and dates stay text, like bompao's loader)."""
    return Draft202012Validator(schema).is_valid(load_yaml(text).data)


def test_the_validator_refuses_what_it_should(schema: dict[str, Any]) -> None:
    assert accepted_by_schema(MINIMAL, schema)
    for find, replace in UNKNOWN_AT.values():
        assert not accepted_by_schema(MINIMAL.replace(find, replace), schema), replace
    assert not accepted_by_schema(MINIMAL.replace("version: 1", "version: 0"), schema)
    assert not accepted_by_schema(MINIMAL.replace("to: done", "to: Done"), schema)
    assert not accepted_by_schema(MINIMAL.replace("after: 1 day", "after: 1 fortnight"),
                                  schema)
    for bad in ("sdg:18", "sdg:4.0", "iris:P4060", "SDG 4.4", "Education"):  # tag formats
        assert not accepted_by_schema(MINIMAL.replace("sdg:4.4", bad), schema), bad
    for bad in ("5 months", "fortnightly", "2 years"):  # rhythms that are no calendar period
        assert not accepted_by_schema(MINIMAL.replace("every: 1 month", f"every: {bad}"),
                                      schema), bad


@pytest.mark.parametrize("path", sorted((REPO / "journeys").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_bundled_journeys_match_the_schema(path: Path, schema: dict[str, Any]) -> None:
    assert accepted_by_schema(path.read_text(encoding="utf-8"), schema)
    JourneyCatalog().get(path.stem)


SHORTHANDS = {
    "gate-as-a-list": ("gate: {approval: {role: coach}}",
                       "gate: [{approval: {role: coach}}, {evidence: plan}]", ""),
    "empty-stage": ("  done: {final: true}\n", "  middle:\n  done: {final: true}\n",
                    ("  - {trigger: enter, from: start, to: middle}\n"
                    "  - {trigger: leave, from: middle, to: done}\n")),
    "field-type-only": ("score: {type: int}", "score: int", ""),
    "empty-evidence": ("plan: {}", "plan:", ""),
}


@pytest.mark.parametrize("name", list(SHORTHANDS))
def test_shorthands_the_parser_accepts_are_in_the_schema(name: str,
                                                         schema: dict[str, Any]) -> None:
    """The parser accepts these forms (the model's before-validators); an editor using
    the schema must not flag them as errors."""
    find, replace, append = SHORTHANDS[name]
    text = MINIMAL.replace(find, replace) + append
    compile_journey(text, file="shorthand.yaml")  # the parser accepts it
    assert accepted_by_schema(text, schema)


# --- the schema agrees with bompao validate (issue 15) --------------------------------------

FIXTURES = REPO / "tests" / "fixtures"
COMPARED = sorted([*(REPO / "journeys").glob("*.yaml"), *(FIXTURES / "partners").glob("*.yaml"),
                   *(FIXTURES / "valid").glob("*.yaml"), *(FIXTURES / "broken").glob("*.yaml")])
REJECTED_BY_BOTH_FOR_EXTENDS = {"remove_alone"}
"""ExtendsError fixtures a schema can see: 'remove' without 'extends'. The other
extends problems (an unknown base, a cycle, removing what the base lacks) need the base."""


@pytest.fixture(scope="module")
def verdicts() -> dict[str, bool]:
    """``bompao --json validate`` over every compared file at once: file -> ok."""
    ran = subprocess.run([str(BOMPAO), "--json", "validate", *map(str, COMPARED)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert ran.returncode in (0, 1), ran.stderr
    return {Path(row["file"]).resolve().as_posix(): row["ok"]
            for row in json.loads(ran.stdout)["files"]}


def _kind(path: Path) -> type[DefinitionError] | None:
    """Which step of bompao refuses the file (None: it is valid)."""
    try:
        compile_journey(path.read_bytes(), file=str(path), resolve=_resolve)
    except DefinitionError as exc:
        return type(exc)
    return None


def _resolve(key: str, version: int) -> Any:
    for path in (FIXTURES / "broken").glob("cycle_*.yaml"):
        source = load_yaml(path.read_bytes(), str(path))
        if (source.data.get("journey"), source.data.get("version")) == (key, version):
            return source
    return JourneyCatalog().resolve(key, version)


@pytest.mark.parametrize("path", COMPARED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_schema_and_bompao_validate_agree(path: Path, schema: dict[str, Any],
                                              verdicts: dict[str, bool]) -> None:
    """Valid for bompao ⇒ valid for the schema (no false error in an editor); refused by
    bompao's schema step ⇒ refused by the schema; refused only for what needs the whole
    journey (references, reachability, CEL, the base) ⇒ the schema cannot tell."""
    ok = verdicts[path.resolve().as_posix()]
    kind = _kind(path)
    assert ok is (kind is None)
    if kind is LoadError:
        return  # not YAML an editor can read either
    valid = Draft202012Validator(schema).is_valid(load_yaml(path.read_bytes()).data)
    if kind is None:
        assert valid, "bompao accepts it: the schema must too"
    elif kind is SchemaError or path.stem in REJECTED_BY_BOTH_FOR_EXTENDS:
        assert not valid, "bompao's schema step refuses it: the JSON Schema must too"
    else:
        assert kind in (CheckError, ExtendsError)
        assert valid, "a problem only the whole journey shows: the schema accepts it"


def test_the_comparison_covers_each_verdict(verdicts: dict[str, bool]) -> None:
    kinds = {_kind(path) for path in COMPARED}
    assert kinds == {None, LoadError, SchemaError, CheckError, ExtendsError}
    assert any(verdicts.values())
    assert not all(verdicts.values())
