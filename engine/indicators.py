"""Measurements of impact indicators: checking a value, and summaries from the event log.

A measurement is a ``measured`` event of the project (written through the one write
path like every change); a correction is a later event for the same period, and the
last one recorded wins. Nothing else stores measurements: summaries, gates and
reports fold the events (see :func:`summaries`).

When gates read them: a transition knows which indicators its gates name
(:attr:`~bompao.definitions.CompiledTransition.indicators`); only for such a
transition does the engine read the project's events before evaluating the gate, in
the same transaction as the advance. Advances of every other transition (and every
journey without indicators) read nothing more than before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bompao.definitions import CompiledJourney
from bompao.definitions.indicators import (
    Measurement,
    due_periods,
    number_problem,
    summarize,
)
from bompao.definitions.messages import Message, did_you_mean
from bompao.definitions.model import IndicatorSpec
from bompao.engine.history import Event
from bompao.errors import InvalidValue

__all__ = ["impact_report", "indicator_spec", "parse_period", "parse_value", "summaries"]

_TRUE = {"true", "yes", "y", "1", "ใช่"}
_FALSE = {"false", "no", "n", "0", "ไม่ใช่"}


def indicator_spec(journey: CompiledJourney, name: str) -> IndicatorSpec:
    """The declared indicator ``name``.

    Raises:
        InvalidValue: the journey declares no such indicator (with the closest name).
    """
    spec = journey.doc.indicators.get(name)
    if spec is None:
        known = ", ".join(sorted(journey.doc.indicators)) or "none"
        raise InvalidValue(Message("indicator.unknown", name=name, ref=journey.ref,
                                   hint=did_you_mean(name, journey.doc.indicators),
                                   known=known))
    return spec


def parse_value(name: str, spec: IndicatorSpec, value: Any, *, text: bool = False) -> Any:
    """``value`` as indicator ``name`` stores it (an int, a float or a bool).

    Args:
        name: the indicator's name (for messages).
        spec: its declaration.
        value: a Python value, or with ``text`` the text the CLI received.
        text: parse text (``12``, ``45.5``, ``45%``, ``true``).

    Raises:
        InvalidValue: not a value of the indicator's type (wrong type, NaN or
            infinity, a fraction for an int, a percent outside 0 to 100).
    """
    if text and isinstance(value, str):
        value = _from_text(name, spec, value)
    problem = number_problem(spec.type, value)
    if problem is not None:
        raise InvalidValue(Message("indicator.bad_value", name=name, kind=spec.type,
                                   problem=problem))
    if spec.type == "bool":
        return value
    if spec.type == "int":
        return int(value)
    return float(value)


def _from_text(name: str, spec: IndicatorSpec, raw: str) -> Any:
    word = raw.strip().lower()
    if spec.type == "bool":
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InvalidValue(Message("indicator.bad_text", name=name, kind="bool", got=raw,
                                   expected=Message("indicator.expect_bool")))
    if spec.type == "percent":
        word = word.removesuffix("%").strip()
    try:
        number = int(word) if spec.type == "int" else float(word)
    except ValueError:
        expected = Message("indicator.expect_whole" if spec.type == "int"
                           else "indicator.expect_number")
        raise InvalidValue(Message("indicator.bad_text", name=name, kind=spec.type, got=raw,
                                   expected=expected)) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidValue(Message("indicator.bad_text", name=name, kind=spec.type, got=raw,
                                   expected=Message("indicator.expect_finite")))
    return number


def parse_period(name: str, spec: IndicatorSpec, period: str | None, now: datetime,
                 timezone: str) -> date:
    """The first day of ``period`` (None: the current period), checked to be a period
    of the indicator's rhythm that has begun.

    Raises:
        InvalidValue: a period outside the rhythm, or one that has not begun yet.
    """
    today = now.astimezone(ZoneInfo(timezone)).date()
    rhythm = spec.every
    current = rhythm.start_of(today)
    if period is None:
        return current
    try:
        start = rhythm.parse(str(period))
    except ValueError as exc:
        raise InvalidValue(Message("indicator.bad_period", name=name,
                                   problem=exc.args[0])) from None
    if start > current:
        raise InvalidValue(Message("indicator.not_begun", name=name, period=period,
                                   today=today.isoformat(), timezone=timezone,
                                   current=rhythm.label(current)))
    return start


def _stays(events: list[Event]) -> list[tuple[str, datetime, datetime | None]]:
    """``(stage, entered, left)`` of each stage visit the events record."""
    entries: list[tuple[str, datetime]] = []
    for event in events:
        if event.kind == "created":
            entered = event.payload.get("stage_entered_at")
            entries.append((str(event.to_stage),
                            datetime.fromisoformat(entered) if entered else event.at))
        elif event.kind == "advanced" or (event.kind == "migrated"
                                          and event.to_stage != event.from_stage):
            entries.append((str(event.to_stage), event.at))
    return [(stage, entered, entries[i + 1][1] if i + 1 < len(entries) else None)
            for i, (stage, entered) in enumerate(entries)]


def summaries(journey: CompiledJourney, events: Iterable[Event], now: datetime,
              names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Each indicator's summary (see :func:`~bompao.definitions.indicators.summarize`)
    from a project's events up to ``now``.

    Args:
        journey: the project's journey version (its declared indicators).
        events: the project's events in seq order.
        now: the moment of the summary (periods ended by then are due).
        names: only these indicators (default: every declared one).
    """
    log = list(events)
    specs: Mapping[str, IndicatorSpec] = journey.doc.indicators
    wanted = list(specs) if names is None else [n for n in names if n in specs]
    measured: dict[str, list[Measurement]] = {name: [] for name in wanted}
    for event in log:
        if event.kind != "measured" or event.payload.get("indicator") not in measured:
            continue
        name = event.payload["indicator"]
        try:
            period = specs[name].every.parse(str(event.payload["period"]))
        except ValueError:  # recorded under another version's rhythm: not this one's
            continue
        measured[name].append(Measurement(period, event.payload["value"], event.at,
                                          event.actor, event.payload.get("note")))
    stays = _stays(log)
    not_final = [name for name, stage in journey.stages.items() if not stage.final]
    result: dict[str, dict[str, Any]] = {}
    for name in wanted:
        spec = specs[name]
        due = due_periods(spec.every, stays, spec.during or not_final, now, journey.timezone)
        result[name] = summarize(spec, spec.every, measured[name], due)
    return result


def impact_report(engine: Any, *, journey: str, partner: str | None = None,
                  cohort: str | None = None, actor: Any = None) -> dict[str, Any]:
    """The impact report (see :func:`bompao.engine.impact_report.impact_report`).

    Raises:
        NotFound: the journey is unknown.
    """
    from bompao.engine.impact_report import impact_report as report  # noqa: PLC0415 - cycle

    return report(engine, journey=journey, partner=partner, cohort=cohort, actor=actor)
