"""Program insight computed in SQL: the funnel, time in stage, projects at risk, coach workload.

Every report aggregates in the database (Core statements with bound parameters;
window functions for percentiles, so SQLite and PostgreSQL answer the same way) and
returns rows ready for a table, JSON, CSV or the HTML report. Nothing loads every
project into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bompao.definitions import CompiledJourney
from bompao.errors import InvalidValue
from bompao.storage.tables import follow_ups, projects, stage_visits

__all__ = ["REPORTS", "Filters", "Reports", "main_path"]

REPORTS = ("funnel", "stages", "at-risk", "coaches")


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


_SEARCH_LIMIT = 20_000
"""Steps of the longest-path search before it settles for the best path found."""


def main_path(journey: CompiledJourney) -> list[str]:
    """The journey's main path: the longest chain of stages from the initial stage to a
    final one, through transitions written for particular stages (a ``from: "*"``
    transition, such as ``withdraw``, is a way out, not a step on the path).

    Ties go to the transitions declared first. A partner journey's replaced and added
    transitions count like the base's, so its own stages are on its path. Without any
    path to a final stage, the longest chain from the initial stage is the path.
    """
    wildcard = {(t.trigger, t.to) for t in journey.doc.transitions if t.from_ == "*"}
    steps: dict[str, list[str]] = {name: [] for name in journey.stages}
    for transition in journey.transitions:
        if (transition.trigger, transition.dest) in wildcard:
            continue
        for source in transition.sources:
            if source in steps and transition.dest not in steps[source]:
                steps[source].append(transition.dest)
    best: list[str] = [journey.initial]
    best_final: list[str] | None = None
    budget = [_SEARCH_LIMIT]

    def walk(path: list[str]) -> None:
        nonlocal best, best_final
        budget[0] -= 1
        here = path[-1]
        if journey.stages[here].final:
            if best_final is None or len(path) > len(best_final):
                best_final = list(path)
            return
        if len(path) > len(best):
            best = list(path)
        for nxt in steps.get(here, ()):
            if nxt not in path and budget[0] > 0:
                path.append(nxt)
                walk(path)
                path.pop()

    walk([journey.initial])
    return best_final or best


class Reports:
    """Reports over one engine's database."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.dialect = engine.db.dialect

    def _journey(self, filters: Filters) -> CompiledJourney:
        compiled: CompiledJourney = self.engine.journey(filters.journey, filters.version)
        return compiled

    def run(self, name: str, filters: Filters, now: datetime | None = None
            ) -> list[dict[str, Any]]:
        """Run the report called ``name``.

        Raises:
            InvalidValue: an unknown report name.
            NotFound: an unknown journey.
        """
        if name == "funnel":
            return self.funnel(filters)
        if name == "stages":
            return self.stages(filters)
        if name == "at-risk":
            return self.at_risk(filters, now=now)
        if name == "coaches":
            return self.coaches(filters, now=now)
        raise InvalidValue(f"unknown report {name!r}; reports: {', '.join(REPORTS)}")

    def funnel(self, filters: Filters) -> list[dict[str, Any]]:
        """Per stage: projects that ever reached it, that are there now, conversion onwards."""
        journey = self._journey(filters)
        visits = self._visits(filters)
        reached_q = (sa.select(visits.c.stage, sa.func.count(sa.distinct(visits.c.project_id)))
                     .group_by(visits.c.stage))
        now_q = filters.projects(sa.select(projects.c.stage, sa.func.count())
                                 .group_by(projects.c.stage))
        with self.engine.db.begin(write=False) as conn:
            reached = dict(conn.execute(reached_q).all())
            current = dict(conn.execute(now_q).all())
        path = main_path(journey)
        rows = []
        for name, stage in journey.stages.items():
            nxt = path[path.index(name) + 1] if name in path[:-1] else None
            count = int(reached.get(name, 0))
            rows.append({
                "stage": name, "title": stage.label("en"), "reached": count,
                "now": int(current.get(name, 0)), "next": nxt,
                "conversion": round(int(reached.get(nxt, 0)) / count, 4)
                if nxt and count else None,
                "exit": name not in path})
        return rows

    @staticmethod
    def _visits(filters: Filters, *, completed: bool = False) -> Any:
        """The stage visits the filters cover, as a subquery (project_id, stage, days).

        A visit belongs to the date range by when it began; it may end after it.
        ``projects`` is joined only when a filter needs its columns.
        """
        query = (sa.select(stage_visits.c.project_id, stage_visits.c.stage,
                           stage_visits.c.days)
                 .where(stage_visits.c.journey_key == filters.journey))
        if any(v is not None for v in (filters.version, filters.partner, filters.cohort)):
            query = filters.projects(query.join(
                projects, projects.c.id == stage_visits.c.project_id))
        if completed:
            query = query.where(stage_visits.c.days.is_not(None))
        if filters.since is not None:
            query = query.where(stage_visits.c.entered_at >= filters.since)
        if filters.until is not None:
            query = query.where(stage_visits.c.entered_at < filters.until)
        return query.subquery("visits")

    def stages(self, filters: Filters) -> list[dict[str, Any]]:
        """Time in stage (days) over completed visits: median, 90th percentile, maximum."""
        journey = self._journey(filters)
        visits = self._visits(filters, completed=True)
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
        with self.engine.db.begin(write=False) as conn:
            found = {row[0]: row[1:] for row in conn.execute(query)}
        rows = []
        for name, stage in journey.stages.items():
            n, median, p90, most = found.get(name, (0, None, None, None))
            rows.append({"stage": name, "title": stage.label("en"), "visits": int(n or 0),
                         "median_days": _round(median), "p90_days": _round(p90),
                         "max_days": _round(most),
                         "expected_days": round(stage.expected_duration.approx_days(), 1)
                         if stage.expected_duration else None})
        return rows

    def at_risk(self, filters: Filters, now: datetime | None = None) -> list[dict[str, Any]]:
        """Projects in a non-final stage that are flagged, overdue against their stage's
        expected duration, or have failed follow-ups, with who is assigned."""
        journey = self._journey(filters)
        now = now or self.engine.now()
        length = sa.func.json_array_length if self.dialect == "sqlite" \
            else sa.func.jsonb_array_length
        flagged = length(projects.c.flags) > 0
        overdue_terms = [
            sa.and_(projects.c.stage == name,
                    projects.c.stage_entered_at < now - timedelta(
                        days=stage.expected_duration.approx_days()))
            for name, stage in journey.stages.items()
            if stage.expected_duration is not None and not stage.final]
        overdue = sa.or_(*overdue_terms) if overdue_terms else sa.false()
        failed = sa.select(sa.func.count()).where(
            follow_ups.c.project_id == projects.c.id,
            follow_ups.c.status == "failed").scalar_subquery()
        query = filters.projects(
            sa.select(projects.c.id, projects.c.name, projects.c.stage, projects.c.partner,
                      projects.c.cohort, projects.c.flags, projects.c.assignments,
                      projects.c.stage_entered_at, overdue.label("overdue"),
                      failed.label("failed"))
            .where(sa.or_(flagged, overdue, failed > 0),
                   projects.c.stage.not_in([n for n, s in journey.stages.items() if s.final]))
            .order_by(projects.c.stage_entered_at, projects.c.id))
        with self.engine.db.begin(write=False) as conn:
            rows = list(conn.execute(query))
        result = []
        for row in rows:
            reasons = [f"flag {flag}" for flag in row.flags]
            if row.overdue:
                reasons.append("overdue")
            if row.failed:
                reasons.append(f"{row.failed} failed follow-up(s)")
            result.append({
                "id": row.id, "name": row.name, "stage": row.stage, "partner": row.partner,
                "cohort": row.cohort, "reasons": reasons,
                "days_in_stage": (now - row.stage_entered_at).days,
                "assigned": {role: list(people) for role, people in
                             (row.assignments or {}).items()}})
        return result

    def coaches(self, filters: Filters, now: datetime | None = None) -> list[dict[str, Any]]:
        """Per assigned person and role: projects, and follow-ups due on them now."""
        now = now or self.engine.now()
        self._journey(filters)
        if self.dialect == "sqlite":
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
        with self.engine.db.begin(write=False) as conn:
            rows = conn.execute(sql, {"now": now, "journey": filters.journey,
                                      "version": filters.version, "partner": filters.partner,
                                      "cohort": filters.cohort}).all()
        result = [{"person": r[0], "role": r[1], "projects": int(r[2]),
                   "due_follow_ups": int(r[3])} for r in rows]
        # coaching sessions: hours per coach per month (engine/coaching.py)
        if self.engine.journey(filters.journey, filters.version).doc.coaching is not None:
            from bompao.engine.coaching import coach_hours  # noqa: PLC0415

            hours = coach_hours(self.engine, filters.journey, partner=filters.partner,
                                cohort=filters.cohort)
            for row in result:
                row["hours"] = hours.get(row["person"], {})
        return result


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)



