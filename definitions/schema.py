"""The JSON Schema of the journey format, generated from the pydantic model.

Four shorthands the parser accepts are added to the generated schema so editors do
not flag valid journeys: a gate (or any criterion) written as a list (meaning
``all``), an empty stage (``later:``), an empty evidence item, and a field given as
its type alone (``score: int``).
"""

from __future__ import annotations

from typing import Any

from bompao.definitions.model import FIELD_TYPES, JourneyDoc

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
