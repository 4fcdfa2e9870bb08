"""The project record: one ``projects`` row, decoded, as every layer sees it.

The engine exposes it as ``bompao.Project``; the dispatcher changes it with
``_replace``; replaying a project's events (``Engine.state_at``) rebuilds the same
record. Its fields are the ``projects`` columns in table order: a change to
:mod:`bompao.storage.tables` that this record does not follow fails at import.

A named tuple rather than a frozen dataclass: the dispatcher builds thousands a
second, and a tuple is built several times faster.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from .tables import projects

__all__ = ["PROJECT_COLUMNS", "Project"]

PROJECT_COLUMNS: tuple[str, ...] = tuple(projects.c.keys())
"""The ``projects`` columns, in table order."""


class Project(NamedTuple):
    """A project as stored: JSON decoded, times as aware UTC datetimes."""

    id: int
    journey_key: str
    journey_version: int
    partner: str | None
    cohort: str | None
    name: str
    stage: str
    visit: int
    fields: dict[str, Any]
    flags: list[str]
    assignments: dict[str, list[str]]
    evidence: dict[str, Any]
    approvals: dict[str, list[dict[str, Any]]]
    lock_version: int
    stage_entered_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Project:
        """The record of a ``projects`` row read through SQLAlchemy Core (any column order).

        Raises:
            AttributeError: the row lacks a ``projects`` column.
        """
        return cls._make(getattr(row, column) for column in PROJECT_COLUMNS)

    @property
    def journey(self) -> str:
        """The journey's key."""
        return self.journey_key

    @property
    def version(self) -> int:
        """The journey version the project follows."""
        return self.journey_version

    @property
    def seq(self) -> int:
        """The seq of the project's last event (its lock version)."""
        return self.lock_version

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (approvals as a count per role)."""
        return {"id": self.id, "journey": self.journey_key, "version": self.journey_version,
                "name": self.name, "partner": self.partner, "cohort": self.cohort,
                "stage": self.stage, "fields": self.fields, "flags": self.flags,
                "assignments": self.assignments, "evidence": self.evidence,
                "approvals": {role: len(v) for role, v in self.approvals.items()},
                "stage_entered_at": self.stage_entered_at.isoformat(),
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


if Project._fields != PROJECT_COLUMNS:  # pragma: no cover - a development error
    raise RuntimeError(f"storage.records.Project {Project._fields} does not follow the "
                       f"projects table {PROJECT_COLUMNS}")
