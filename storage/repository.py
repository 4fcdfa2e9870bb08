"""Thin, typed reads and writes on the bompao tables, each taking an open ``Connection``.

The caller owns the transaction (see :meth:`bompao.storage.Database.begin`). Values
are plain mappings keyed by column name; rows come back as SQLAlchemy ``Row``
objects. Fixed statements are built once at import; SQLAlchemy caches their
compiled form per dialect.

Every function may raise ``sqlalchemy.exc.SQLAlchemyError`` when the database
refuses a statement, notably ``IntegrityError`` on a duplicate ``(key, version)``
journey, a duplicate ``(project_id, seq)`` event or an unknown ``project_id``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from .tables import events, journeys, projects

__all__ = [
    "append_event",
    "get_journey",
    "get_project",
    "insert_journey",
    "insert_project",
    "list_events",
    "list_journeys",
    "list_projects",
    "update_project",
]

_GET_PROJECT = sa.select(projects).where(projects.c.id == sa.bindparam("project_id"))
_LATEST_JOURNEY = (
    sa.select(journeys)
    .where(journeys.c.key == sa.bindparam("key"))
    .order_by(journeys.c.version.desc())
    .limit(1)
)
_JOURNEY_VERSION = sa.select(journeys).where(
    journeys.c.key == sa.bindparam("key"), journeys.c.version == sa.bindparam("version")
)
_PROTECTED = frozenset({"id", "lock_version"})


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


def insert_project(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert a project and return its new ``id``.

    Args:
        conn: an open connection inside a transaction.
        values: at least ``journey_key``, ``journey_version``, ``name``, ``stage``,
            ``stage_entered_at``, ``created_at``, ``updated_at``; JSON columns default
            to empty, ``visit`` to 1 and ``lock_version`` to 0.
    """
    statement = sa.insert(projects).values(dict(values)).returning(projects.c.id)
    return int(conn.execute(statement).scalar_one())


def get_project(conn: Connection, project_id: int) -> Row[Any] | None:
    """Return project ``project_id``, or ``None`` when there is none."""
    return conn.execute(_GET_PROJECT, {"project_id": project_id}).first()


def update_project(
    conn: Connection, project_id: int, expected_lock: int, values: Mapping[str, Any]
) -> bool:
    """Update a project only if nobody changed it since it was read (optimistic lock).

    Sets ``lock_version`` to ``expected_lock + 1`` along with ``values``.

    Args:
        conn: an open connection inside a transaction.
        project_id: the project.
        expected_lock: the ``lock_version`` the caller read.
        values: the columns to change (neither ``id`` nor ``lock_version``).

    Returns:
        ``True`` when the row changed; ``False`` when the project is gone or its
        ``lock_version`` moved on, in which case nothing was written.

    Raises:
        ValueError: ``values`` names ``id`` or ``lock_version``.
    """
    protected = _PROTECTED.intersection(values)
    if protected:
        raise ValueError(f"update_project cannot set {sorted(protected)!r}")
    statement = (
        sa.update(projects)
        .where(projects.c.id == project_id, projects.c.lock_version == expected_lock)
        .values({**values, "lock_version": expected_lock + 1})
    )
    return conn.execute(statement).rowcount == 1


def append_event(conn: Connection, values: Mapping[str, Any]) -> int:
    """Append an event to a project's history and return its per-project ``seq``.

    Without a ``seq`` in ``values`` the next one is taken (1 for the first event)
    inside the same statement. Two transactions racing on one project make the
    later one fail on the unique ``(project_id, seq)`` index rather than leave a
    duplicate; the engine's optimistic lock on the project normally prevents the race.

    Args:
        conn: an open connection inside a transaction.
        values: ``project_id``, ``kind``, ``at`` and optionally ``seq``, ``actor``,
            ``role``, ``from_stage``, ``to_stage``, ``trigger``, ``payload``.

    Raises:
        sqlalchemy.exc.IntegrityError: ``(project_id, seq)`` exists already or the
            project does not.
    """
    row = dict(values)
    if "seq" not in row:
        row["seq"] = (
            sa.select(sa.func.coalesce(sa.func.max(events.c.seq), 0) + 1)
            .where(events.c.project_id == row.get("project_id"))
            .correlate(None)
            .scalar_subquery()
        )
    statement = sa.insert(events).values(row).returning(events.c.seq)
    return int(conn.execute(statement).scalar_one())


def list_events(
    conn: Connection, project_id: int, until: datetime | None = None
) -> list[Row[Any]]:
    """Return a project's events in ``seq`` order, only those at or before ``until`` if given."""
    query = sa.select(events).where(events.c.project_id == project_id).order_by(events.c.seq)
    if until is not None:
        query = query.where(events.c.at <= until)
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
