"""Column types shared by the tables and the migrations.

Times are stored in UTC: naive UTC on SQLite (which has no time zone type) and
``timestamptz`` on PostgreSQL. Both come back as timezone-aware UTC datetimes, and a
naive datetime is refused rather than guessed at. JSON is ``JSONB`` on PostgreSQL, but
where it holds field values, which must read back exactly as written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactJSON", "JSONType", "UTCDateTime"]

JSONType: TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, ``JSONB`` on PostgreSQL (for values SQL looks into)."""

ExactJSON: TypeEngine[Any] = sa.JSON()
"""JSON kept as written (``json``, not ``jsonb``, on PostgreSQL), for field values:
``jsonb`` rewrites the float ``3.389648377877039e+16`` as the integer
``33896483778770390``, which reads back as another number of another type."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC.

    Binding converts any aware datetime to UTC (and drops the offset on SQLite);
    loading returns an aware datetime in UTC.

    Raises (when a statement binds a value; SQLAlchemy wraps them in ``StatementError``):
        ValueError: the datetime is naive.
        TypeError: the value is not a datetime.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC for the database.

        Raises:
            ValueError: ``value`` is naive.
            TypeError: ``value`` is not a datetime.
        """
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"refusing naive datetime {value.isoformat()}: "
                "store timezone-aware datetimes only"
            )
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
