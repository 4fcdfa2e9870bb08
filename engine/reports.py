"""Program insight: the funnel, time in stage, projects at risk, coach workload.

The aggregation runs in the database (:mod:`bompao.storage.insight`); this module
puts the journey around it (stage order and titles, the main path, expected
durations) and returns rows ready for a table, JSON, CSV or the HTML report.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bompao.definitions import CompiledJourney
from bompao.errors import InvalidValue
from bompao.storage import insight
from bompao.storage.insight import Filters

__all__ = ["REPORTS", "Filters", "Reports", "main_path"]

REPORTS = ("funnel", "stages", "at-risk", "coaches")


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
        reached, current = insight.funnel_counts(self.engine.db, filters)
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

    def stages(self, filters: Filters) -> list[dict[str, Any]]:
        """Time in stage (days) over completed visits: median, 90th percentile, maximum."""
        journey = self._journey(filters)
        found = insight.visit_days(self.engine.db, filters)
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
        overdue_before = {
            name: now - timedelta(days=stage.expected_duration.approx_days())
            for name, stage in journey.stages.items()
            if stage.expected_duration is not None and not stage.final}
        rows = insight.at_risk_rows(
            self.engine.db, filters, overdue_before=overdue_before,
            finals=[name for name, stage in journey.stages.items() if stage.final])
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
        rows = insight.coach_loads(self.engine.db, filters, now)
        result: list[dict[str, Any]] = [
            {"person": r[0], "role": r[1], "projects": int(r[2]), "due_follow_ups": int(r[3])}
            for r in rows]
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



