"""Counting the connections a thread holds: SQLAlchemy's pool and the write path's own.

On SQLite the write path takes its connections from
:class:`bompao.storage.database.Connections` (opened through SQLAlchemy's pool, then
detached from it); on PostgreSQL from SQLAlchemy's pool itself. :func:`count_checkouts`
calls ``checkout()`` and ``checkin()`` for both, so a test sees every connection held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bompao.storage import Database
from bompao.storage.database import Connections

__all__ = ["count_checkouts"]


def count_checkouts(db: Database, checkout: Callable[..., None],
                    checkin: Callable[..., None]) -> None:
    """Call ``checkout()``/``checkin()`` whenever a connection of ``db`` is taken or given
    back (a connection detached for the write path counts as given back to the pool)."""
    pool = db.engine.pool
    sa.event.listen(pool, "checkout", checkout)
    sa.event.listen(pool, "checkin", checkin)
    sa.event.listen(pool, "detach", checkin)
    connections = db.connections
    if not isinstance(connections, Connections):  # PostgreSQL: the pool's own checkouts
        return
    get, put = connections.get, connections.put

    def counted_get() -> Any:
        item = get()
        checkout()
        return item

    def counted_put(item: Any, *, discard: bool = False) -> None:
        checkin()
        put(item, discard=discard)

    connections.get, connections.put = counted_get, counted_put  # type: ignore[method-assign]
