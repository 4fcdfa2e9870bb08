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
    TriggerNotOffered,
    UsageError,
)

if TYPE_CHECKING:
    from bompao.definitions import CompiledJourney, JourneyCatalog, compile_journey
    from bompao.definitions.functions import CelFunction
    from bompao.engine import SYSTEM, Actor, Engine, GateReport, Project
    from bompao.engine.actions import ActionContext, ActionFailed
    from bompao.engine.audit import AuditReport, audit
    from bompao.engine.config import Config, load_config
    from bompao.engine.dispatch import Dispatcher
    from bompao.engine.html import render_report
    from bompao.engine.reports import Filters, Reports
    from bompao.engine.scheduler import Daemon
    from bompao.engine.transfer import ImportRefused

__version__ = "0.1.0"

__all__ = [
    "SYSTEM",
    "ActionContext",
    "ActionFailed",
    "Actor",
    "AuditReport",
    "BompaoError",
    "CelFunction",
    "CheckError",
    "CompiledJourney",
    "Config",
    "ConflictError",
    "Daemon",
    "DatabaseError",
    "DefinitionError",
    "Diagnostic",
    "Dispatcher",
    "Engine",
    "ExtendsError",
    "Filters",
    "GateRefused",
    "GateReport",
    "ImportRefused",
    "InvalidValue",
    "JourneyCatalog",
    "LoadError",
    "NotFound",
    "PermissionDenied",
    "Project",
    "Reports",
    "SchemaError",
    "SchemaVersionError",
    "TriggerNotOffered",
    "UsageError",
    "__version__",
    "audit",
    "compile_journey",
    "load_config",
    "render_report",
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
    "CelFunction": "bompao.definitions.functions",
    "Dispatcher": "bompao.engine.dispatch",
    "Daemon": "bompao.engine.scheduler",
    "Reports": "bompao.engine.reports",
    "Filters": "bompao.engine.reports",
    "render_report": "bompao.engine.html",
    "ImportRefused": "bompao.engine.transfer",
    "audit": "bompao.engine.audit",
    "AuditReport": "bompao.engine.audit",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bompao' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
