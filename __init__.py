"""bompao: a workflow engine for incubation journeys.

Declarative YAML journeys compile into state machines that track each project's
stage, enforce gate criteria and schedule follow-up actions. Heavy modules load on
first use, so ``import bompao`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bompao.errors import (
    BompaoError,
    CheckError,
    ConflictError,
    DatabaseError,
    DefinitionError,
    Diagnostic,
    ExtendsError,
    GateRefused,
    InvalidValue,
    LoadError,
    NotFound,
    PermissionDenied,
    SchemaError,
    SchemaVersionError,
    UsageError,
)

if TYPE_CHECKING:
    from bompao.definitions import CompiledJourney, JourneyCatalog, compile_journey
    from bompao.engine import SYSTEM, Actor, Engine, GateReport, Project
    from bompao.engine.actions import ActionContext, ActionFailed
    from bompao.engine.config import Config, load_config

__version__ = "0.1.0"

__all__ = [
    "SYSTEM",
    "ActionContext",
    "ActionFailed",
    "Actor",
    "BompaoError",
    "CheckError",
    "CompiledJourney",
    "Config",
    "ConflictError",
    "DatabaseError",
    "DefinitionError",
    "Diagnostic",
    "Engine",
    "ExtendsError",
    "GateRefused",
    "GateReport",
    "InvalidValue",
    "JourneyCatalog",
    "LoadError",
    "NotFound",
    "PermissionDenied",
    "Project",
    "SchemaError",
    "SchemaVersionError",
    "UsageError",
    "__version__",
    "compile_journey",
    "load_config",
]

_LAZY = {
    "CompiledJourney": "bompao.definitions",
    "JourneyCatalog": "bompao.definitions",
    "compile_journey": "bompao.definitions",
    "SYSTEM": "bompao.engine.actor",
    "Actor": "bompao.engine.actor",
    "Engine": "bompao.engine.engine",
    "Project": "bompao.engine.engine",
    "GateReport": "bompao.engine.gates",
    "ActionContext": "bompao.engine.actions",
    "ActionFailed": "bompao.engine.actions",
    "Config": "bompao.engine.config",
    "load_config": "bompao.engine.config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bompao' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
