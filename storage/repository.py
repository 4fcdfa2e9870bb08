"""Journeys (publish, read) and SQLAlchemy Core reads of projects, on an open ``Connection``.

Projects, events and follow-ups are written only through the write path,
:mod:`bompao.storage.hotpath`.

The caller owns the transaction (see :meth:`bompao.storage.Database.begin`). Values
are plain mappings keyed by column name; rows come back as SQLAlchemy ``Row``
objects. Fixed statements are built once at import; SQLAlchemy caches their
compiled form per dialect.

Every function may raise ``sqlalchemy.exc.SQLAlchemyError`` when the database
refuses a statement, notably ``IntegrityError`` on a duplicate ``(key, version)``
journey (:meth:`~bompao.storage.Database.begin` turns it into a ``ConflictError``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from .tables import journeys, projects

__all__ = [
    "busiest_journey",
    "get_journey",
    "insert_journey",
    "list_journeys",
    "list_projects",
]

_LATEST_JOURNEY = (
    sa.select(journeys)
    .where(journeys.c.key == sa.bindparam("key"))
    .order_by(journeys.c.version.desc())
    .limit(1)
)
_JOURNEY_VERSION = sa.select(journeys).where(
    journeys.c.key == sa.bindparam("key"), journeys.c.version == sa.bindparam("version")
)


def insert_journey(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert a published journey version and return its ``id``.

    Args:
        conn: an open connection inside a transaction.
        values: ``key``, ``version``, ``source``, ``sha256``, ``published_at`` and
            optionally ``partner``, ``title``, ``extends``.

    Raises:
        sqlalchemy.exc.IntegrityError: ``(key, version)`` is already published.
    """
    statement = sa.insert(journeys).values(dict(values)).returning(journeys.c.id)
    return int(conn.execute(statement).scalar_one())


def get_journey(conn: Connection, key: str, version: int | None = None) -> Row[Any] | None:
    """Return journey ``key`` at ``version`` (``None``: the latest), or ``None``."""
    if version is None:
        return conn.execute(_LATEST_JOURNEY, {"key": key}).first()
    return conn.execute(_JOURNEY_VERSION, {"key": key, "version": version}).first()


def list_journeys(conn: Connection, key: str | None = None) -> list[Row[Any]]:
    """Return every journey version (or only ``key``'s), ordered by key then version."""
    query = sa.select(journeys).order_by(journeys.c.key, journeys.c.version)
    if key is not None:
        query = query.where(journeys.c.key == key)
    return list(conn.execute(query))


def list_projects(
    conn: Connection,
    *,
    journey: str | None = None,
    stage: str | None = None,
    partner: str | None = None,
    cohort: str | None = None,
    ids: Collection[int] | None = None,
    limit: int | None = None,
) -> list[Row[Any]]:
    """Return projects matching every filter given, ordered by ``id``.

    Args:
        conn: an open connection.
        journey: the journey key.
        stage: the current stage.
        partner: the partner organisation.
        cohort: the cohort.
        ids: only these project ids (an empty collection matches nothing).
        limit: at most this many rows.
    """
    query = sa.select(projects).order_by(projects.c.id)
    for column, value in (
        (projects.c.journey_key, journey),
        (projects.c.stage, stage),
        (projects.c.partner, partner),
        (projects.c.cohort, cohort),
    ):
        if value is not None:
            query = query.where(column == value)
    if ids is not None:
        query = query.where(projects.c.id.in_(list(ids)))
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


def busiest_journey(conn: Connection, partner: str | None = None) -> str | None:
    """The key of the journey with the most projects (of ``partner`` when given), or
    ``None`` without projects."""
    query = sa.select(projects.c.journey_key)
    if partner is not None:
        query = query.where(projects.c.partner == partner)
    found = conn.execute(query.group_by(projects.c.journey_key).order_by(
        sa.func.count().desc()).limit(1)).scalar()
    return None if found is None else str(found)
