"""Database faults as bompao errors: what the driver raised, said as what failed.

No ``sqlite3``, psycopg or SQLAlchemy exception leaves :mod:`bompao.storage`: a
database still locked by another writer when the busy timeout ends, a deadlock or
serialization victim and a lost race on a unique key are a
:class:`~bompao.errors.ConflictError` (nothing was written; try again); a read-only
file, a full disk, an I/O error and a lost server connection are a
:class:`~bompao.errors.DatabaseError` whose message says what failed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa

from ..definitions.messages import Message
from ..errors import BompaoError, ConflictError, DatabaseError, InvalidValue

__all__ = ["DRIVER_ERRORS", "translate"]

DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, sa.exc.SQLAlchemyError)
"""What :func:`translate` knows; psycopg's ``Error`` joins when psycopg is installed."""
try:  # psycopg is only needed for PostgreSQL
    import psycopg

    DRIVER_ERRORS = (*DRIVER_ERRORS, psycopg.Error)
except ImportError:  # pragma: no cover - PostgreSQL support not installed
    psycopg = None  # type: ignore[assignment]

_CONFLICT_STATES = {"40P01": "db.deadlock", "40001": "db.serialize", "55P03": "db.lock_timeout",
                    "23505": "db.unique"}
_LOST_STATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
_SQLITE_FAULTS = (  # (text in the message, the catalogue key of what it means)
    ("readonly database", "db.readonly"),
    ("database or disk is full", "db.full"),
    ("disk i/o error", "db.io"),
    ("unable to open database file", "db.cannot_open"),
    ("file is not a database", "db.not_sqlite"),
    ("database disk image is malformed", "db.corrupt"),
)


def translate(exc: BaseException, display: str, busy_timeout: float | None = None
              ) -> BompaoError:
    """The bompao error for a database fault.

    Args:
        exc: what SQLAlchemy or the driver raised.
        display: the database URL with its password masked.
        busy_timeout: the seconds a SQLite writer waited for the lock, for the message.

    Returns:
        A :class:`ConflictError` for a lock, deadlock or concurrent unique write; an
        :class:`InvalidValue` for a value refused while binding it; a
        :class:`DatabaseError` naming what failed otherwise.
    """
    orig: Any = getattr(exc, "orig", None) or exc
    if isinstance(exc, sa.exc.StatementError) and isinstance(orig, ValueError | TypeError):
        return InvalidValue(str(orig))  # a value refused while binding it (naive time)
    text = " ".join(line.strip() for line in str(orig).splitlines() if line.strip())
    text = text or type(orig).__name__
    state = getattr(orig, "sqlstate", None)
    lowered = text.lower()
    retry = Message("db.retry")
    if isinstance(orig, sqlite3.Error):
        if "locked" in lowered or "busy" in lowered:
            waited = Message("db.waited", seconds=busy_timeout) if busy_timeout is not None \
                else ""
            return ConflictError(Message("db.busy", url=display, waited=waited, retry=retry))
        if isinstance(orig, sqlite3.IntegrityError) and "unique" in lowered:
            return ConflictError(Message("db.same_key", url=display, text=text, retry=retry))
        for needle, meaning in _SQLITE_FAULTS:
            if needle in lowered:
                return DatabaseError(Message("db.cannot_write", url=display,
                                             meaning=Message(meaning), text=text))
        return DatabaseError(Message("db.failed", url=display, text=text))
    if state in _CONFLICT_STATES:
        return ConflictError(Message("db.conflict", why=Message(_CONFLICT_STATES[state]),
                                     url=display, text=text, retry=retry))
    if state in _LOST_STATES or _lost(orig):
        return DatabaseError(Message("db.lost", url=display, text=text))
    return DatabaseError(Message("db.failed", url=display, text=text))


def _lost(orig: BaseException) -> bool:
    """A psycopg error meaning the connection is gone (no SQLSTATE comes with it)."""
    if psycopg is None or not isinstance(orig, psycopg.OperationalError):
        return False
    return getattr(orig, "sqlstate", None) is None
