"""The JSON Schema of ``bompao schema`` and the parser accept the same keys, at every level.

python-statemachine style: for each level of the document, the schema's property
names equal the pydantic model's keys, and equal the ``allowed:`` list the parser
prints for an unknown key there. A small validator (the keywords the schema uses)
then checks that documents the parser accepts are accepted by the schema too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bompao.definitions import JourneyCatalog, JourneyDoc, compile_journey
from bompao.definitions.model import (
    Approval,
    Criterion,
    EvidenceSpec,
    FieldSpec,
    FollowUpSpec,
    RemoveSpec,
    StageSpec,
    TransitionSpec,
)
from bompao.definitions.schema import journey_schema
from bompao.errors import ExtendsError, SchemaError

REPO = Path(__file__).resolve().parents[2]
BOMPAO = Path(sys.executable).with_name("bompao")
JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}

MODELS: dict[str, type[BaseModel]] = {
    "journey": JourneyDoc, "stage": StageSpec, "transition": TransitionSpec,
    "criterion": Criterion, "follow-up": FollowUpSpec, "field": FieldSpec,
    "evidence": EvidenceSpec, "approval": Approval, "remove": RemoveSpec,
}

MINIMAL = """\
journey: keys
version: 1
roles: [coach]
fields:
  score: {type: int}
evidence:
  plan: {}
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
    assert schema["required"] == ["journey", "version", "stages"]


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

def _matches(instance: Any, node: Any, root: dict[str, Any]) -> bool:
    """A JSON Schema validator for the keywords ``journey_schema()`` uses."""
    if node is True or node == {}:
        return True
    if node is False:
        return False
    if "$ref" in node:
        return _matches(instance, root["$defs"][node["$ref"].removeprefix("#/$defs/")], root)
    checks = [_keyword(instance, key, value, node, root) for key, value in node.items()]
    return all(checks)


def _is_type(instance: Any, kind: str) -> bool:
    return {
        "object": isinstance(instance, dict), "array": isinstance(instance, list),
        "string": isinstance(instance, str), "null": instance is None,
        "boolean": isinstance(instance, bool),
        "integer": isinstance(instance, int) and not isinstance(instance, bool),
        "number": isinstance(instance, int | float) and not isinstance(instance, bool),
    }[kind]


def _keyword(instance: Any, key: str, value: Any, node: dict[str, Any],
             root: dict[str, Any]) -> bool:
    number = isinstance(instance, int | float) and not isinstance(instance, bool)
    result = True
    if key == "type":
        kinds = value if isinstance(value, list) else [value]
        result = any(_is_type(instance, k) for k in kinds)
    elif key == "anyOf":
        result = any(_matches(instance, sub, root) for sub in value)
    elif key == "enum":
        result = instance in value
    elif key == "const":
        result = instance == value
    elif key == "pattern" and isinstance(instance, str):
        result = re.search(value, instance) is not None
    elif key == "maxLength" and isinstance(instance, str):
        result = len(instance) <= value
    elif key == "minimum" and number:
        result = instance >= value
    elif key == "maximum" and number:
        result = instance <= value
    elif key == "items" and isinstance(instance, list):
        result = all(_matches(item, value, root) for item in instance)
    elif key == "required" and isinstance(instance, dict):
        result = all(name in instance for name in value)
    elif key == "propertyNames" and isinstance(instance, dict):
        result = all(_matches(name, value, root) for name in instance)
    elif isinstance(instance, dict) and key in ("properties", "patternProperties",
                                                 "additionalProperties"):
        result = _object(instance, key, node, root)
    return result


def _object(instance: dict[str, Any], key: str, node: dict[str, Any],
            root: dict[str, Any]) -> bool:
    properties = node.get("properties", {})
    patterns = node.get("patternProperties", {})
    for name, value in instance.items():
        matched = [sub for pattern, sub in patterns.items() if re.search(pattern, name)]
        if key == "properties" and name in properties:
            if not _matches(value, properties[name], root):
                return False
        elif key == "patternProperties":
            if not all(_matches(value, sub, root) for sub in matched):
                return False
        elif key == "additionalProperties" and name not in properties and not matched:
            extra = node["additionalProperties"]
            if not _matches(value, extra, root):
                return False
    return True


def accepted_by_schema(text: str, schema: dict[str, Any]) -> bool:
    return _matches(yaml.safe_load(text), schema, schema)


def test_the_validator_refuses_what_it_should(schema: dict[str, Any]) -> None:
    assert accepted_by_schema(MINIMAL, schema)
    for find, replace in UNKNOWN_AT.values():
        assert not accepted_by_schema(MINIMAL.replace(find, replace), schema), replace
    assert not accepted_by_schema(MINIMAL.replace("version: 1", "version: 0"), schema)
    assert not accepted_by_schema(MINIMAL.replace("to: done", "to: Done"), schema)
    assert not accepted_by_schema(MINIMAL.replace("after: 1 day", "after: 1 fortnight"),
                                  schema)


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
