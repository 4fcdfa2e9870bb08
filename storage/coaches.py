"""Coaches, and the events intake and coaching read: SQLAlchemy Core on an open
``Connection`` (the caller owns the transaction, :meth:`bompao.storage.Database.begin`).

A coach is a name (unique by its casefolded key), skills (coaching topics) and a
capacity (how many projects at once). Scores (``scored`` events) and coaching sessions
(``coached`` events) live in the event log; this module reads them for a cohort.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from .tables import coaches, events, projects

__all__ = [
    "cohort_events",
    "delete_coach",
    "get_coach",
    "insert_coach",
    "journey_events",
    "list_coaches",
    "update_coach",
]


def insert_coach(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert a coach (``name``, ``name_key``, ``skills``, ``capacity``, ``created_at``).

    Raises:
        sqlalchemy.exc.IntegrityError: the name is taken (``Database.begin`` turns it
            into a ``ConflictError``).
    """
    statement = sa.insert(coaches).values(dict(values)).returning(coaches.c.id)
    return int(conn.execute(statement).scalar_one())


def get_coach(conn: Connection, name_key: str) -> Row[Any] | None:
    """The coach with this casefolded name, or ``None``."""
    return conn.execute(sa.select(coaches).where(coaches.c.name_key == name_key)).first()


def list_coaches(conn: Connection) -> list[Row[Any]]:
    """Every coach, by name."""
    return list(conn.execute(sa.select(coaches).order_by(coaches.c.name_key)))


def update_coach(conn: Connection, name_key: str, values: Mapping[str, Any]) -> int:
    """Change a coach's ``skills`` and/or ``capacity``; the number of rows changed (0 or 1)."""
    statement = sa.update(coaches).where(coaches.c.name_key == name_key).values(dict(values))
    return int(conn.execute(statement).rowcount)


def delete_coach(conn: Connection, name_key: str) -> int:
    """Remove a coach; the number of rows removed (0 or 1)."""
    return int(conn.execute(sa.delete(coaches).where(coaches.c.name_key == name_key)).rowcount)


def cohort_events(conn: Connection, journey: str, cohort: str | None,
                  kinds: Sequence[str]) -> list[Row[Any]]:
    """The events of ``kinds`` of a journey's projects in ``cohort`` (None: every
    cohort), as rows ``(project_id, seq, actor, payload)`` in project and seq order."""
    query = (sa.select(events.c.project_id, events.c.seq, events.c.actor, events.c.payload)
             .join(projects, projects.c.id == events.c.project_id)
             .where(projects.c.journey_key == journey, events.c.kind.in_(list(kinds)))
             .order_by(events.c.project_id, events.c.seq))
    if cohort is not None:
        query = query.where(projects.c.cohort == cohort)
    return list(conn.execute(query))


def journey_events(conn: Connection, journey: str, kinds: Sequence[str], *,
                   partner: str | None = None, cohort: str | None = None
                   ) -> list[Row[Any]]:
    """Like :func:`cohort_events`, filtered by partner and cohort when given."""
    query = (sa.select(events.c.project_id, events.c.seq, events.c.actor, events.c.payload)
             .join(projects, projects.c.id == events.c.project_id)
             .where(projects.c.journey_key == journey, events.c.kind.in_(list(kinds)))
             .order_by(events.c.project_id, events.c.seq))
    if partner is not None:
        query = query.where(projects.c.partner == partner)
    if cohort is not None:
        query = query.where(projects.c.cohort == cohort)
    return list(conn.execute(query))
