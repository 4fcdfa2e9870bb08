"""The report queries: funnel counts, time in stage, projects at risk, coach workload.

Each aggregates in the database (Core statements with bound parameters; window
functions for percentiles, so SQLite and PostgreSQL answer the same way) and returns
plain rows; :mod:`bompao.engine.reports` turns them into the reports. Nothing loads
every project into Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bompao.storage.database import Database
from bompao.storage.tables import events, follow_ups, projects
from bompao.storage.visits import completed_days, entry_condition

__all__ = ["Filters", "at_risk_rows", "coach_loads", "funnel_counts", "visit_days"]


@dataclass(frozen=True)
class Filters:
    """What a report covers: a journey (required), and optionally narrower slices."""

    journey: str
    version: int | None = None
    partner: str | None = None
    cohort: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def projects(self, query: Any) -> Any:
        """Apply the project filters to ``query``."""
        query = query.where(projects.c.journey_key == self.journey)
        for column, value in ((projects.c.journey_version, self.version),
                              (projects.c.partner, self.partner),
                              (projects.c.cohort, self.cohort)):
            if value is not None:
                query = query.where(column == value)
        return query


def _visits(filters: Filters, dialect: str, *, completed: bool = False) -> Any:
    """The stage visits the filters cover, as a subquery (project_id, stage, days).

    Every visit is read from the event that begins it (its entry, ``days`` NULL);
    ``completed`` reads the completed ones from the event that ends it instead (its
    ``from_stage``, from ``from_entered_at`` to its ``at``). A visit belongs to the
    date range by when it began; it may end after it.
    """
    if completed:
        query = (sa.select(events.c.project_id, events.c.from_stage.label("stage"),
                           completed_days(dialect).label("days"))
                 .where(events.c.from_entered_at.is_not(None)))
        began = events.c.from_entered_at
    else:
        query = (sa.select(events.c.project_id, events.c.to_stage.label("stage"),
                           sa.null().label("days"))
                 .where(entry_condition()))
        began = events.c.at
    query = filters.projects(query.join(projects, projects.c.id == events.c.project_id))
    if filters.since is not None:
        query = query.where(began >= filters.since)
    if filters.until is not None:
        query = query.where(began < filters.until)
    return query.subquery("visits")


def funnel_counts(db: Database, filters: Filters) -> tuple[dict[str, int], dict[str, int]]:
    """``(reached, now)``: per stage, the projects that ever entered it (in the date
    range) and the projects in it now.

    Raises:
        DatabaseError: the database failed.
    """
    visits = _visits(filters, db.dialect)
    reached_q = (sa.select(visits.c.stage, sa.func.count(sa.distinct(visits.c.project_id)))
                 .group_by(visits.c.stage))
    now_q = filters.projects(sa.select(projects.c.stage, sa.func.count())
                             .group_by(projects.c.stage))
    with db.begin(write=False) as conn:
        reached = {stage: int(n) for stage, n in conn.execute(reached_q).all()}
        current = {stage: int(n) for stage, n in conn.execute(now_q).all()}
    return reached, current


def visit_days(db: Database, filters: Filters) -> dict[str, tuple[Any, ...]]:
    """Per stage, over completed visits: ``(visits, median, p90, max)`` in days.

    Raises:
        DatabaseError: the database failed.
    """
    visits = _visits(filters, db.dialect, completed=True)
    ranked = sa.select(
        visits.c.stage, visits.c.days,
        sa.func.row_number().over(partition_by=visits.c.stage,
                                  order_by=visits.c.days).label("rn"),
        sa.func.count().over(partition_by=visits.c.stage).label("n")).cte("ranked")
    query = sa.select(
        ranked.c.stage, sa.func.max(ranked.c.n),
        sa.func.min(sa.case((ranked.c.rn >= ranked.c.n * 0.5, ranked.c.days))),
        sa.func.min(sa.case((ranked.c.rn >= ranked.c.n * 0.9, ranked.c.days))),
        sa.func.max(ranked.c.days)).group_by(ranked.c.stage)
    with db.begin(write=False) as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(query)}


def at_risk_rows(db: Database, filters: Filters, *, overdue_before: Mapping[str, datetime],
                 finals: Sequence[str]) -> list[Any]:
    """Projects outside ``finals`` that are flagged, entered their stage before its
    ``overdue_before`` time, or have failed follow-ups; oldest stage entry first.

    Each row has ``id, name, stage, partner, cohort, flags, assignments,
    stage_entered_at, overdue, failed``.

    Raises:
        DatabaseError: the database failed.
    """
    length = sa.func.json_array_length if db.dialect == "sqlite" else sa.func.jsonb_array_length
    flagged = length(projects.c.flags) > 0
    overdue_terms = [sa.and_(projects.c.stage == stage, projects.c.stage_entered_at < cutoff)
                     for stage, cutoff in overdue_before.items()]
    overdue = sa.or_(*overdue_terms) if overdue_terms else sa.false()
    failed = sa.select(sa.func.count()).where(
        follow_ups.c.project_id == projects.c.id,
        follow_ups.c.status == "failed").scalar_subquery()
    query = filters.projects(
        sa.select(projects.c.id, projects.c.name, projects.c.stage, projects.c.partner,
                  projects.c.cohort, projects.c.flags, projects.c.assignments,
                  projects.c.stage_entered_at, overdue.label("overdue"),
                  failed.label("failed"))
        .where(sa.or_(flagged, overdue, failed > 0), projects.c.stage.not_in(list(finals)))
        .order_by(projects.c.stage_entered_at, projects.c.id))
    with db.begin(write=False) as conn:
        return list(conn.execute(query))


def coach_loads(db: Database, filters: Filters, now: datetime) -> list[tuple[str, str, int, int]]:
    """Per assigned person and role: ``(person, role, projects, follow-ups due by now)``,
    most projects first.

    Raises:
        DatabaseError: the database failed.
    """
    if db.dialect == "sqlite":
        expand = ("CROSS JOIN json_each(p.assignments) AS roles "
                  "CROSS JOIN json_each(roles.value) AS person")
    else:
        expand = ("CROSS JOIN jsonb_each(p.assignments) AS roles(key, value) "
                  "CROSS JOIN jsonb_array_elements_text(roles.value) AS person(value)")
    sql = sa.text(
        "SELECT person.value AS person, roles.key AS role, "  # noqa: S608 - fixed text
        "COUNT(DISTINCT p.id) AS projects, COUNT(DISTINCT f.id) AS due "
        f"FROM projects p {expand} "
        "LEFT JOIN follow_ups f ON f.project_id = p.id AND f.status = 'pending' "
        "AND f.due_at <= :now "
        "WHERE p.journey_key = :journey "
        "AND (:version IS NULL OR p.journey_version = :version) "
        "AND (:partner IS NULL OR p.partner = :partner) "
        "AND (:cohort IS NULL OR p.cohort = :cohort) "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2").bindparams(
            sa.bindparam("now", type_=follow_ups.c.due_at.type),
            sa.bindparam("version", type_=sa.Integer),
            sa.bindparam("partner", type_=sa.String),
            sa.bindparam("cohort", type_=sa.String))
    with db.begin(write=False) as conn:
        rows = conn.execute(sql, {"now": now, "journey": filters.journey,
                                  "version": filters.version, "partner": filters.partner,
                                  "cohort": filters.cohort}).all()
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]
