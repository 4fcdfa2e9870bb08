"""Indicator reminders at run time: cancelled when the value arrives, skipped when it
came meanwhile, and the at-risk flag after too many missing periods.

The reminders themselves are ordinary follow-ups (see
:mod:`bompao.definitions.reminders`): stage entry plans them, stage exit cancels them,
the dispatcher claims and delivers them. This module adds what needs the event log:

- :func:`after_measure` runs inside the measurement's transaction: the reminder
  pending for the measured period is cancelled (and the next unmeasured period's
  planned), and an ``at_risk`` flag an indicator set is cleared once no indicator with
  ``at_risk_after`` misses that many periods any more.
- :func:`before_delivery` runs in the dispatcher before a reminder goes out: a period
  that got its value meanwhile is skipped (status ``cancelled``, the next occurrence
  planned as usual), and the run says whether to flag the project ``at_risk``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bompao.definitions import CompiledJourney
from bompao.definitions.reminders import IndicatorReminder
from bompao.engine.history import Event
from bompao.engine.indicators import summaries
from bompao.engine.planning import next_row

__all__ = ["AT_RISK", "after_measure", "at_risk_payload", "before_delivery", "reminder_of"]

AT_RISK = "at_risk"
"""The flag set after ``at_risk_after`` missing periods (the one ``report at-risk`` shows)."""


def reminder_of(journey: CompiledJourney, stage: str, indicator: str
                ) -> IndicatorReminder | None:
    """The reminder follow-up of ``indicator`` in ``stage``, if it has one there."""
    for follow_up in journey.stages[stage].follow_ups:
        if isinstance(follow_up, IndicatorReminder) and follow_up.indicator == indicator:
            return follow_up
    return None


def _watched(journey: CompiledJourney) -> list[str]:
    return [name for name, spec in journey.doc.indicators.items()
            if spec.at_risk_after is not None]


def _set_by_indicator(events: list[Event]) -> bool:
    """Whether the project's ``at_risk`` flag was last set by an indicator."""
    for event in reversed(events):
        if event.kind == "flagged" and event.payload.get("flag") == AT_RISK:
            return "indicator" in event.payload
    return False


def after_measure(hot: Any, cursor: Any, row: Any, journey: CompiledJourney,  # noqa: PLR0917
                  indicator: str, period: date, measured: Event, now: datetime) -> bool:
    """Bring the reminders in line with a new measurement, in its transaction.

    Args:
        hot: the engine's hot path.
        cursor: the measurement's transaction.
        row: the project as read in it.
        journey: its journey version.
        indicator: the measured indicator.
        period: the measured period's first day.
        measured: the measurement as it will be recorded (not yet appended).
        now: the transaction's time.

    Returns:
        Whether the measurement clears the ``at_risk`` flag an indicator had set.
    """
    reminder = reminder_of(journey, row.stage, indicator)
    watched = _watched(journey)
    if reminder is None and not (watched and AT_RISK in row.flags):
        return False
    events = [*(Event(*r) for r in hot.list_events(cursor, row.id)), measured]
    if reminder is not None:
        _replan(hot, cursor, row, journey, reminder, period, events, now)
    if not watched or AT_RISK not in row.flags or not _set_by_indicator(events):
        return False
    found = summaries(journey, events, now, watched)
    specs = journey.doc.indicators
    return all(found[name]["missing"] < int(specs[name].at_risk_after or 0)
               for name in watched)


def _replan(hot: Any, cursor: Any, row: Any, journey: CompiledJourney,  # noqa: PLR0917
            reminder: IndicatorReminder, period: date, events: list[Event],
            now: datetime) -> None:
    """Cancel the pending reminder of ``period`` and plan the next period without a value."""
    occurrence = reminder.occurrence_of(row.stage_entered_at, period, journey.timezone)
    planned = hot.specs(cursor, row.id, row.visit).get(reminder.name, [])
    if ("pending", occurrence) not in planned:
        return  # reminded already, or an older period's reminder is still to go out
    hot.cancel(cursor, row.id, now, reminder.name)
    labels = {e.payload.get("period") for e in events
              if e.kind == "measured" and e.payload.get("indicator") == reminder.indicator}
    rhythm = reminder.rhythm
    while rhythm.label(reminder.period(row.stage_entered_at, occurrence + 1,
                                       journey.timezone)) in labels:
        occurrence += 1
    found = next_row(journey, reminder, project=row.id, visit=row.visit,
                     occurrence=occurrence, entered_at=row.stage_entered_at,
                     fields=row.fields, revision=row.lock_version + 1, now=now)
    if found is not None:
        hot.plan(cursor, [found])


def before_delivery(engine: Any, reminder: IndicatorReminder, journey: CompiledJourney,  # noqa: PLR0917
                    project: Any, occurrence: int, now: datetime) -> tuple[str | None, bool]:
    """What to do with a reminder about to go out.

    Returns:
        (why it is skipped, or None to deliver it; whether to flag the project at risk).
    """
    with engine.hot.transaction(write=False) as cursor:
        events = [Event(*r) for r in engine.hot.list_events(cursor, project.id)]
    label = reminder.rhythm.label(reminder.period(project.stage_entered_at, occurrence,
                                                  journey.timezone))
    if any(e.kind == "measured" and e.payload.get("indicator") == reminder.indicator
           and e.payload.get("period") == label for e in events):
        return f"{reminder.indicator} was reported for {label}", False
    spec = journey.doc.indicators[reminder.indicator]
    if spec.at_risk_after is None or AT_RISK in project.flags:
        return None, False
    missing = summaries(journey, events, now, [reminder.indicator])[reminder.indicator]
    return None, missing["missing"] >= spec.at_risk_after


def at_risk_payload(reminder: IndicatorReminder) -> dict[str, Any]:
    """The ``flagged`` event's payload when a reminder flags its project."""
    return {"flag": AT_RISK, "indicator": reminder.indicator}
