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

from ..errors import BompaoError, ConflictError, DatabaseError, InvalidValue

__all__ = ["DRIVER_ERRORS", "translate"]

DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, sa.exc.SQLAlchemyError)
"""What :func:`translate` knows; psycopg's ``Error`` joins when psycopg is installed."""
try:  # psycopg is only needed for PostgreSQL
    import psycopg

    DRIVER_ERRORS = (*DRIVER_ERRORS, psycopg.Error)
except ImportError:  # pragma: no cover - PostgreSQL support not installed
    psycopg = None  # type: ignore[assignment]

_RETRY = "nothing was written: try again"
_CONFLICT_STATES = {
    "40P01": "PostgreSQL chose this change as a deadlock's victim",
    "40001": "PostgreSQL could not serialize this change with a concurrent one",
    "55P03": "a row or table it needs stayed locked by another change past the lock timeout",
    "23505": "a concurrent change wrote the same unique key first",
}
_LOST_STATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
_SQLITE_FAULTS = (  # (text in the message, what it means)
    ("readonly database",
     "the database is read-only (the file, its directory or the mount does not allow writing)"),
    ("database or disk is full", "the disk is full"),
    ("disk i/o error", "a disk I/O error (the disk may be full or failing)"),
    ("unable to open database file", "the database file cannot be opened"),
    ("file is not a database", "the file is not a SQLite database"),
    ("database disk image is malformed", "the database file is corrupt"),
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
    if isinstance(orig, sqlite3.Error):
        if "locked" in lowered or "busy" in lowered:
            waited = f" for {busy_timeout:g} s" if busy_timeout is not None else ""
            return ConflictError(f"the database at {display} is busy: another connection "
                                 f"held its write lock{waited}; {_RETRY}")
        if isinstance(orig, sqlite3.IntegrityError) and "unique" in lowered:
            return ConflictError(f"a concurrent change to the database at {display} wrote "
                                 f"the same key first ({text}); {_RETRY}")
        for needle, meaning in _SQLITE_FAULTS:
            if needle in lowered:
                return DatabaseError(f"cannot write to the database at {display}: "
                                     f"{meaning} ({text})")
        return DatabaseError(f"the database at {display} failed: {text}")
    if state in _CONFLICT_STATES:
        return ConflictError(f"{_CONFLICT_STATES[state]} at {display} ({text}); {_RETRY}")
    if state in _LOST_STATES or _lost(orig):
        return DatabaseError(f"lost the connection to the database at {display}: {text}; "
                             "nothing more was written")
    return DatabaseError(f"the database at {display} failed: {text}")


def _lost(orig: BaseException) -> bool:
    """A psycopg error meaning the connection is gone (no SQLSTATE comes with it)."""
    if psycopg is None or not isinstance(orig, psycopg.OperationalError):
        return False
    return getattr(orig, "sqlstate", None) is None
