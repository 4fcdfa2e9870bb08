"""Typed field values: check, parse from text, store as JSON, and hand to CEL.

Stored form (JSON-safe): ``string``/``int``/``float``/``bool`` as themselves (floats
finite: NaN and infinity are refused, as JSON cannot hold them), ``date``
as ``YYYY-MM-DD``, ``datetime`` as ISO 8601 with offset, lists as lists. CEL sees
dates as timestamps at local midnight in the journey's timezone.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from .messages import Message

__all__ = ["MAX_ITEMS", "MAX_TEXT", "check_bounds", "coerce", "from_text", "to_cel"]

MAX_TEXT = 10_000
"""Characters a string value may have: gates may combine values (``s + s``), so each
stays small enough that no expression can build gigabytes from it."""
MAX_ITEMS = 1_000
"""Items a list value may have."""
_INT64 = (-(2**63), 2**63 - 1)


def _scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise ValueError(Message("type.too_long", most=MAX_TEXT, got=len(value)))
            if "\x00" in value:
                raise ValueError(Message("type.nul"))
            return value
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT64[0] <= value <= _INT64[1]:
                raise ValueError(Message("type.int64", got=value))
            return value
    elif kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if not math.isfinite(number):  # JSON, hence no database, holds NaN or infinity
                raise ValueError(Message("type.finite", got=value))
            return number
    elif kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind == "date":
        if isinstance(value, datetime):
            raise ValueError(Message("type.date_not_datetime"))
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            return date.fromisoformat(value).isoformat()
    elif kind == "datetime":
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        if isinstance(parsed, datetime):
            if parsed.tzinfo is None:
                raise ValueError(Message("type.aware"))
            return parsed.isoformat()
    raise ValueError(Message("type.wrong", kind=kind, type=type(value).__name__, got=value))


def coerce(kind: str, value: Any) -> Any:
    """Check ``value`` against the journey type ``kind`` and return its stored form.

    Raises:
        ValueError: the value does not fit; the message names the expected type.
    """
    if value is None:
        return None
    if kind.startswith("list["):
        if not isinstance(value, list | tuple):
            raise ValueError(Message("type.wrong", kind=kind, type=type(value).__name__,
                                     got=value))
        if len(value) > MAX_ITEMS:
            raise ValueError(Message("type.too_many", most=MAX_ITEMS, got=len(value)))
        return [_scalar(kind[5:-1], item) for item in value]
    try:
        return _scalar(kind, value)
    except ValueError as exc:
        if "expected" in str(exc):
            raise
        raise ValueError(Message("type.wrong_text", kind=kind, got=value)) from None


def check_bounds(value: Any, minimum: float | None, maximum: float | None) -> Any:
    """Return ``value`` (a stored int or float, or None) if it lies within the field's
    declared ``min``/``max``.

    Raises:
        ValueError: the value is outside the bounds, or NaN where bounds are declared.
    """
    if value is None or (minimum is None and maximum is None):
        return value
    if isinstance(value, float) and math.isnan(value):  # false against every bound
        raise ValueError(Message("type.nan_bounds", min=minimum, max=maximum))
    if minimum is not None and value < minimum:
        raise ValueError(Message("type.below_min", min=minimum, got=value))
    if maximum is not None and value > maximum:
        raise ValueError(Message("type.above_max", max=maximum, got=value))
    return value


def from_text(kind: str, text: str) -> Any:
    """Parse a command-line value (``interviews_done=12``, ``tags=a,b`` or JSON lists).

    Raises:
        ValueError: the text is not a value of ``kind``.
    """
    if kind == "string":
        return text
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise ValueError(Message("type.bool_text", got=text))
    if kind in ("int", "float"):
        try:
            number = int(text) if kind == "int" else float(text)
        except ValueError:
            raise ValueError(Message("type.wrong_text", kind=kind, got=text)) from None
        return coerce(kind, number)
    if kind.startswith("list["):
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                return coerce(kind, json.loads(stripped))
            except json.JSONDecodeError:
                raise ValueError(Message("type.list_text", kind=kind, got=text)) from None
        items = [part.strip() for part in stripped.split(",") if part.strip()]
        return [from_text(kind[5:-1], item) for item in items]
    return coerce(kind, text)


def to_cel(kind: str, stored: Any, timezone: str) -> Any:
    """The value CEL sees for a stored field value."""
    if stored is None:
        return None
    if kind == "date":
        day = date.fromisoformat(stored)
        return datetime.combine(day, time(0), ZoneInfo(timezone))
    if kind == "datetime":
        return datetime.fromisoformat(stored)
    if kind == "float":  # PostgreSQL's jsonb gives 1e16 back as 10000000000000000
        return float(stored)
    if kind == "list[float]":
        return [float(item) for item in stored]
    return stored
