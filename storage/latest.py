"""The newest event id (of one partner's projects, or of all): where a live page's change
feed starts. The caller owns the transaction (:meth:`bompao.storage.Database.begin`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import events, projects

__all__ = ["latest_event_id"]


def latest_event_id(conn: Connection, partner: str | None = None) -> int:
    """The highest event id (0 when there is none), of ``partner``'s projects when given."""
    query = sa.select(sa.func.max(events.c.id))
    if partner is not None:
        query = query.join(projects, projects.c.id == events.c.project_id).where(
            projects.c.partner == partner)
    return int(conn.execute(query).scalar() or 0)
