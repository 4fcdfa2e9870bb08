"""UTCDateTime: aware datetimes in, aware UTC datetimes out, naive ones refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from bompao.errors import InvalidValue
from bompao.storage import Database, UTCDateTime
from bompao.storage.tables import daemons

NAIVE = datetime(2026, 1, 5, 9, 30)

aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30), timezones=st.timezones()
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(when=aware_datetimes)
def test_aware_datetimes_round_trip_as_utc(db: Database, when: datetime) -> None:
    with db.begin() as conn:
        conn.execute(sa.delete(daemons))
        conn.execute(sa.insert(daemons).values(
            name="d", pid=1, host="h", started_at=when, heartbeat_at=when))
        loaded = conn.execute(sa.select(daemons.c.started_at)).scalar_one()
    assert loaded.tzinfo is UTC
    assert loaded == when.astimezone(UTC)


def test_sqlite_stores_naive_utc(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'bompao.db'}")
    database.upgrade()
    when = datetime(2026, 1, 5, 16, 30, tzinfo=timezone(timedelta(hours=7)))
    with database.begin() as conn:
        conn.execute(sa.insert(daemons).values(
            name="d", pid=1, host="h", started_at=when, heartbeat_at=when))
        raw = conn.exec_driver_sql("SELECT started_at FROM daemons").scalar_one()
    database.dispose()
    assert raw == "2026-01-05 09:30:00.000000"


def test_time_columns_are_timestamptz_on_postgresql(db: Database) -> None:
    with db.begin(write=False) as conn:
        columns = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("daemons")}
    assert getattr(columns["started_at"], "timezone", False) is (db.dialect == "postgresql")


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()],
                         ids=["sqlite", "postgresql"])
def test_naive_datetimes_are_refused(dialect: sa.engine.Dialect) -> None:
    with pytest.raises(ValueError, match="naive") as info:
        UTCDateTime().process_bind_param(NAIVE, dialect)
    assert str(info.value) == (
        "refusing naive datetime 2026-01-05T09:30:00: store timezone-aware datetimes only"
    )


def test_a_statement_with_a_naive_datetime_fails_and_writes_nothing(db: Database) -> None:
    with pytest.raises(InvalidValue, match="refusing naive datetime"), db.begin() as conn:
        conn.execute(sa.insert(daemons).values(
            name="d", pid=1, host="h", started_at=NAIVE, heartbeat_at=NAIVE))
    with db.begin(write=False) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(daemons)).scalar() == 0


def test_other_values_are_a_type_error() -> None:
    with pytest.raises(TypeError) as info:
        UTCDateTime().process_bind_param("2026-01-05", sqlite.dialect())  # type: ignore[arg-type]
    assert str(info.value) == "expected a datetime, got str: '2026-01-05'"
