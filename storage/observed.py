"""Reads for the cohort forecast (``bompao simulate``): observed stage visits and coaches.

Both read one journey key (every version) and optionally one partner's projects.
They may raise ``sqlalchemy.exc.SQLAlchemyError`` when the database refuses a statement.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import projects, stage_visits

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

    A visit is finished when the project left the stage (``stage_visits.days`` is set);
    the next stage is the project's following visit.
    """
    query = (sa.select(stage_visits.c.project_id, stage_visits.c.stage, stage_visits.c.days)
             .where(stage_visits.c.journey_key == journey_key)
             .order_by(stage_visits.c.project_id, stage_visits.c.seq))
    if partner is not None:
        query = query.join(projects, projects.c.id == stage_visits.c.project_id).where(
            projects.c.partner == partner)
    rows = conn.execute(query).all()
    visits: list[Visit] = []
    for row, following in itertools.pairwise(rows):
        if row.days is not None and following.project_id == row.project_id:
            visits.append(Visit(row.stage, max(0.0, float(row.days)), following.stage))
    return visits


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
