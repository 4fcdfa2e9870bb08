"""Rebuilding ``stage_visits`` from the event log, after events were bulk-loaded.

The write path (:mod:`bompao.storage.hotpath`) keeps stage visits as it appends
events. Whoever loads events around it (a bulk ``COPY``, a restore) rebuilds them
here, in the loading transaction: one row per stage entry (``created``, ``advanced``,
a ``migrated`` that changes the stage), closed by the next entry.
"""

from __future__ import annotations

from typing import Any

__all__ = ["rebuild_stage_visits"]

_ENTRIES = """
  FROM (SELECT e.project_id, e.seq, e.to_stage AS stage, e.at AS entered_at,
               LEAD(e.at) OVER (PARTITION BY e.project_id ORDER BY e.seq) AS left_at
          FROM events e
         WHERE e.to_stage IS NOT NULL AND e.kind IN ('created', 'advanced', 'migrated')
           AND (e.kind <> 'migrated' OR e.from_stage <> e.to_stage)) v
  JOIN projects p ON p.id = v.project_id
"""
_INSERT = ("INSERT INTO stage_visits (project_id, seq, journey_key, stage, entered_at, "
           "left_at, days) SELECT v.project_id, v.seq, p.journey_key, v.stage, v.entered_at, "
           "v.left_at, ")
_REBUILD = {
    "sqlite": _INSERT + "julianday(v.left_at) - julianday(v.entered_at)" + _ENTRIES,
    "postgresql": _INSERT + "EXTRACT(EPOCH FROM v.left_at - v.entered_at) / 86400.0" + _ENTRIES,
}


def rebuild_stage_visits(cursor: Any, dialect: str) -> None:
    """Replace every stage visit by those the events say, on a DBAPI ``cursor``.

    Args:
        cursor: a cursor inside the caller's transaction.
        dialect: ``"sqlite"`` or ``"postgresql"``.

    Raises:
        KeyError: another dialect.
    """
    sql = _REBUILD[dialect]
    cursor.execute("DELETE FROM stage_visits")
    cursor.execute(sql)
