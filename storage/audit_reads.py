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
from bompao.storage.tables import events, follow_ups, projects
from bompao.storage.urls import connect_failure
from bompao.storage.visits import entry_condition

__all__ = ["Visit", "events_between", "follow_ups_between", "project_batch", "snapshot",
           "visits_between"]

Visit = tuple[int, str | None, datetime | None, datetime | None]
"""A stored stage visit: ``(seq, stage, entered_at, left_at)``, keyed by its entry seq."""


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
    """The stage visits of projects ``first..last`` as stored, per project by entry seq.

    A completed visit is what the event ending it holds (``from_stage``,
    ``from_entered_at``, its ``at``), keyed by the seq of the entry before; the open
    one is the last entry's. An event holding a visit it does not end (not an entry,
    or a project's first) is a visit of its own, keyed by its seq, so that it shows.
    """
    entry = entry_condition().label("entry")
    query = (sa.select(events.c.project_id, events.c.seq, events.c.from_stage,
                       events.c.to_stage, events.c.at, events.c.from_entered_at, entry)
             .where(events.c.project_id.between(first, last),
                    sa.or_(entry_condition(), events.c.from_entered_at.is_not(None)))
             .order_by(events.c.project_id, events.c.seq))
    found: dict[int, list[Visit]] = defaultdict(list)
    opened: dict[int, Any] = {}
    for row in conn.execute(query):
        visits, before = found[row.project_id], opened.get(row.project_id)
        if not row.entry or before is None:
            if row.from_entered_at is not None:  # holds a visit that nothing began
                visits.append((row.seq, row.from_stage, row.from_entered_at, row.at))
        else:
            visits.append((before.seq, row.from_stage, row.from_entered_at, row.at))
        if row.entry:
            opened[row.project_id] = row
    for pid, row in opened.items():
        found[pid].append((row.seq, row.to_stage, row.at, None))
    for visits in found.values():
        visits.sort(key=lambda visit: visit[0])
    return found


def follow_ups_between(conn: Connection, first: int, last: int) -> dict[int, list[Any]]:
    """The follow-up rows of projects ``first..last``, per project by id."""
    found: dict[int, list[Any]] = defaultdict(list)
    query = (sa.select(follow_ups).where(follow_ups.c.project_id.between(first, last))
             .order_by(follow_ups.c.project_id, follow_ups.c.id))
    for row in conn.execute(query):
        found[row.project_id].append(row)
    return found
