"""A project's impact indicators as the project page and ``GET /api/v1/projects/{id}/
indicators`` show them: each declared indicator with its summary (the engine's, from the
event log), every period's value with the values it corrected, the missing periods and
the period due now, and whether the viewer may record a value (the indicator's owner role).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bompao.definitions import CompiledJourney
from bompao.definitions.indicators import Rhythm
from bompao.definitions.messages import text
from bompao.definitions.texts import pick
from bompao.engine.actor import Actor
from bompao.engine.history import Event
from bompao.engine.indicators import summaries
from bompao.storage.records import Project

__all__ = ["indicator_data", "indicator_views", "rhythm_text", "shown_value"]


def rhythm_text(rhythm: Rhythm, lang: str) -> str:
    """``month``, ``quarter``, ``half year``, ``year`` or ``N months`` in ``lang``."""
    named = {1: "month", 3: "quarter", 6: "half", 12: "year"}.get(rhythm.months)
    if named:
        return text(f"page.ind.{named}", lang)
    return text("page.ind.months", lang, count=rhythm.months)


def shown_value(kind: str, value: Any, lang: str) -> str:
    """A stored value as the page writes it (``yes``, ``45%``, ``60,000.00``)."""
    if value is None:
        return "-"
    if kind == "bool" or isinstance(value, bool):
        return text("page.ind.yes" if value else "page.ind.no", lang)
    if kind == "percent":
        return f"{float(value):g}%"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "int":
        return f"{int(value):,}"
    return f"{float(value):,.6g}" if isinstance(value, float) else str(value)


def _corrections(events: Iterable[Event]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every recorded value by (indicator, period), in the order recorded."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        if event.kind != "measured":
            continue
        payload = event.payload
        found.setdefault((str(payload.get("indicator")), str(payload.get("period"))), []).append(
            {"value": payload.get("value"), "at": event.at.isoformat(), "by": event.actor,
             "note": payload.get("note")})
    return found


def indicator_data(journey: CompiledJourney, project: Project, events: list[Event],
                   now: datetime, actor: Actor) -> list[dict[str, Any]]:
    """Each indicator's declaration, summary and periods as JSON-ready values.

    ``values`` holds each period's effective value with ``corrected``: the values recorded
    for the period before it, oldest first. ``due_now`` is the current period when the
    project is in a stage where a value is due and none is recorded for it yet.
    """
    specs = journey.doc.indicators
    found = summaries(journey, events, now)
    recorded = _corrections(events)
    not_final = [name for name, stage in journey.stages.items() if not stage.final]
    today = now.astimezone(ZoneInfo(journey.timezone)).date()
    shown = []
    for name, spec in specs.items():
        summary = found[name]
        current = spec.every.start_of(today)
        label = spec.every.label(current)
        values = [{**v, "corrected": [c["value"] for c in
                                      recorded.get((name, v["period"]), [])[:-1]]}
                  for v in summary["values"]]
        in_due_stage = project.stage in (spec.during or not_final)
        due_now = label if in_due_stage and not any(v["period"] == label for v in values) \
            else None
        shown.append({
            "name": name, "title": spec.title, "unit": spec.unit, "type": spec.type,
            "aggregate": spec.aggregate, "every": str(spec.every), "owner": spec.owner,
            "baseline": spec.baseline, "target": spec.target, "tags": list(spec.tags),
            "total": summary["total"], "latest": summary["latest"],
            "periods": summary["periods"], "missing": summary["missing"],
            "progress": summary["progress"], "missing_periods": summary["missing_periods"],
            "values": values, "current_period": label, "due_now": due_now,
            "due_ends": (spec.every.next(current) - timedelta(days=1)).isoformat(),
            "can_record": spec.owner is None or actor.holds(spec.owner)})
    return shown


def indicator_views(journey: CompiledJourney, project: Project, events: list[Event],
                    now: datetime, actor: Actor, lang: str) -> list[dict[str, Any]]:
    """:func:`indicator_data` with the texts of ``lang`` for the page."""
    views = []
    for item in indicator_data(journey, project, events, now, actor):
        kind = item["type"]
        spec = journey.doc.indicators[item["name"]]
        views.append({
            **item,
            "title_text": pick(item["title"], lang, item["name"]),
            "unit_text": pick(item["unit"], lang, "") if item["unit"] else "",
            "every_text": text("page.ind.every", lang, rhythm=rhythm_text(spec.every, lang),
                               examples=spec.every.examples(today_year(item))),
            "total_text": shown_value(kind, item["total"], lang),
            "baseline_text": shown_value(kind, item["baseline"], lang),
            "target_text": shown_value(kind, item["target"], lang),
            "progress_pct": None if item["progress"] is None
            else max(0, min(100, round(item["progress"] * 100))),
            "progress_text": "-" if item["progress"] is None
            else f"{item['progress']:.0%}",
            "rows": [{"period": v["period"], "value": shown_value(kind, v["value"], lang),
                      "note": v["note"] or "", "by": v["by"] or "",
                      "corrected": ", ".join(shown_value(kind, c, lang)
                                             for c in v["corrected"])}
                     for v in reversed(item["values"])]})
    return views


def today_year(item: dict[str, Any]) -> int:
    """The year of the indicator's current period (for the examples of period names)."""
    return int(str(item["current_period"])[:4])
