"""The JSON Schema of the journey format, generated from the pydantic model.

Four shorthands the parser accepts are added to the generated schema so editors do
not flag valid journeys: a gate (or any criterion) written as a list (meaning
``all``), an empty stage (``later:``), an empty evidence item, and a field given as
its type alone (``score: int``).

The rules the model checks in code are added too, so an editor agrees with
``bompao validate`` wherever a schema can: a journey that ``extends`` another needs
no ``stages`` (and only such a journey may ``remove``); the names of stages, fields
and evidence match their pattern; a criterion has exactly one kind; a follow-up has
``after``, ``every`` or ``at``, and ``at`` with neither of the others. What needs the
whole journey (references, reachability, CEL types) stays with the validator.
"""

from __future__ import annotations

from typing import Any

from bompao.definitions.model import CRITERION_KINDS, FIELD_TYPES, NAME_PATTERN, JourneyDoc

__all__ = ["journey_schema"]


def _or(schema: dict[str, Any], alternative: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, alternative]}


def journey_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that editors use to check journey files."""
    schema = JourneyDoc.model_json_schema(by_alias=True, mode="validation")
    properties = schema["properties"]
    for key, alternative in (("stages", {"type": "null"}), ("evidence", {"type": "null"}),
                             ("fields", {"enum": list(FIELD_TYPES)})):
        patterns = properties[key]["patternProperties"]
        for pattern, value in patterns.items():
            patterns[pattern] = _or(value, alternative)
        properties[key]["propertyNames"] = {
            **properties[key].get("propertyNames", {}), "pattern": NAME_PATTERN}
    # an extends-only partner journey needs no stages; only such a journey removes
    schema["required"] = [name for name in schema["required"] if name != "stages"]
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": ["stages"]}
    schema["dependentRequired"] = {"remove": ["extends"]}
    defs = schema["$defs"]
    defs["Criterion"]["oneOf"] = [{"required": [kind]} for kind in CRITERION_KINDS]
    defs["FollowUpSpec"]["anyOf"] = [{"required": [key]} for key in ("after", "every", "at")]
    defs["FollowUpSpec"]["not"] = {"required": ["at"],
                                   "anyOf": [{"required": ["after"]}, {"required": ["every"]}]}
    schema = _retarget(schema, "#/$defs/Criterion", "#/$defs/Gate")
    schema["$defs"]["Gate"] = _or({"$ref": "#/$defs/Criterion"}, {
        "type": "array", "items": {"$ref": "#/$defs/Gate"},
        "description": "A list of criteria, all of which must be met."})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _retarget(node: Any, old: str, new: str) -> Any:
    """Point every ``$ref`` to ``old`` at ``new`` instead."""
    if isinstance(node, dict):
        return {k: (new if k == "$ref" and v == old else _retarget(v, old, new))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_retarget(item, old, new) for item in node]
    return node
