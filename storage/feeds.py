"""Reads for the HTTP API: a page of projects after a cursor, and the change feed.

Both read by primary key order, so a cursor is the last id a client saw: a page never
repeats or skips a row that existed when the previous page was read, whatever is
written meanwhile. The caller owns the transaction (:meth:`bompao.storage.Database.begin`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .records import Project
from .tables import events, projects

__all__ = ["events_after", "projects_after"]

_UNSET: Any = object()


def projects_after(conn: Connection, *, after: int = 0, limit: int = 50,
                   journey: str | None = None, stage: str | None = None,
                   partner: Any = _UNSET, cohort: str | None = None) -> list[Project]:
    """Up to ``limit`` projects with ``id > after`` matching every filter, by id.

    Args:
        conn: an open connection.
        after: the cursor (the last id of the previous page; 0 for the first).
        limit: the page size.
        journey: the journey key.
        stage: the current stage.
        partner: the partner (``None`` matches projects without a partner; leave it
            out to match every partner).
        cohort: the cohort.
    """
    query = sa.select(projects).where(projects.c.id > after).order_by(projects.c.id).limit(limit)
    for column, value in ((projects.c.journey_key, journey), (projects.c.stage, stage),
                          (projects.c.cohort, cohort)):
        if value is not None:
            query = query.where(column == value)
    if partner is not _UNSET:
        query = query.where(projects.c.partner.is_(None) if partner is None
                            else projects.c.partner == partner)
    return [Project.from_row(row) for row in conn.execute(query)]


def events_after(conn: Connection, *, after: int = 0, limit: int = 100,
                 partner: Any = _UNSET) -> list[dict[str, Any]]:
    """Up to ``limit`` events with ``id > after``, oldest first, each with its id.

    Args:
        conn: an open connection.
        after: the cursor (the last event id the client saw).
        limit: at most this many.
        partner: only events of this partner's projects (leave out for every partner).
    """
    query = (sa.select(events, projects.c.partner)
             .join(projects, projects.c.id == events.c.project_id)
             .where(events.c.id > after).order_by(events.c.id).limit(limit))
    if partner is not _UNSET:
        query = query.where(projects.c.partner == partner)
    return [{"id": row.id, "project": row.project_id, "seq": row.seq, "kind": row.kind,
             "at": row.at.isoformat(), "actor": row.actor, "role": row.role,
             "from": row.from_stage, "to": row.to_stage, "trigger": row.trigger,
             "payload": dict(row.payload)} for row in conn.execute(query)]
