"""PostgreSQL ``LISTEN/NOTIFY`` on the event log: a wake-up when events are committed.

Every transaction that appends to ``events`` on PostgreSQL also sends ``NOTIFY
bompao_events`` (:data:`CHANNEL`), in the same transaction, so the notification is
delivered when, and only if, the events are committed. It is sent by the driver's
cursor (:class:`NotifyingCursor`, every PostgreSQL connection's cursor class, see
:mod:`bompao.storage.database`) after each ``INSERT INTO events``, whichever code path
wrote them: the engine, the scheduler daemon, the CLI, another machine. The
notification carries no payload (PostgreSQL folds identical ones of one transaction
into one): a listener reads the event log after its last id, as before.

:class:`Listener` holds one dedicated connection per process that ``LISTEN``\\ s and
calls back on each notification (and after every reconnect, since notifications sent
while it was away are lost). SQLite has nothing of the kind: readers keep polling.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from .database import Database

__all__ = ["CHANNEL", "Listener", "NotifyingCursor"]

CHANNEL = "bompao_events"
"""The channel a commit that appended events notifies."""
_NOTIFY = f"NOTIFY {CHANNEL}"
_INSERT = "INSERT INTO events"
log = logging.getLogger("bompao.storage.notify")


def _appends_events(query: Any) -> bool:
    if isinstance(query, str):
        return query.startswith(_INSERT)
    if isinstance(query, bytes):
        return query.startswith(_INSERT.encode())
    return False


class NotifyingCursor(psycopg.Cursor[Any]):
    """A psycopg cursor that notifies :data:`CHANNEL` after appending events (in the
    same transaction: the notification goes out at its commit, never after a rollback)."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> NotifyingCursor:
        """Execute ``query``; ``INSERT INTO events`` is followed by the ``NOTIFY``."""
        super().execute(query, params, prepare=prepare, binary=binary)
        if _appends_events(query):
            self.connection.execute(_NOTIFY)
        return self

    def executemany(self, query: Any, params_seq: Any, *, returning: bool = False) -> None:
        """Execute ``query`` for each set of parameters, then notify as :meth:`execute`."""
        super().executemany(query, params_seq, returning=returning)
        if _appends_events(query):
            self.connection.execute(_NOTIFY)


class Listener:
    """``LISTEN`` on :data:`CHANNEL` in a daemon thread, on a connection of its own.

    ``woken`` is called (in the listener's thread) for every notification, and after
    every (re)connection. A lost connection is opened again after ``retry`` seconds.

    Args:
        db: a PostgreSQL database (its pool gives the connection, detached for good).
        woken: what to call; it must be quick and must not raise.
        retry: seconds between attempts to reconnect.
    """

    def __init__(self, db: Database, woken: Callable[[], None], *, retry: float = 1.0) -> None:
        self.db = db
        self.woken = woken
        self.retry = retry
        self.listening = threading.Event()
        """Set while the connection is listening (for tests and health)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    def start(self) -> None:
        """Start listening (a no-op when started)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bompao-listen",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close the connection (within about a second)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _connect(self) -> Any:
        fairy = self.db.engine.raw_connection()
        fairy.detach()  # the pool forgets it: it listens until this listener stops
        connection: Any = fairy.dbapi_connection
        connection.autocommit = True
        connection.execute(f"LISTEN {CHANNEL}")
        return connection

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._connection = self._connect()
                self.listening.set()
                self.woken()  # whatever was committed while we were not listening
                while not self._stop.is_set():
                    for _ in self._connection.notifies(timeout=1.0):
                        self.woken()
            except Exception as exc:  # a listener must outlive its faults
                log.warning("event notifications lost (%s); listening again in %.0f s",
                            type(exc).__name__, self.retry)
                self._stop.wait(self.retry)
            finally:
                self.listening.clear()
                if self._connection is not None:
                    with contextlib.suppress(Exception):
                        self._connection.close()
                    self._connection = None
