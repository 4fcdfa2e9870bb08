"""Daemon heartbeats: one row per daemon name, held by one live process at a time.

A row is owned by the process that wrote it: its ``(host, pid, started_at)``. A
daemon only ever updates or deletes its own row, so a second process under the same
name can neither refresh nor remove a live daemon's heartbeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import daemons

__all__ = ["beat", "claim_name", "drop", "forget", "listing"]


def claim_name(conn: Connection, name: str, *, pid: int, host: str, started: datetime,
               now: datetime, holder_alive: Any) -> Any:
    """Write daemon ``name``'s heartbeat unless a live daemon holds the name.

    Args:
        holder_alive: ``holder_alive(row) -> bool`` says whether the row's daemon lives.

    Returns:
        None when the name is ours now, else the live holder's row.
    """
    row = conn.execute(sa.select(daemons).where(daemons.c.name == name)
                       .with_for_update()).first()
    if row is not None and holder_alive(row):
        return row
    if row is not None:
        conn.execute(sa.delete(daemons).where(daemons.c.name == name))
    conn.execute(sa.insert(daemons).values(name=name, pid=pid, host=host, started_at=started,
                                           heartbeat_at=now))
    return None


def _mine(name: str, pid: int, host: str, started: datetime) -> Any:
    return sa.and_(daemons.c.name == name, daemons.c.pid == pid, daemons.c.host == host,
                   daemons.c.started_at == started)


def beat(conn: Connection, name: str, *, pid: int, host: str, started: datetime,
         now: datetime) -> bool:
    """Refresh our heartbeat; False when the row is no longer ours (forgotten, taken)."""
    return bool(conn.execute(sa.update(daemons).where(_mine(name, pid, host, started))
                             .values(heartbeat_at=now)).rowcount)


def drop(conn: Connection, name: str, *, pid: int, host: str, started: datetime) -> None:
    """Remove our own heartbeat (we stop cleanly); another process's row stays."""
    conn.execute(sa.delete(daemons).where(_mine(name, pid, host, started)))


def forget(conn: Connection, name: str) -> bool:
    """Remove daemon ``name``'s heartbeat whoever wrote it; False when there was none."""
    return bool(conn.execute(sa.delete(daemons).where(daemons.c.name == name)).rowcount)


def listing(conn: Connection) -> list[Any]:
    """Every heartbeat row, by name."""
    return list(conn.execute(sa.select(daemons).order_by(daemons.c.name)))
