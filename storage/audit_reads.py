"""What ``bompao audit`` reads: projects in batches, and their events, stage visits and
follow-ups, each batch from one consistent snapshot.

Read only. :mod:`bompao.engine.audit` replays and checks what these return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bompao.storage.database import Database
from bompao.storage.faults import DRIVER_ERRORS
from bompao.storage.tables import events, follow_ups, projects, stage_visits
from bompao.storage.urls import connect_failure

__all__ = ["Visit", "events_between", "follow_ups_between", "project_batch", "snapshot",
           "visits_between"]

Visit = tuple[int, str, datetime, datetime | None]
"""A stored stage visit: ``(seq, stage, entered_at, left_at)``."""


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """One read transaction whose statements all see the same committed state.

    Raises:
        DatabaseError: the database cannot be opened, or it failed during the reads.
    """
    if db.dialect != "postgresql":
        with db.begin(write=False) as conn:  # SQLite: one read transaction is a snapshot
            yield conn
        return
    try:
        conn = db.engine.connect()
    except sa.exc.DBAPIError as exc:
        raise connect_failure(db.engine.url, db.url_display, exc) from None
    try:
        with conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
            with conn.begin():
                yield conn
    except DRIVER_ERRORS as exc:
        raise db.fault(exc) from None


def project_batch(conn: Connection, after: int, batch: int) -> list[Any]:
    """Up to ``batch`` project rows with ids above ``after``, by id."""
    return list(conn.execute(sa.select(projects).where(projects.c.id > after)
                             .order_by(projects.c.id).limit(batch)))


def events_between(conn: Connection, first: int, last: int) -> Iterator[Any]:
    """The event rows of projects ``first..last``, by project and sequence."""
    yield from conn.execute(sa.select(events).where(events.c.project_id.between(first, last))
                            .order_by(events.c.project_id, events.c.seq))


def visits_between(conn: Connection, first: int, last: int) -> dict[int, list[Visit]]:
    """The stage visits of projects ``first..last``, per project in sequence order."""
    found: dict[int, list[Visit]] = defaultdict(list)
    query = (sa.select(stage_visits.c.project_id, stage_visits.c.seq, stage_visits.c.stage,
                       stage_visits.c.entered_at, stage_visits.c.left_at)
             .where(stage_visits.c.project_id.between(first, last))
             .order_by(stage_visits.c.project_id, stage_visits.c.seq))
    for row in conn.execute(query):
        found[row.project_id].append((row.seq, row.stage, row.entered_at, row.left_at))
    return found


def follow_ups_between(conn: Connection, first: int, last: int) -> dict[int, list[Any]]:
    """The follow-up rows of projects ``first..last``, per project by id."""
    found: dict[int, list[Any]] = defaultdict(list)
    query = (sa.select(follow_ups).where(follow_ups.c.project_id.between(first, last))
             .order_by(follow_ups.c.project_id, follow_ups.c.id))
    for row in conn.execute(query):
        found[row.project_id].append(row)
    return found
