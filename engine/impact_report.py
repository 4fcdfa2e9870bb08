"""The impact report: each indicator over a portfolio, per project and by tag.

Read in bulk (:mod:`bompao.storage.measurements`: three statements for the whole
portfolio, not one history per project) and summarised project by project with the
same pure functions as ``project indicators`` and the gates
(:func:`~bompao.definitions.indicators.summarize`), so the report and a project's
own view never disagree. Three views:

- ``indicators``: each indicator of the journey's latest version over the projects:
  ``total`` (the projects' totals added up; for a bool, how many are true),
  ``target`` (each project's target added up), ``projects``, ``reported`` (projects
  with a value) and ``missing`` (periods due without a value);
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
from bompao.definitions.indicators import Measurement, due_periods, summarize
from bompao.storage import measurements as bulk
from bompao.storage.measurements import MeasuredRow, PortfolioRow, StageRow

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


def portfolio_summaries(engine: Any, journey: str, partner: str | None, cohort: str | None,
                        now: datetime) -> list[tuple[PortfolioRow, dict[str, dict[str, Any]]]]:
    """Each project of the portfolio with its indicators' summaries at ``now``."""
    with engine.db.begin(write=False) as conn:
        found = bulk.portfolio(conn, journey, partner, cohort)
        stages = _grouped(bulk.stage_entries(conn, journey, partner, cohort))
        values = _grouped(bulk.measured(conn, journey, partner, cohort))
    result = []
    for project in found:
        compiled = engine.journey(journey, project.version)
        result.append((project, _summaries(compiled, stages.get(project.id, []),
                                           values.get(project.id, []), now)))
    return result


def _summaries(journey: CompiledJourney, stage_rows: list[StageRow],
               measured: list[MeasuredRow], now: datetime) -> dict[str, dict[str, Any]]:
    specs = journey.doc.indicators
    if not specs:
        return {}
    stays = _stays(stage_rows)
    per: dict[str, list[Measurement]] = {name: [] for name in specs}
    for row in measured:
        spec = specs.get(row.indicator)
        if spec is None:
            continue
        try:
            period = spec.every.parse(str(row.period))
        except ValueError:  # recorded under another version's rhythm
            continue
        value = row.value
        if spec.type == "bool":
            value = bool(value)
        per[row.indicator].append(Measurement(period, value, row.at, row.actor))
    not_final = [name for name, stage in journey.stages.items() if not stage.final]
    result = {}
    for name, spec in specs.items():
        due = due_periods(spec.every, stays, spec.during or not_final, now, journey.timezone)
        result[name] = summarize(spec, spec.every, per[name], due)
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
                     "projects": len(portfolio), "reported": 0, "missing": 0,
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
            if row is None:
                continue
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
