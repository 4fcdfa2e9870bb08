"""The runtime: the Engine facade, gates, history, and (later) follow-ups and the daemon.

Names load on first use so the CLI's journey commands do not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bompao.engine.actor import SYSTEM, Actor
    from bompao.engine.engine import Engine, Project
    from bompao.engine.gates import GateReport

__all__ = ["SYSTEM", "Actor", "Engine", "GateReport", "Project"]

_LAZY = {"SYSTEM": "bompao.engine.actor", "Actor": "bompao.engine.actor",
         "Engine": "bompao.engine.engine", "Project": "bompao.engine.engine",
         "GateReport": "bompao.engine.gates"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bompao.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
