"""Indicator reminders as follow-ups: a period that ends without a value reminds its owner.

An indicator with ``owner`` and ``remind_after`` adds one recurring follow-up named
``indicator:NAME`` to each stage in which a value is due. Its occurrence ``k`` belongs
to the ``k``-th period of the stage visit (the period holding the stage entry is 0) and
falls due ``remind_after`` after that period ends (midnight in the journey's timezone;
business days skip the journey calendar's weekends and holidays). The follow-up is a
``notify`` to the owner role, so it is planned, claimed, delivered, retried and listed
like every other follow-up; the engine cancels the one pending for a period when its
value arrives, and the dispatcher skips one whose period got its value meanwhile.
This module is pure, like the rest of ``definitions/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bompao.definitions.compiled import CompiledFollowUp
from bompao.definitions.durations import Duration
from bompao.definitions.indicators import Rhythm
from bompao.definitions.messages import text
from bompao.definitions.model import FollowUpSpec, IndicatorSpec, JourneyDoc
from bompao.definitions.texts import pick

if TYPE_CHECKING:
    from bompao.definitions.compiled import CompiledJourney

__all__ = ["PREFIX", "IndicatorReminder", "reminders_of"]

PREFIX = "indicator:"
"""The name of an indicator's reminder follow-up is ``indicator:NAME``."""


_MONTHLY = Rhythm(1)
_AT_PERIOD_END = Duration(0, "day")


def _months(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class IndicatorReminder(CompiledFollowUp):
    """The recurring reminder of one indicator in one stage."""

    indicator: str = ""
    rhythm: Rhythm = _MONTHLY
    remind_after: Duration = _AT_PERIOD_END

    @property
    def recurring(self) -> bool:
        """Always: one occurrence per period of the stage visit."""
        return True

    def period(self, entered_at: datetime, occurrence: int, timezone: str) -> date:
        """The first day of the period occurrence ``occurrence`` reminds about."""
        first = self.rhythm.start_of(entered_at.astimezone(ZoneInfo(timezone)).date())
        months = _months(first) + occurrence * self.rhythm.months
        return date(months // 12, months % 12 + 1, 1)

    def occurrence_of(self, entered_at: datetime, period: date, timezone: str) -> int:
        """The occurrence that reminds about ``period`` (negative: before the visit)."""
        first = self.rhythm.start_of(entered_at.astimezone(ZoneInfo(timezone)).date())
        return (_months(period) - _months(first)) // self.rhythm.months

    def due(self, entered_at: datetime, fields: Mapping[str, Any], occurrence: int,
            journey: CompiledJourney) -> datetime | None:
        """``remind_after`` after the end of the occurrence's period."""
        start = self.period(entered_at, occurrence, journey.timezone)
        end = datetime.combine(self.rhythm.next(start), time(0), ZoneInfo(journey.timezone))
        if self.remind_after.count == 0:
            return end
        return self.remind_after.add(end, timezone=journey.timezone,
                                     calendar=journey.calendar)


def _message(name: str, spec: IndicatorSpec) -> dict[str, str]:
    """The reminder's text in each language, a template for the notify action."""
    result = {}
    for lang in ("en", "th"):
        title = pick(spec.title, lang, name).replace("{", "(").replace("}", ")")
        result[lang] = text("indicator.reminder", lang, indicator=title,
                            project="{{ project.name }}")
    return result


def reminders_of(doc: JourneyDoc, stage: str, first_index: int) -> tuple[IndicatorReminder, ...]:
    """The reminder follow-ups of ``stage``: one per indicator with ``owner`` and
    ``remind_after`` that is due in it (its ``during``, or every stage that is not
    final), numbered from ``first_index`` after the stage's own follow-ups."""
    found: list[IndicatorReminder] = []
    final = doc.stages[stage].final
    for name, spec in doc.indicators.items():
        if spec.owner is None or spec.remind_after is None:
            continue
        due_in = spec.during if spec.during is not None else None
        if (stage not in due_in) if due_in is not None else final:
            continue
        follow_up = FollowUpSpec(after=spec.remind_after, action="notify", to=[spec.owner],
                                 message=_message(name, spec))
        found.append(IndicatorReminder(PREFIX + name, stage, first_index + len(found),
                                       follow_up, name, spec.every, spec.remind_after))
    return tuple(found)
