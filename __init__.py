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

__version__ = "0.1.0"

__all__ = [
    "BompaoError",
    "CheckError",
    "CompiledJourney",
    "ConflictError",
    "DatabaseError",
    "DefinitionError",
    "Diagnostic",
    "ExtendsError",
    "GateRefused",
    "InvalidValue",
    "JourneyCatalog",
    "LoadError",
    "NotFound",
    "PermissionDenied",
    "SchemaError",
    "SchemaVersionError",
    "UsageError",
    "__version__",
    "compile_journey",
]

_LAZY = {
    "CompiledJourney": "bompao.definitions",
    "JourneyCatalog": "bompao.definitions",
    "compile_journey": "bompao.definitions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bompao' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
