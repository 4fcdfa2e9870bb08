"""Durations of the journey language and the date arithmetic behind them.

``N day(s) | week(s) | month(s) | year(s) | business day(s)``. Months and years are
calendar months and years (31 January + 1 month is the last day of February, via
``dateutil.relativedelta``); business days skip weekends and the public holidays of
the journey's calendar (the ``holidays`` package). Arithmetic happens in the
journey's timezone, so "1 month" keeps the local time of day across DST changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

__all__ = ["UNITS", "Duration", "business_days_after", "is_business_day", "parse_duration"]

UNITS = ("day", "week", "month", "year", "business day")
_PATTERN = re.compile(r"^\s*(\d{1,6})\s+(business\s+days?|days?|weeks?|months?|years?)\s*$")
MAX_DAYS = 36_525
EXPECTED = "N day(s), week(s), month(s), year(s) or business day(s), e.g. '14 days'"


@dataclass(frozen=True, slots=True)
class Duration:
    """A count of one unit: ``Duration(6, "month")``."""

    count: int
    unit: str

    def __str__(self) -> str:
        plural = "" if self.count == 1 else "s"
        return f"{self.count} {self.unit}{plural}"

    def add(self, start: datetime, *, timezone: str = "UTC", calendar: str | None = None,
            times: int = 1) -> datetime:
        """Return ``start`` plus ``times`` of this duration.

        Args:
            start: an aware datetime.
            timezone: the IANA zone the arithmetic happens in.
            calendar: the holiday calendar (ISO country code) for business days.
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
    match = _PATTERN.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"bad duration {value!r}: expected {EXPECTED}")
    unit = " ".join(match.group(2).split()).rstrip("s")
    duration = Duration(int(match.group(1)), unit)
    if duration.approx_days() > MAX_DAYS:
        raise ValueError(f"duration {value!r} is longer than 100 years")
    return duration


@lru_cache(maxsize=64)
def _holidays(calendar: str, year: int) -> frozenset[date]:
    import holidays  # noqa: PLC0415 - 0.3 s to import; only business days need it

    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None,
                                               years=year).keys())


def is_business_day(day: date, calendar: str | None) -> bool:
    """Whether ``day`` is neither a weekend nor a public holiday of ``calendar``."""
    if day.weekday() >= 5:
        return False
    return calendar is None or day not in _holidays(calendar, day.year)


def business_days_after(start: datetime, count: int, calendar: str | None) -> datetime:
    """``start`` moved forward by ``count`` business days, keeping the time of day."""
    result = start
    remaining = count
    while remaining > 0:
        result += timedelta(days=1)
        if is_business_day(result.date(), calendar):
            remaining -= 1
    return result
