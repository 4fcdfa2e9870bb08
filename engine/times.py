"""Times as people type and read them: local to a journey's (or the operator's) timezone.

A time typed without an offset (``--since 2027-01-31``, ``--now 2027-01-31T09:00``) means
that wall-clock time in the zone that applies — the journey's ``timezone`` where one
journey applies, else the operator's ``timezone`` setting (default Asia/Bangkok) — not
UTC. Human output shows times in that zone to the minute, always with the offset
(``2027-01-31 09:00 +07:00``); JSON keeps full ISO 8601.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bompao.errors import InvalidValue, UsageError

__all__ = ["DEFAULT_TIMEZONE", "parse_time", "show_time", "zone"]

DEFAULT_TIMEZONE = "Asia/Bangkok"
"""The zone of times without an offset where neither a journey nor the operator says."""


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (:data:`DEFAULT_TIMEZONE` when None).

    Raises:
        UsageError: an unknown zone name.
    """
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown timezone {name!r}; use an IANA name such as "
                         "'Asia/Bangkok' or 'UTC'") from None


def parse_time(text: str, where: str | ZoneInfo | None = None) -> datetime:
    """An aware time from ISO 8601 text; without an offset it is local to ``where``.

    A date alone is midnight at its start in that zone. A local time that does not exist
    or repeats (a daylight-saving change) takes the offset before the change (``fold=0``).

    Raises:
        InvalidValue: not an ISO 8601 date or time (the message shows both forms).
    """
    local = where if isinstance(where, ZoneInfo) else zone(where)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(f"bad time {text!r}: expected ISO 8601 such as 2027-01-31, "
                           "2027-01-31T09:00 (in the journey's timezone) or "
                           "2027-01-31T09:00:00+07:00") from None
    if len(text.strip()) == 10:  # a date: its first moment
        value = datetime.combine(value.date(), time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=local)
    return value.astimezone(UTC)


def show_time(value: datetime | str | None, where: str | ZoneInfo | None = None) -> str:
    """``value`` (an aware datetime or ISO text) in the zone ``where`` to the minute, with
    the offset: ``2027-01-31 09:00 +07:00``; empty for None. Without ``where`` an aware
    value keeps its own offset (a naive one is taken as UTC)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment if where is None else moment.astimezone(
        where if isinstance(where, ZoneInfo) else zone(where))
    offset = local.isoformat()[-6:]
    return f"{local:%Y-%m-%d %H:%M} {offset}"
