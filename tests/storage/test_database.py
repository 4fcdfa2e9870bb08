"""Opening databases: URLs, connection failures, SQLite pragmas and transactions."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from bompao.errors import DatabaseError, SchemaVersionError
from bompao.storage import Database

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
