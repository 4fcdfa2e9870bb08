"""Reads for the HTTP API: a page of projects after a cursor, the change feed (also
behind the Server-Sent Events stream), and the journey a report defaults to.

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

__all__ = ["busiest_journey", "events_after", "last_event_id", "projects_after"]

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


def last_event_id(conn: Connection, *, partner: Any = _UNSET) -> int:
    """The highest event id (of ``partner``'s projects when given); 0 without events."""
    query = sa.select(sa.func.max(events.c.id))
    if partner is not _UNSET:
        query = query.join(projects, projects.c.id == events.c.project_id).where(
            projects.c.partner == partner)
    return int(conn.execute(query).scalar() or 0)


def busiest_journey(conn: Connection, *, partner: str | None = None) -> str | None:
    """The journey key with the most projects (of ``partner`` when given), or ``None``."""
    query = sa.select(projects.c.journey_key)
    if partner is not None:
        query = query.where(projects.c.partner == partner)
    found = conn.execute(query.group_by(projects.c.journey_key)
                         .order_by(sa.func.count().desc(), projects.c.journey_key)
                         .limit(1)).scalar()
    return None if found is None else str(found)
