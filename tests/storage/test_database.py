"""Opening databases: URLs, connection failures, SQLite pragmas and transactions."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bompao.errors import DatabaseError, SchemaVersionError
from bompao.storage import Database
from bompao.storage.hotpath import HotPath

POSTGRES_ENV = "BOMPAO_TEST_POSTGRES_URL"

EXPECTED_URLS = (
    "expected sqlite:///PATH, postgresql://USER@HOST/DB or postgresql+psycopg://USER@HOST/DB"
)


def test_dialect_names_the_backend(db: Database, store_url: str) -> None:
    assert db.dialect == ("sqlite" if store_url.startswith("sqlite") else "postgresql")
    assert db.url_display == store_url  # no password here, so nothing to mask


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg3_and_mask_the_password(scheme: str) -> None:
    database = Database.from_url(f"{scheme}://bob:s3cret@db.example:5432/bompao")
    assert database.engine.dialect.driver == "psycopg"
    assert database.url_display == f"{scheme}://bob:***@db.example:5432/bompao"
    assert "s3cret" not in repr(database)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://bob:s3cret@host/db", "mysql://bob:***@host/db"),
        ("postgresql+psycopg2://bob:s3cret@host/db", "postgresql+psycopg2://bob:***@host/db"),
        ("not a url", "not a url"),
    ],
)
def test_other_schemes_are_refused(url: str, shown: str) -> None:
    with pytest.raises(DatabaseError) as info:
        Database.from_url(url)
    assert str(info.value) == f"unsupported database URL {shown}: {EXPECTED_URLS}"


def test_unreachable_postgresql_is_one_masked_line() -> None:
    database = Database.from_url("postgresql+psycopg://bob:s3cret@127.0.0.1:1/bompao")
    for attempt in (database.schema_status, database.upgrade, database.require_current):
        with pytest.raises(DatabaseError) as info:
            attempt()
        message = str(info.value)
        assert message.startswith(
            "cannot open the database at postgresql+psycopg://bob:***@127.0.0.1:1/bompao: "
        )
        assert "s3cret" not in message
        assert "\n" not in message
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__


def test_unknown_postgresql_database_is_a_database_error() -> None:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = sa.make_url(base).set(database="bompao_no_such_db", password="s3cret")
    database = Database.from_url(url.render_as_string(hide_password=False))
    with pytest.raises(DatabaseError) as info:
        database.schema_status()
    shown = url.render_as_string(hide_password=True)
    assert str(info.value).startswith(f"cannot open the database at {shown}: ")
    assert 'database "bompao_no_such_db" does not exist' in str(info.value)
    assert "s3cret" not in str(info.value)


def test_sqlite_in_a_missing_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/bompao.db"
    with pytest.raises(DatabaseError) as info:
        Database.from_url(url).upgrade()
    assert str(info.value) == (
        f"cannot open the database at {url}: directory '{tmp_path}/missing' does not exist"
    )


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages you are looking for" * 100)
    with pytest.raises(DatabaseError) as info:
        Database.from_url(f"sqlite:///{path}").schema_status()
    assert str(info.value) == (
        f"cannot open the database at sqlite:///{path}: file is not a database"
    )


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'bompao.db'}")
    database.upgrade()  # WAL is set on the file when it is created, not on every open
    with database.begin(write=False) as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    database.dispose()
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                      "busy_timeout": 30_000}


def test_opening_a_missing_sqlite_file_neither_creates_nor_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    database = Database.from_url(f"sqlite:///{path}")
    assert database.schema_status() == "empty"
    with pytest.raises(SchemaVersionError):
        database.require_current()
    assert not path.exists()
    path.write_bytes(b"")
    assert database.schema_status() == "empty"
    assert path.read_bytes() == b""  # reading an empty file did not switch it to WAL


def _try_write_lock(path: Path) -> None:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_sqlite_write_transactions_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "bompao.db"
    database = Database.from_url(f"sqlite:///{path}")
    database.upgrade()
    with (
        database.begin(write=True),
        pytest.raises(sqlite3.OperationalError, match="database is locked"),
    ):
        _try_write_lock(path)
    with database.begin(write=False) as conn:
        conn.exec_driver_sql("SELECT count(*) FROM projects").scalar()
        _try_write_lock(path)  # a reader does not hold the write lock
    database.dispose()


def test_begin_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    table = sa.table("bompao_meta", sa.column("key"), sa.column("value"))

    def insert_then_fail() -> None:
        with db.begin() as conn:
            conn.execute(sa.insert(table).values(key="dropped", value="1"))
            raise RuntimeError("boom")

    with db.begin() as conn:
        conn.execute(sa.insert(table).values(key="kept", value="1"))
    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail()
    with db.begin(write=False) as conn:
        keys = set(conn.execute(sa.select(table.c.key)).scalars())
    assert "kept" in keys
    assert "dropped" not in keys


# the write path's SQLite connections ------------------------------------------------------

def _connections(tmp_path: Path, *, limit: int, keep: int, timeout: float) -> Any:
    from bompao.storage.database import Connections  # noqa: PLC0415

    database = Database.from_url(f"sqlite:///{tmp_path / 'pool.db'}")
    return database, Connections(database.engine, limit=limit, keep=keep, timeout=timeout)


def test_sqlite_write_path_connections_are_set_up_by_the_engine_and_not_the_pools(
        tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'set_up.db'}")
    hot = HotPath(database)
    with hot.transaction() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1  # the engine's connect hook ran on it
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 30_000
        assert database.connections.checked_out() == 1
        assert database.engine.pool.checkedout() == 0  # detached from SQLAlchemy's pool
    assert database.connections.checked_out() == 0
    database.dispose()


def test_sqlite_connections_wait_for_one_given_back_then_time_out(tmp_path: Path) -> None:
    database, connections = _connections(tmp_path, limit=2, keep=1, timeout=0.3)
    first, second = connections.get(), connections.get()
    began = time.monotonic()
    with pytest.raises(sa.exc.TimeoutError):
        connections.get()
    assert time.monotonic() - began >= 0.3
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(connections.get()))
    waiter.start()
    time.sleep(0.05)
    connections.put(first)
    waiter.join(timeout=5)
    assert len(got) == 1
    assert got[0][0] is first[0]  # the one given back, not a third
    assert connections.checked_out() == 2
    connections.put(second)  # kept idle
    connections.put(got[0])  # one more than keep=1: closed
    assert second[0].execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(sqlite3.ProgrammingError):
        got[0][0].execute("SELECT 1")
    assert connections.checked_out() == 0
    database.dispose()


def test_sqlite_connections_close_a_discarded_one_and_the_idle_ones_on_dispose(
        tmp_path: Path) -> None:
    database, connections = _connections(tmp_path, limit=3, keep=3, timeout=1)
    kept, failed = connections.get(), connections.get()
    connections.put(failed, discard=True)
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        failed[0].execute("SELECT 1")
    out = connections.get()
    assert out[0] is not failed[0]
    connections.put(kept)
    connections.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        kept[0].execute("SELECT 1")
    connections.put(out)  # out during the dispose: closed when given back
    with pytest.raises(sqlite3.ProgrammingError):
        out[0].execute("SELECT 1")
    assert connections.checked_out() == 0
    database.dispose()


def test_a_failed_sqlite_transaction_discards_its_connection(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'failed.db'}")
    hot = HotPath(database)
    with hot.transaction() as cursor:
        cursor.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    with hot.transaction() as cursor:
        used = cursor.connection
    taken: list[Any] = []

    def fail() -> None:
        with hot.transaction() as cursor:
            taken.append(cursor.connection)
            cursor.execute("INSERT INTO nowhere VALUES (1)")

    with pytest.raises(DatabaseError):
        fail()
    assert taken == [used]  # the idle one, taken again
    with hot.transaction() as cursor:
        assert cursor.connection is not used
    assert database.connections.checked_out() == 0
    database.dispose()
