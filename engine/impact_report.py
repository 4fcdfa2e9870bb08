"""The impact report: each indicator over a portfolio, per project and by tag.

Read in bulk (:mod:`bompao.storage.measurements`: three statements for the whole
portfolio, not one history per project) and summarised project by project with the
same pure functions as ``project indicators`` and the gates
(:func:`~bompao.definitions.indicators.summarize`), so the report and a project's
own view never disagree. Three views:

- ``indicators``: each indicator of the journey's latest version over the projects it
  concerns (those that have been in a stage where it is due, or reported it; an
  applicant declined at the call is not counted against the test run's target):
  ``total`` (the projects' totals added up; for a bool, how many are true),
  ``target`` (each such project's target added up), ``projects``, ``reported``
  (projects with a value) and ``missing`` (periods due without a value);
- ``projects``: each project's ``total``, ``target``, ``periods``, ``missing`` and
  ``progress`` per indicator;
- ``tags``: per tag (an SDG target, an IRIS+ code, a plain word), its indicators'
  totals and how many projects reported on any of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bompao.definitions import CompiledJourney
from bompao.definitions.indicators import due_periods, figures
from bompao.storage import measurements as bulk
from bompao.storage.measurements import PortfolioRow, StageRow

__all__ = ["VIEWS", "impact_report", "portfolio_summaries"]

VIEWS = ("indicators", "projects", "tags")


def _stays(rows: Iterable[StageRow]) -> list[tuple[str, datetime, datetime | None]]:
    """``(stage, entered, left)`` of each visit (as engine.indicators reads them)."""
    entries: list[tuple[str, datetime]] = []
    for row in rows:
        if row.kind == "created":
            entries.append((str(row.to_stage), datetime.fromisoformat(row.entered)
                            if row.entered else row.at))
        elif row.kind == "advanced" or row.to_stage != row.from_stage:
            entries.append((str(row.to_stage), row.at))
    return [(stage, entered, entries[i + 1][1] if i + 1 < len(entries) else None)
            for i, (stage, entered) in enumerate(entries)]


def _grouped(rows: Iterable[Any]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.project_id, []).append(row)
    return found


def _converter(kind: str) -> Any:
    """The stored value (a number, ``1``/``0`` or text, by database) as ``kind`` holds it."""
    if kind == "bool":
        return lambda v: v in (True, 1, "1", "true")
    if kind == "int":
        return int
    return float


class _Summariser:
    """Summaries of many projects of one journey version, sharing what they can: the
    periods of a label, and the due periods of the same stays (a cohort's projects
    often entered their stages together)."""

    def __init__(self, journey: CompiledJourney, now: datetime) -> None:
        self.journey = journey
        self.now = now
        self.specs = journey.doc.indicators
        self.convert = {name: _converter(spec.type) for name, spec in self.specs.items()}
        not_final = [name for name, stage in journey.stages.items() if not stage.final]
        self.due_in = {name: spec.during or not_final for name, spec in self.specs.items()}
        self._periods: dict[tuple[str, str], Any] = {}
        self._due: dict[tuple[str, tuple[Any, ...]], list[Any]] = {}

    def period(self, name: str, label: str) -> Any:
        key = (name, label)
        found = self._periods.get(key, self)
        if found is self:
            spec = self.specs.get(name)
            try:
                found = None if spec is None else spec.every.parse(str(label))
            except ValueError:  # recorded under another version's rhythm
                found = None
            self._periods[key] = found
        return found

    def __call__(self, stage_rows: list[StageRow], measured: list[tuple[int, str, str, Any]]
                 ) -> dict[str, dict[str, Any]]:
        specs = self.specs
        if not specs:
            return {}
        stays = tuple(_stays(stage_rows))
        per: dict[str, dict[Any, Any]] = {name: {} for name in specs}
        known, period = self._periods, self.period
        for _, name, label, value in measured:  # in seq order: a correction wins
            start = known.get((name, label), self)
            if start is self:
                start = period(name, label)  # also None for an unknown indicator
            if start is not None:
                per[name][start] = value
        result = {}
        for name, spec in specs.items():
            key = (name, stays)
            due = self._due.get(key)
            if due is None:
                due = self._due[key] = due_periods(spec.every, stays, self.due_in[name],
                                                   self.now, self.journey.timezone)
            convert = self.convert[name]
            effective = {p: convert(v) for p, v in per[name].items()}
            result[name] = figures(spec, effective, due)
            # it concerns the project once it has been where a value is due (an
            # applicant declined before the test run is no part of the run's target)
            result[name]["applies"] = bool(effective) or any(
                stage in self.due_in[name] for stage, _, _ in stays)
        return result


def portfolio_summaries(engine: Any, journey: str, partner: str | None, cohort: str | None,
                        now: datetime) -> list[tuple[PortfolioRow, dict[str, dict[str, Any]]]]:
    """Each project of the portfolio with its indicators' figures at ``now`` (``total``,
    ``latest``, ``periods``, ``missing``, ``progress``; not each period's value)."""
    with engine.db.begin(write=False) as conn:
        found = bulk.portfolio(conn, journey, partner, cohort)
        stages = _grouped(bulk.stage_entries(conn, journey, partner, cohort))
        values: dict[int, list[Any]] = {}
        for row in bulk.values(conn, journey, partner, cohort):
            values.setdefault(row[0], []).append(row)
    summarisers: dict[int, _Summariser] = {}
    result = []
    for project in found:
        summarise = summarisers.get(project.version)
        if summarise is None:
            summarise = summarisers[project.version] = _Summariser(
                engine.journey(journey, project.version), now)
        result.append((project, summarise(stages.get(project.id, []),
                                          values.get(project.id, []))))
    return result


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def impact_report(engine: Any, *, journey: str, partner: str | None = None,
                  cohort: str | None = None, actor: Any = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """The three views of ``journey``'s projects (of ``partner`` and ``cohort``).

    Raises:
        NotFound: the journey is unknown.
    """
    outside = False  # an actor of one partner asking for another's: nothing
    if actor is not None and actor.partner is not None:
        outside = partner is not None and partner != actor.partner
        partner = actor.partner
    compiled = engine.journey(journey)
    now = now or engine.now()
    portfolio = [] if outside else portfolio_summaries(engine, journey, partner, cohort, now)
    specs = compiled.doc.indicators
    result = {name: {"title": dict(spec.title or {}), "type": spec.type,
                     "unit": dict(spec.unit or {}), "total": 0, "target": None,
                     "projects": 0, "reported": 0, "missing": 0,
                     "tags": list(spec.tags)}
              for name, spec in specs.items()}
    per_project = []
    for project, found in portfolio:
        own = engine.journey(journey, project.version).doc.indicators
        shown = {}
        for name, summary in found.items():
            target = own[name].target
            shown[name] = {"total": summary["total"], "target": target,
                           "periods": summary["periods"], "missing": summary["missing"],
                           "progress": summary["progress"]}
            row = result.get(name)
            if row is None or not summary.get("applies", True):
                continue
            row["projects"] += 1
            if summary["total"] is not None:
                row["total"] += _number(summary["total"])
            row["reported"] += summary["periods"] > 0
            row["missing"] += summary["missing"]
            if target is not None:
                row["target"] = (row["target"] or 0) + _number(target)
        per_project.append({"id": project.id, "name": project.name, "stage": project.stage,
                            "partner": project.partner, "cohort": project.cohort,
                            "indicators": shown})
    return {"journey": journey, "partner": partner, "cohort": cohort,
            "indicators": result, "projects": per_project,
            "tags": _tags(result, per_project)}


def _tags(indicators: dict[str, dict[str, Any]], projects: list[dict[str, Any]]
          ) -> dict[str, dict[str, Any]]:
    tags: dict[str, dict[str, Any]] = {}
    for name, row in indicators.items():
        for tag in row["tags"]:
            entry = tags.setdefault(tag, {"indicators": {}, "projects": 0})
            entry["indicators"][name] = {"total": row["total"], "target": row["target"]}
    for entry in tags.values():
        entry["projects"] = sum(
            any(p["indicators"].get(n, {}).get("periods", 0) > 0 for n in entry["indicators"])
            for p in projects)
    return dict(sorted(tags.items()))
