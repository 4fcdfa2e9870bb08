"""Creating, upgrading and recognising the bompao schema on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bompao.errors import DatabaseError, SchemaVersionError
from bompao.storage import SCHEMA_VERSION, Database, metadata

HEAD = "0011"
"""The newest migration shipped (an oracle: written here, not read from the code)."""
V = SCHEMA_VERSION

BOMPAO_TABLES = {"api_tokens", "application_receipts", "bompao_meta", "coaches", "daemons",
                 "events", "feed_tokens", "follow_ups", "journeys", "projects",
                 "throttle_hits", "users"}


def _tables(database: Database) -> set[str]:
    with database.begin(write=False) as conn:
        return set(sa.inspect(conn).get_table_names())


def _execute(database: Database, sql: str) -> None:
    with database.begin() as conn:
        conn.exec_driver_sql(sql)


def test_upgrade_creates_the_tables_and_is_idempotent(store_url: str) -> None:
    database = Database.from_url(store_url)
    assert database.schema_status() == "empty"
    database.upgrade()
    assert _tables(database) == BOMPAO_TABLES | {"alembic_version"}
    assert database.schema_status() == "current"
    database.upgrade()
    database.require_current()
    with database.begin(write=False) as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            (HEAD,)
        ]
        assert conn.exec_driver_sql("SELECT key, value FROM bompao_meta").all() == [
            ("schema_version", str(SCHEMA_VERSION))
        ]
    database.dispose()


def test_migrations_create_exactly_the_tables_module(db: Database) -> None:
    with db.begin(write=False) as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_pending_follow_ups_have_a_partial_due_index(db: Database) -> None:
    with db.begin(write=False) as conn:
        indexes = {ix["name"]: ix for ix in sa.inspect(conn).get_indexes("follow_ups")}
    assert indexes["ix_follow_ups_due_pending"]["column_names"] == ["due_at"]
    assert indexes["ix_follow_ups_project_id_status"]["column_names"] == ["project_id", "status"]


def test_an_empty_database_needs_init(store_url: str) -> None:
    database = Database.from_url(store_url)
    with pytest.raises(SchemaVersionError) as info:
        database.require_current()
    assert str(info.value) == (
        f"the database at {database.url_display} has no bompao tables; "
        "run 'bompao init' to create them"
    )


def test_an_older_schema_version_is_outdated_and_upgradable(db: Database) -> None:
    _execute(db, "UPDATE bompao_meta SET value = '0' WHERE key = 'schema_version'")
    assert db.schema_status() == "outdated"
    with pytest.raises(SchemaVersionError) as info:
        db.require_current()
    assert str(info.value) == (
        f"the database at {db.url_display} has schema version 0 (revision {HEAD}); "
        f"this bompao needs version {V} (revision {HEAD}); run 'bompao init' to upgrade it"
    )
    db.upgrade()
    assert db.schema_status() == "current"


def test_a_missing_schema_version_is_outdated(db: Database) -> None:
    _execute(db, "DELETE FROM bompao_meta")
    assert db.schema_status() == "outdated"
    with pytest.raises(SchemaVersionError,
                       match=rf"has schema version unknown \(revision {HEAD}\)"):
        db.require_current()
    db.upgrade()
    db.require_current()


def test_a_bigger_schema_version_is_newer(db: Database) -> None:
    _execute(db, "UPDATE bompao_meta SET value = '99' WHERE key = 'schema_version'")
    assert db.schema_status() == "newer"
    message = (
        f"the database at {db.url_display} has schema version 99 (revision {HEAD}), newer "
        f"than this bompao knows (version {V}, revision {HEAD}); upgrade bompao"
    )
    for attempt in (db.require_current, db.upgrade):
        with pytest.raises(SchemaVersionError) as info:
            attempt()
        assert str(info.value) == message


def test_an_unknown_alembic_revision_is_newer(db: Database) -> None:
    _execute(db, "UPDATE alembic_version SET version_num = 'f00d'")
    assert db.schema_status() == "newer"
    with pytest.raises(SchemaVersionError) as info:
        db.upgrade()
    assert str(info.value) == (
        f"the database at {db.url_display} has schema version {V} (revision f00d), newer "
        f"than this bompao knows (version {V}, revision {HEAD}); upgrade bompao"
    )


@pytest.mark.parametrize(
    "statements",
    [
        ["CREATE TABLE customers (id INTEGER PRIMARY KEY)"],
        [
            "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('abc123')",
            "CREATE TABLE customers (id INTEGER PRIMARY KEY)",
        ],
    ],
    ids=["unrelated-table", "another-apps-alembic"],
)
def test_someone_elses_database_is_foreign(store_url: str, statements: list[str]) -> None:
    database = Database.from_url(store_url)
    for statement in statements:
        _execute(database, statement)
    before = _tables(database)
    assert database.schema_status() == "foreign"
    for attempt in (database.require_current, database.upgrade):
        with pytest.raises(DatabaseError) as info:
            attempt()
        assert str(info.value) == (
            f"the database at {database.url_display} is not a bompao database: it has tables "
            f"({', '.join(sorted(before))}) but no bompao schema version; use an empty database"
        )
    assert _tables(database) == before
    database.dispose()
