"""The journey language: safe YAML loading, extends, schema, checks and compilation.

A pure pipeline (no database, no clock): ``load → extends → schema → checks →
compile``. Each step raises its own :class:`~bompao.errors.DefinitionError`
subclass carrying ``FILE:LINE:COL`` for every problem.
"""

from __future__ import annotations

from bompao.definitions.catalog import JourneyCatalog, bundled_dir
from bompao.definitions.compiled import (
    CompiledBranch,
    CompiledCriterion,
    CompiledFollowUp,
    CompiledJourney,
    CompiledStage,
    CompiledTransition,
    CriterionResult,
    GateContext,
)
from bompao.definitions.durations import Duration, parse_duration
from bompao.definitions.model import JourneyDoc
from bompao.definitions.pipeline import compile_journey, compile_source, load_path
from bompao.definitions.source import Source, load_yaml

__all__ = [
    "CompiledBranch",
    "CompiledCriterion",
    "CompiledFollowUp",
    "CompiledJourney",
    "CompiledStage",
    "CompiledTransition",
    "CriterionResult",
    "Duration",
    "GateContext",
    "JourneyCatalog",
    "JourneyDoc",
    "Source",
    "bundled_dir",
    "compile_journey",
    "compile_source",
    "load_path",
    "load_yaml",
    "parse_duration",
]
