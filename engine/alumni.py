"""``bompao report alumni``: survival by cohort at each check-in after the handoff.

A project in a final stage with ``check_ins`` reaches check-in ``d`` once ``d`` has
passed since it entered the stage. Its answer to that check-in is the last value of
the stage's survival indicator (the first ``bool`` one due there, e.g.
``still_operating``) recorded from the check-in's due time until the next check-in's
(or now, for the last one reached). Per cohort and check-in: ``due`` (projects that
reached it), ``reported`` (those that answered), ``operating`` (answered true) and
``share`` (operating / reported; None when nobody answered).

The report renders as a table (:func:`alumni_sheet`: raw values, numbers stay numbers,
for the terminal, CSV and xlsx) and as a self-contained HTML page with a chart of the
share still operating per cohort at each check-in (:func:`alumni_html`); headings and
check-in labels ("6 months", "6 เดือน") come from the message catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bompao.definitions import CompiledJourney
from bompao.definitions.alumni import survival_of
from bompao.definitions.messages import text
from bompao.errors import BompaoError
from bompao.storage import measurements as bulk

__all__ = ["alumni_html", "alumni_report", "alumni_sheet", "check_in_label"]

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


# views ----------------------------------------------------------------------------------

Table = tuple[str, list[str], list[list[Any]]]


def check_in_label(label: str, lang: str = "en") -> str:
    """A check-in's key (``6 months``) as the language says it (``6 เดือน``)."""
    from bompao.definitions.durations import parse_duration  # noqa: PLC0415
    from bompao.definitions.texts import duration_text  # noqa: PLC0415

    try:
        return duration_text(parse_duration(label), lang)
    except (ValueError, KeyError, BompaoError):
        return label


def alumni_sheet(report: dict[str, Any], lang: str = "en") -> Table:
    """``(title, headers, rows)``: one row per cohort and check-in, raw values (``share``
    a fraction from 0 to 1, None when nobody answered)."""
    headers = [text(f"impact.{k}", lang) for k in ("cohort", "check_in", "due", "reported",
                                                    "operating", "share")]
    rows = [[name or "-", check_in_label(label, lang), cell["due"], cell["reported"],
             cell["operating"], cell["share"]]
            for name, cells in report["cohorts"].items() for label, cell in cells.items()]
    return text("impact.alumni_sheet", lang), headers, rows


def _chart(report: dict[str, Any], lang: str) -> str:
    """Grouped bars: per check-in (labels under their group), one bar per cohort, the
    share still operating in percent; empty when no cohort has an answer."""
    from bompao.engine.charts import pyplot, svg  # noqa: PLC0415

    cohorts = report["cohorts"]
    labels = report["check_ins"]
    if not any(cell["share"] is not None for cells in cohorts.values()
               for cell in cells.values()):
        return ""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / max(1, len(cohorts))
    for index, (name, cells) in enumerate(cohorts.items()):
        shares = [100 * (cells[label]["share"] or 0.0) for label in labels]
        axes.bar([x + (index - (len(cohorts) - 1) / 2) * width for x in range(len(labels))],
                 shares, width=width, label=name or "-")
    axes.set_xticks(list(range(len(labels))), [check_in_label(lb, lang) for lb in labels])
    axes.set_ylim(0, 100)
    axes.set_ylabel(f"% {text('impact.operating', lang)}")
    axes.legend(title=text("impact.cohort", lang))
    axes.spines[["top", "right"]].set_visible(False)
    drawn = svg(figure)
    plt.close(figure)
    return drawn


def alumni_html(report: dict[str, Any], lang: str = "en") -> str:
    """The report as one self-contained page (escaped: cohort names are data); shares
    shown as whole percents, ``-`` when nobody answered."""
    from bompao.engine.impact_views import page  # noqa: PLC0415

    name, headers, rows = alumni_sheet(report, lang)
    shown = [[*row[:5], "-" if row[5] is None else f"{row[5]:.0%}"] for row in rows]
    return page(text("impact.alumni_title", lang, journey=report["journey"]),
                _chart(report, lang), [(name, headers, shown)], lang, table_id="alumni")
