"""A fresh PostgreSQL schema per test (or per module), reached through ``search_path``
in the URL, so tests and the processes they start never see each other's rows."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

__all__ = ["postgres_schema"]


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A URL to a new, empty schema of the PostgreSQL database at ``base``; the schema is
    dropped afterwards."""
    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"t_{secrets.token_hex(8)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        admin.dispose()
