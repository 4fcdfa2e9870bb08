"""Stage visits: where they are stored, reading them, and rebuilding them after a bulk load.

A stage visit begins with an event entering a stage (``created``, ``advanced``, a
``migrated`` that changes the stage) and ends with the project's next one. The event
that ends it carries it (schema 10): its ``from_stage`` is the visit's stage, its
``from_entered_at`` when the visit began (the previous entry's ``at``), its ``at``
when it ended. The open visit is the project's ``stage`` and ``stage_entered_at``.
The write path (:mod:`bompao.storage.hotpath`) sets ``from_entered_at`` as it appends
each entry event; whoever loads events around it (a bulk ``COPY``, a restore) calls
:func:`rebuild_stage_visits` in the loading transaction.

The statements here are the visits' Core building blocks the reports share
(:mod:`bompao.storage.insight`, :mod:`bompao.storage.observed`,
:mod:`bompao.storage.audit_reads`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .tables import events

__all__ = ["completed_days", "entry_condition", "rebuild_stage_visits"]

_ENTRIES = """
SELECT e.id, LAG(e.at) OVER (PARTITION BY e.project_id ORDER BY e.seq) AS entered
  FROM events e
 WHERE e.to_stage IS NOT NULL AND e.kind IN ('created', 'advanced', 'migrated')
   AND (e.kind <> 'migrated' OR e.from_stage """
_REBUILD = "UPDATE events SET from_entered_at = x.entered FROM ("
_END = ") AS x WHERE x.id = events.id AND x.entered IS NOT NULL"
_SQL = {
    "sqlite": _REBUILD + _ENTRIES + "IS NOT e.to_stage)" + _END,
    "postgresql": _REBUILD + _ENTRIES + "IS DISTINCT FROM e.to_stage)" + _END,
}


def rebuild_stage_visits(cursor: Any, dialect: str) -> None:
    """Set every event's ``from_entered_at`` from the event log, on a DBAPI ``cursor``.

    Args:
        cursor: a cursor inside the caller's transaction.
        dialect: ``"sqlite"`` or ``"postgresql"``.

    Raises:
        KeyError: another dialect.
    """
    sql = _SQL[dialect]
    cursor.execute("UPDATE events SET from_entered_at = NULL "
                   "WHERE from_entered_at IS NOT NULL")
    cursor.execute(sql)


def entry_condition(table: Any = events) -> Any:
    """The Core condition selecting the events of ``table`` that enter a stage."""
    return sa.and_(table.c.to_stage.is_not(None),
                   table.c.kind.in_(("created", "advanced", "migrated")),
                   sa.or_(table.c.kind != "migrated",
                          table.c.from_stage.is_distinct_from(table.c.to_stage)))


def completed_days(dialect: str, table: Any = events) -> Any:
    """The Core expression of a completed visit's length in days, on its ending event."""
    if dialect == "sqlite":
        return sa.func.julianday(table.c.at) - sa.func.julianday(table.c.from_entered_at)
    return sa.cast(sa.extract("epoch", table.c.at - table.c.from_entered_at) / 86400.0,
                   sa.Float)

