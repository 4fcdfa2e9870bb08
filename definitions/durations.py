"""Durations of the journey language and the date arithmetic behind them.

``N day(s) | week(s) | month(s) | year(s) | business day(s)``. Months and years are
calendar months and years (31 January + 1 month is the last day of February, via
``dateutil.relativedelta``); business days skip the weekend and the holidays of the
journey's calendar (the ``holidays`` package). Arithmetic happens in the journey's
timezone, so "1 month" keeps the local time of day across DST changes.

A calendar is a country code (``TH``, ``TH-10``) or the long form
(:class:`Calendar`): the holidays package's categories (public, bank, government...),
a weekend (by default the country's own, from the package: Friday-Saturday in Saudi
Arabia), days added and days removed. The operator adds days to a country's calendars
with :func:`add_operator_days` (``[calendars.TH] add = {...}`` in the TOML), without
editing journeys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bompao.definitions.messages import Message

__all__ = ["UNITS", "WEEKDAYS", "Calendar", "Duration", "add_operator_days",
           "business_days_after", "calendar_of", "holidays_of", "is_business_day",
           "parse_duration", "weekend_of"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

UNITS = ("day", "week", "month", "year", "business day")
_PATTERN = re.compile(r"^\s*(\d{1,6})\s+(business\s+days?|days?|weeks?|months?|years?)\s*$")
MAX_DAYS = 36_525


@dataclass(frozen=True, slots=True)
class Duration:
    """A count of one unit: ``Duration(6, "month")``."""

    count: int
    unit: str

    def __str__(self) -> str:
        plural = "" if self.count == 1 else "s"
        return f"{self.count} {self.unit}{plural}"

    def add(self, start: datetime, *, timezone: str = "UTC", calendar: Any = None,
            times: int = 1) -> datetime:
        """Return ``start`` plus ``times`` of this duration.

        Args:
            start: an aware datetime.
            timezone: the IANA zone the arithmetic happens in.
            calendar: the holiday calendar for business days: a country code, a
                :class:`Calendar`, or the journey's long ``calendar:`` form.
            times: how many times to add the duration.

        Raises:
            ValueError: ``start`` is naive.
        """
        if start.tzinfo is None:
            raise ValueError("durations are added to aware datetimes only")
        local = start.astimezone(ZoneInfo(timezone))
        n = self.count * times
        if self.unit == "business day":
            result = business_days_after(local, n, calendar)
        elif self.unit == "day":
            result = local + relativedelta(days=n)
        elif self.unit == "week":
            result = local + relativedelta(weeks=n)
        elif self.unit == "month":
            result = local + relativedelta(months=n)
        else:
            result = local + relativedelta(years=n)
        return result.replace(tzinfo=ZoneInfo(timezone)).astimezone(start.tzinfo)

    def approx_days(self) -> float:
        """The duration in days, for comparisons and reports (a month is 30.44 days)."""
        per = {"day": 1.0, "week": 7.0, "month": 30.436875, "year": 365.2425,
               "business day": 7 / 5}
        return self.count * per[self.unit]


def parse_duration(value: Any) -> Duration:
    """Parse ``"14 days"``, ``"1 month"``, ``"10 business days"`` and the like.

    Raises:
        ValueError: the text is not a duration; the message lists what is allowed.
    """
    if isinstance(value, Duration):
        return value
    if isinstance(value, str):
        return _parse_text(value)
    raise ValueError(Message("duration.bad", value=value, expected=Message("duration.expected")))


@lru_cache(maxsize=1024)
def _parse_text(value: str) -> Duration:
    """:func:`parse_duration` of a text, once per text (a journey repeats a few
    durations on every stage; a :class:`Duration` is immutable, so one serves all).

    Raises:
        ValueError: as :func:`parse_duration` (a refusal is not cached).
    """
    match = _PATTERN.match(value)
    if match is None:
        raise ValueError(Message("duration.bad", value=value,
                                 expected=Message("duration.expected")))
    unit = " ".join(match.group(2).split()).rstrip("s")
    duration = Duration(int(match.group(1)), unit)
    if duration.approx_days() > MAX_DAYS:
        raise ValueError(Message("duration.too_long", value=value))
    return duration


@dataclass(frozen=True, slots=True)
class Calendar:
    """Which days are working days: a country's holidays of some categories, its weekend
    (or another), days added and days removed."""

    country: str
    """ISO 3166 code, optionally with a subdivision: ``TH``, ``TH-10``."""
    categories: tuple[str, ...] = ("public",)
    weekend: tuple[int, ...] | None = None
    """Weekday numbers (Monday 0); None: the country's own weekend."""
    add: tuple[tuple[date, str], ...] = ()
    remove: tuple[date, ...] = ()


