"""``bompao report alumni``: survival by cohort at each check-in after the handoff.

A project in a final stage with ``check_ins`` reaches check-in ``d`` once ``d`` has
passed since it entered the stage. Its answer to that check-in is the last value of
the stage's survival indicator (the first ``bool`` one due there, e.g.
``still_operating``) recorded from the check-in's due time until the next check-in's
(or now, for the last one reached). Per cohort and check-in: ``due`` (projects that
reached it), ``reported`` (those that answered), ``operating`` (answered true) and
``share`` (operating / reported; None when nobody answered).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bompao.definitions import CompiledJourney
from bompao.definitions.alumni import survival_of
from bompao.storage import measurements as bulk

__all__ = ["alumni_report"]

NO_COHORT = ""
"""The cohort key of projects without a cohort."""


def _check_in_dates(journey: CompiledJourney, stage: str, entered: datetime) -> list[datetime]:
    spec = journey.doc.stages[stage]
    return [after.add(entered, timezone=journey.timezone, calendar=journey.calendar)
            for after in spec.check_ins]


def alumni_report(engine: Any, *, journey: str, partner: str | None = None,
                  cohort: str | None = None, actor: Any = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """Survival by cohort at each check-in of ``journey``'s final stages.

    Raises:
        NotFound: the journey is unknown.
    """
    outside = False
    if actor is not None and actor.partner is not None:
        outside = partner is not None and partner != actor.partner
        partner = actor.partner
    latest = engine.journey(journey)
    now = now or engine.now()
    labels = [str(after) for stage in latest.doc.stages.values() for after in stage.check_ins]
    labels = list(dict.fromkeys(labels))
    cohorts: dict[str, dict[str, dict[str, Any]]] = {}
    if not outside:
        with engine.db.begin(write=False) as conn:
            found = bulk.portfolio(conn, journey, partner, cohort)
            rows = bulk.measured(conn, journey, partner, cohort)
        answers: dict[tuple[int, str], list[tuple[datetime, Any]]] = {}
        for row in rows:
            answers.setdefault((row.project_id, row.indicator), []).append((row.at, row.value))
        for project in found:
            compiled = engine.journey(journey, project.version)
            spec = compiled.doc.stages.get(project.stage)
            survival = survival_of(compiled.doc, project.stage) if spec else None
            if spec is None or not spec.check_ins or survival is None:
                continue
            dates = _check_in_dates(compiled, project.stage, project.stage_entered_at)
            given = answers.get((project.id, survival), [])
            by_label = cohorts.setdefault(project.cohort or NO_COHORT, {})
            for index, (after, due) in enumerate(zip(spec.check_ins, dates, strict=True)):
                if due > now:
                    break
                until = dates[index + 1] if index + 1 < len(dates) else None
                said = [v for at, v in given if at >= due and (until is None or at < until)]
                cell = by_label.setdefault(str(after), {"due": 0, "reported": 0,
                                                        "operating": 0, "share": None})
                cell["due"] += 1
                if said:
                    cell["reported"] += 1
                    cell["operating"] += bool(said[-1])
    for by_label in cohorts.values():
        for label in labels:
            cell = by_label.setdefault(label, {"due": 0, "reported": 0, "operating": 0,
                                               "share": None})
            cell["share"] = cell["operating"] / cell["reported"] if cell["reported"] else None
        ordered = {label: by_label[label] for label in labels}
        by_label.clear()
        by_label.update(ordered)
    return {"journey": journey, "partner": partner, "cohort": cohort, "check_ins": labels,
            "cohorts": dict(sorted(cohorts.items()))}
