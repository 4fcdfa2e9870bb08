"""Reads for the cohort forecast (``bompao simulate``): observed stage visits and coaches.

Both read one journey key (every version) and optionally one partner's projects.
They may raise ``sqlalchemy.exc.SQLAlchemyError`` when the database refuses a statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import events, projects
from .visits import completed_days

__all__ = ["Visit", "coach_counts", "completed_visits"]


@dataclass(frozen=True, slots=True)
class Visit:
    """A finished stay: ``days`` in ``stage``, then the project entered ``next_stage``."""

    stage: str
    days: float
    next_stage: str


def completed_visits(conn: Connection, journey_key: str,
                     partner: str | None = None) -> list[Visit]:
    """Every finished visit of the journey's projects with the stage entered next.

    A visit is finished when the project left the stage: the event that left it holds
    the visit (``from_stage``, ``from_entered_at``) and the stage entered next
    (``to_stage``).
    """
    days = completed_days(conn.dialect.name).label("days")
    query = (sa.select(events.c.from_stage, days, events.c.to_stage)
             .join(projects, projects.c.id == events.c.project_id)
             .where(projects.c.journey_key == journey_key,
                    events.c.from_entered_at.is_not(None))
             .order_by(events.c.project_id, events.c.seq))
    if partner is not None:
        query = query.where(projects.c.partner == partner)
    return [Visit(str(stage), max(0.0, float(spent)), str(following))
            for stage, spent, following in conn.execute(query)]


def coach_counts(conn: Connection, journey_key: str, role: str,
                 partner: str | None = None) -> list[int]:
    """How many people each of the journey's projects has assigned in ``role`` (projects
    with nobody in the role are left out)."""
    query = sa.select(projects.c.assignments).where(projects.c.journey_key == journey_key)
    if partner is not None:
        query = query.where(projects.c.partner == partner)
    counts = []
    for (assignments,) in conn.execute(query):
        people = (assignments or {}).get(role) or []
        if people:
            counts.append(len(people))
    return counts
