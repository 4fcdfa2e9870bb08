"""The JSON Schema of the journey format, generated from the pydantic model."""

from __future__ import annotations

from typing import Any

from bompao.definitions.model import JourneyDoc

__all__ = ["journey_schema"]


def journey_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that editors use to check journey files."""
    schema = JourneyDoc.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
