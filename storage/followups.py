"""Follow-up rows beyond the dispatcher's hot path: leases kept alive, retries, channels.

The claim / record cycle itself runs on :class:`~bompao.storage.hotpath.HotPath`;
these are the rarer statements around it, on SQLAlchemy Core with an open
``Connection`` (the caller owns the transaction), except :func:`renew`, which runs on
a hot-path cursor because the dispatcher calls it between deliveries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import codec
from .tables import follow_ups, projects

__all__ = ["backlog", "channel_outcomes", "expire_leases", "failed_ids", "finish_owned", "renew",
           "retry", "save_channels", "statuses"]


def finish_owned(hot: Any, cursor: Any, owner: str, finished_at: datetime,
                 groups: Mapping[tuple[str, str | None], Sequence[int]]) -> set[int]:
    """Finish the follow-ups ``owner`` still holds, saying which those were.

    Each group is (status, last_error) → ids; one statement per group sets the status,
    the finish time and the error and clears the lease of those of its ids that are
    still running under ``owner``, and returns them: the check that a claim is still
    ours and the recording of its end are one statement (locked on PostgreSQL until
    the caller's transaction ends). A claim another daemon took over after its lease
    ran out is left as it is, and missing from the answer.

    Returns:
        The ids that were finished.
    """
    m = hot.mark
    when = hot.encode("finished_at", finished_at)
    mine: set[int] = set()
    for (status, error), ids in groups.items():
        cursor.execute(f"UPDATE follow_ups SET status = {m}, finished_at = {m}, "  # noqa: S608 - marks
                       f"last_error = {m}, lease_owner = NULL, lease_until = NULL WHERE id IN "
                       f"({', '.join([m] * len(ids))}) AND status = 'running' "
                       f"AND lease_owner = {m} RETURNING id", (status, when, error, *ids, owner))
        mine.update(row[0] for row in cursor.fetchall())
    return mine


def renew(hot: Any, cursor: Any, owner: str, lease_until: datetime) -> int:
    """Extend the lease of every follow-up ``owner`` holds (status running) to ``lease_until``.

    Returns:
        How many leases were extended.
    """
    m = hot.mark
    cursor.execute(f"UPDATE follow_ups SET lease_until = {m} "  # noqa: S608 - marks only
                   f"WHERE status = 'running' AND lease_owner = {m}",
                   (hot.encode("lease_until", lease_until), owner))
    return int(cursor.rowcount)


def expire_leases(conn: Connection, owner: str, now: datetime) -> int:
    """End the leases ``owner`` holds now, so that any daemon may claim them at once.

    A daemon starting under a name a dead one used calls this: the dead one's claims
    are taken over straight away instead of when their lease would have ended. A round
    delivers in (due, id) order and records each effect as it happens, so of what the
    dead daemon still held only the oldest was in hand; the others were never reached
    and get their attempt back (a crash loop must not use up every claimed follow-up's
    attempts, only the one that was being delivered).

    Returns:
        How many claims were freed.
    """
    held = list(conn.execute(
        sa.select(follow_ups.c.id).where(follow_ups.c.status == "running",
                                         follow_ups.c.lease_owner == owner)
        .order_by(follow_ups.c.due_at, follow_ups.c.id)).scalars())
    if not held:
        return 0
    conn.execute(sa.update(follow_ups).where(follow_ups.c.id == held[0]).values(
        lease_until=now))
    for start in range(1, len(held), 500):
        conn.execute(sa.update(follow_ups).where(follow_ups.c.id.in_(held[start:start + 500]))
                     .values(lease_until=now, attempts=sa.func.max(follow_ups.c.attempts - 1, 0)
                             if conn.dialect.name == "sqlite" else
                             sa.func.greatest(follow_ups.c.attempts - 1, 0)))
    return len(held)


def statuses(conn: Connection, ids: Sequence[int], partner: str | None = None
             ) -> dict[int, str]:
    """The status of each of ``ids`` that exists (within ``partner``'s projects if given)."""
    query = sa.select(follow_ups.c.id, follow_ups.c.status).where(follow_ups.c.id.in_(ids))
    if partner is not None:
        query = query.join(projects, projects.c.id == follow_ups.c.project_id).where(
            projects.c.partner == partner)
    return {row.id: row.status for row in conn.execute(query)}


def failed_ids(conn: Connection, *, project: int | None = None, since: datetime | None = None,
               partner: str | None = None) -> list[int]:
    """The ids of failed follow-ups: of ``project`` only, failed at or after ``since``."""
    query = sa.select(follow_ups.c.id).where(follow_ups.c.status == "failed").order_by(
        follow_ups.c.id)
    if project is not None:
        query = query.where(follow_ups.c.project_id == project)
    if since is not None:
        query = query.where(follow_ups.c.finished_at >= since)
    if partner is not None:
        query = query.join(projects, projects.c.id == follow_ups.c.project_id).where(
            projects.c.partner == partner)
    return list(conn.execute(query).scalars())


def retry(conn: Connection, ids: Sequence[int], now: datetime) -> list[int]:
    """Put failed follow-ups back to pending, due at ``now``, their attempts counted anew.

    The idempotency key stays: a receiver that did get an earlier attempt can drop the
    repeat. The per-channel outcomes stay too, so a retry resends only what failed.

    Returns:
        The ids that were failed and are pending now.
    """
    if not ids:
        return []
    done = conn.execute(
        sa.update(follow_ups)
        .where(follow_ups.c.id.in_(ids), follow_ups.c.status == "failed")
        .values(status="pending", due_at=now, attempts=0, lease_owner=None, lease_until=None,
                finished_at=None, last_error=None)
        .returning(follow_ups.c.id)).scalars()
    return sorted(done)


def channel_outcomes(hot: Any, cursor: Any, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The recorded per-channel outcomes of the follow-ups ``ids`` that have any."""
    if not ids:
        return {}
    m = hot.mark
    cursor.execute(f"SELECT id, channels FROM follow_ups WHERE id IN "  # noqa: S608 - marks
                   f"({', '.join([m] * len(ids))}) AND channels IS NOT NULL", tuple(ids))
    found = {}
    for fid, value in cursor.fetchall():
        decoded = codec.loads(value) if isinstance(value, str | bytes) else value
        if isinstance(decoded, dict):
            found[fid] = {str(k): str(v) for k, v in decoded.items()}
    return found


def save_channels(hot: Any, cursor: Any, rows: Sequence[tuple[dict[str, str], int]]) -> None:
    """Record (per-channel outcomes, id) of follow-ups, in the caller's transaction."""
    if rows:
        m = hot.mark
        cursor.executemany(
            f"UPDATE follow_ups SET channels = {m} WHERE id = {m}",  # noqa: S608 - marks only
            [(hot.encode("payload", outcomes), fid) for outcomes, fid in rows])


def backlog(conn: Connection, now: datetime, failed_limit: int) -> dict[str, Any]:
    """What ``scheduler status`` shows of the follow-ups: how many are due by ``now``
    and the oldest due time, how many failed, and the ``failed_limit`` latest failures
    (rows of ``id, project_id, spec, action, last_error, finished_at``)."""
    due_now = sa.and_(follow_ups.c.status == "pending", follow_ups.c.due_at <= now)
    oldest = conn.execute(sa.select(sa.func.min(follow_ups.c.due_at)).where(due_now)).scalar()
    due = conn.execute(sa.select(sa.func.count()).where(due_now)).scalar_one()
    failed_count = conn.execute(sa.select(sa.func.count()).where(
        follow_ups.c.status == "failed")).scalar_one()
    failed = list(conn.execute(
        sa.select(follow_ups.c.id, follow_ups.c.project_id, follow_ups.c.spec,
                  follow_ups.c.action, follow_ups.c.last_error, follow_ups.c.finished_at)
        .where(follow_ups.c.status == "failed")
        .order_by(follow_ups.c.finished_at.desc()).limit(failed_limit)))
    return {"oldest": oldest, "due": int(due), "failed_count": int(failed_count),
            "failed": failed}
