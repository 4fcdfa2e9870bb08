"""Database URLs as libpq accepts them: ``postgres://`` and ``postgresql://`` alike,
percent-encoded passwords, a Unix-socket host in the query; parsed by SQLAlchemy's
``make_url``, never by hand."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bompao.errors import DatabaseError
from bompao.storage import Database
from bompao.storage.urls import mask, parse_url


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_every_scheme_libpq_accepts_means_psycopg(scheme: str) -> None:
    parsed = parse_url(f"{scheme}://malee:p%40ss%3Aw0rd@db.example.org:6543/bompao"
                       "?sslmode=require")
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "malee", "p@ss:w0rd", "db.example.org", 6543, "bompao")
    assert parsed.query == {"sslmode": "require"}
    assert "p@ss" not in mask(f"{scheme}://malee:p%40ss%3Aw0rd@db.example.org/bompao")


def test_a_unix_socket_host_in_the_query() -> None:
    parsed = parse_url("postgres:///bompao?host=/run/postgresql")
    assert (parsed.host, parsed.database, parsed.query["host"]) == (
        None, "bompao", "/run/postgresql")


def test_other_schemes_are_refused() -> None:
    with pytest.raises(DatabaseError, match=r"^unsupported database URL mysql://"):
        parse_url("mysql://root@localhost/x")


def test_a_postgres_url_opens_the_real_server() -> None:
    base = os.environ.get("BOMPAO_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("BOMPAO_TEST_POSTGRES_URL is not set")
    url = make_url(base).set(drivername="postgres").render_as_string(hide_password=False)
    assert url.startswith("postgres://")
    db = Database.from_url(url)
    try:
        with db.begin(write=False) as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()
