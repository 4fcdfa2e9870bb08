"""Migration 0007 (calendar feed tokens) both ways on SQLite and PostgreSQL: the table
comes and goes, users and API tokens stay, the schema state follows."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from bompao.storage import Database
from bompao.storage import accounts as rows
from bompao.storage.schema import alembic_config


def _tables(db: Database) -> set[str]:
    with db.begin(write=False) as conn:
        return set(sa.inspect(conn).get_table_names())


def test_migration_0007_adds_feed_tokens_and_gives_them_back(store_url: str) -> None:
    db = Database.from_url(store_url)
    db.upgrade()
    now = datetime(2026, 12, 2, tzinfo=UTC)
    with db.begin() as conn:
        user_id = rows.insert_user(conn, {"username": "malee", "display_name": "Malee",
                                          "email": None, "password_hash": "x",
                                          "roles": ["coach@cmu"], "created_at": now})
        rows.insert_token(conn, {"user_id": user_id, "name": "api", "token_hash": "a" * 64,
                                 "created_at": now})
        rows.insert_feed_token(conn, user_id, "f" * 64, now)
        assert rows.feed_owner(conn, "f" * 64).username == "malee"
        assert rows.revoke_feed_tokens(conn, user_id, now) == 1
        assert rows.feed_owner(conn, "f" * 64) is None
        rows.insert_feed_token(conn, user_id, "e" * 64, now)
    with db.begin(write=False) as conn:
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("feed_tokens")}
    assert "ix_feed_tokens_user_id" in indexes
    with db.begin() as conn:
        command.downgrade(alembic_config(conn), "0006")
    assert "feed_tokens" not in _tables(db)
    assert {"users", "api_tokens"} <= _tables(db)
    with db.begin(write=False) as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            ("0006",)]
        assert conn.exec_driver_sql("SELECT username FROM users").all() == [("malee",)]
        assert rows.token_owner(conn, "a" * 64).username == "malee"
    assert db.schema_status() == "outdated"
    db.upgrade()
    assert db.schema_status() == "current"
    with db.begin(write=False) as conn:
        assert rows.feed_owner(conn, "e" * 64) is None  # dropped with the table
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM feed_tokens").scalar() == 0
    db.dispose()
