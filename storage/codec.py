"""The one encoding of stored values: JSON (orjson) and UTC times, for both backends.

Everything bompao writes into a JSON column goes through :func:`dumps` and everything
it reads back through :func:`loads`: the DBAPI write path, SQLAlchemy Core (the
engine is built with them as its ``json_serializer``/``json_deserializer``) and, on
PostgreSQL, psycopg's own JSON loading (SQLAlchemy installs them on the driver's
adapters). So a value written by one path reads back identically through any other.

JSON has no NaN or infinity: orjson would silently write ``null`` for them, the
standard library ``NaN`` (which no strict reader parses). :func:`dumps` refuses them,
naming where in the value they are.

Times are stored in UTC: as naive ISO text (``YYYY-MM-DD HH:MM:SS.ffffff``, the form
SQLAlchemy's ``DateTime`` uses) on SQLite, as ``timestamptz`` on PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from ..errors import InvalidValue

__all__ = ["SQLITE_TIME_LENGTH", "decode", "dumps", "dumps_bytes", "from_sqlite_time", "loads",
           "to_sqlite_time", "utc"]

_NULL = b"null"
SQLITE_TIME_LENGTH = len("2026-01-01 00:00:00.000000")
"""The length of a time as bompao stores it on SQLite (naive UTC with microseconds)."""
decode = orjson.loads
"""What :func:`loads` calls, without the call around it: for the write path, which
decodes five JSON columns of every row it reads.

Raises:
    orjson.JSONDecodeError: the text is not JSON (a ``ValueError``).
"""


def dumps_bytes(value: Any, what: str = "the value") -> bytes:
    """Encode ``value`` as JSON bytes.

    Args:
        value: JSON-like data (dicts with string keys, lists, str, int, float, bool,
            None; datetimes become ISO 8601 text).
        what: how an error names the value, e.g. ``"the event payload"``.

    Raises:
        InvalidValue: a NaN or infinite float (the message gives its place), an integer
            beyond 64 bits, a key that is not a string or a value JSON cannot hold.
    """
    try:
        encoded = orjson.dumps(value)
    except TypeError as exc:  # orjson.JSONEncodeError derives from TypeError
        raise InvalidValue(f"{what} cannot be stored: {exc}") from None
    if _NULL in encoded:  # orjson writes NaN and infinity as null: look for them
        _check_finite(value, what)
    return encoded


def dumps(value: Any, what: str = "the value") -> str:
    """Encode ``value`` as JSON text (see :func:`dumps_bytes`).

    Raises:
        InvalidValue: as :func:`dumps_bytes`.
    """
    return dumps_bytes(value, what).decode()


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """Decode JSON text or bytes as stored.

    Raises:
        orjson.JSONDecodeError: the text is not JSON (a ``ValueError``).
    """
    return orjson.loads(data)


def _check_finite(value: Any, where: str) -> None:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"{where} holds {value!r}, which a database cannot store; "
                               "give a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_finite(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{where}[{index}]")


def utc(value: datetime, what: str = "time") -> datetime:
    """``value`` in UTC.

    Raises:
        ValueError: ``value`` is naive (bompao never guesses a time zone).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing naive datetime {value.isoformat()} as {what}: "
                         "store timezone-aware datetimes only")
    return value.astimezone(UTC)


def to_sqlite_time(value: datetime) -> str:
    """An aware datetime as SQLite holds it: naive UTC text with microseconds.

    Raises:
        ValueError: ``value`` is naive.
    """
    if value.tzinfo is UTC:  # the engine's clock, already in UTC: "...ffffff+00:00"
        return value.isoformat(" ", "microseconds")[:SQLITE_TIME_LENGTH]
    return utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_sqlite_time(value: str | datetime) -> datetime:
    """A time as SQLite holds it (naive UTC text) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if len(value) <= SQLITE_TIME_LENGTH:  # no offset: parsing one in beats replace() 3x
        return datetime.fromisoformat(value + "+00:00")
    return from_sqlite_time(datetime.fromisoformat(value))