_operator_days: dict[str, tuple[tuple[date, str], ...]] = {}


def add_operator_days(days: dict[str, dict[str, str]]) -> None:
    """Set the days the operator adds to calendars: country code -> ISO date -> name.

    A code applies to every calendar of that country (``TH`` to ``TH-10`` too) or, with
    a subdivision, to that subdivision's only. Replaces what was set before.

    Raises:
        ValueError: a date that is not ISO ``YYYY-MM-DD``.
    """
    parsed = {code: tuple(sorted((date.fromisoformat(day), name)
                                 for day, name in added.items()))
              for code, added in days.items()}
    if parsed != _operator_days:
        _operator_days.clear()
        _operator_days.update(parsed)
        _holidays.cache_clear()


def calendar_of(value: Any) -> Calendar | None:
    """A :class:`Calendar` from a country code, a Calendar, or the journey's long form
    (anything with ``country``, ``categories``, ``weekend``, ``add`` and ``remove``)."""
    if value is None or isinstance(value, Calendar):
        return value
    if isinstance(value, str):
        return Calendar(value)
    weekend = getattr(value, "weekend", None)
    return Calendar(
        str(value.country), tuple(getattr(value, "categories", None) or ("public",)),
        None if weekend is None else tuple(sorted(
            WEEKDAYS.index(d) if isinstance(d, str) else int(d) for d in weekend)),
        tuple(sorted((_day(d), str(n)) for d, n in (getattr(value, "add", None) or {}).items())),
        tuple(sorted(_day(d) for d in getattr(value, "remove", None) or ())))


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _package(calendar: Calendar, year: int) -> Any:
    import holidays  # noqa: PLC0415 - 0.3 s to import; only business days need it

    country, _, subdivision = calendar.country.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None, years=year,
                                     categories=calendar.categories)


@lru_cache(maxsize=256)
def _holidays(calendar: Calendar, year: int) -> dict[date, str]:
    found = dict(_package(calendar, year).items())
    country = calendar.country.partition("-")[0]
    for code in {country, calendar.country}:
        found.update((day, name) for day, name in _operator_days.get(code, ())
                     if day.year == year)
    found.update((day, name) for day, name in calendar.add if day.year == year)
    for day in calendar.remove:
        found.pop(day, None)
    return found


@lru_cache(maxsize=256)
def _weekend_days(calendar: Calendar, year: int) -> frozenset[date]:
    """The days of ``year`` that the package's own rules make weekend days (its weekend
    per country and per period, less the weekend days it declares working days)."""
    package = _package(calendar, year)
    day, found = date(year, 1, 1), set()
    while day.year == year:
        if day not in package and not package.is_working_day(day):
            found.add(day)
        day += timedelta(days=1)
    return frozenset(found)


def weekend_of(calendar: Any) -> frozenset[int]:
    """The weekday numbers (Monday 0) of the calendar's weekend now (the country's own,
    as the holidays package says); Saturday and Sunday without a calendar."""
    found = calendar_of(calendar)
    if found is None:
        return frozenset({5, 6})
    if found.weekend is not None:
        return frozenset(found.weekend)
    year = date.today().year
    return frozenset(d.weekday() for d in _weekend_days(found, year))


def holidays_of(calendar: Any, year: int) -> dict[date, str]:
    """The calendar's holidays in ``year`` (with the days added and removed)."""
    found = calendar_of(calendar)
    return {} if found is None else dict(_holidays(found, year))


def _is_weekend(day: date, calendar: Calendar | None) -> bool:
    if calendar is None:
        return day.weekday() >= 5
    if calendar.weekend is not None:
        return day.weekday() in calendar.weekend
    return day in _weekend_days(calendar, day.year)


def is_business_day(day: date, calendar: Any) -> bool:
    """Whether ``day`` is neither a weekend day nor a holiday of the calendar.

    Without a ``weekend`` of its own, a calendar's weekend is the country's, by the
    holidays package's working-day rules (Friday-Saturday in Saudi Arabia, which were
    Thursday-Friday there before 2013). A day the calendar removes from its holidays
    is a working day, unless it falls on the weekend.
    """
    found = calendar_of(calendar)
    if _is_weekend(day, found):
        return False
    return found is None or day not in _holidays(found, day.year)


def business_days_after(start: datetime, count: int, calendar: Any) -> datetime:
    """``start`` moved forward by ``count`` business days, keeping the time of day."""
    found = calendar_of(calendar)
    result = start
    remaining = count
    while remaining > 0:
        result += timedelta(days=1)
        if is_business_day(result.date(), found):
            remaining -= 1
    return result
