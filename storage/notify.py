"""PostgreSQL ``LISTEN/NOTIFY`` on the event log: a wake-up when events are committed.

Every PostgreSQL connection bompao opens is a :class:`NotifyingConnection`: its cursor
marks a transaction that runs ``INSERT INTO events`` (whichever code path wrote them:
the engine, the scheduler daemon, the CLI), and when that transaction commits (never
after a rollback) the process's :class:`Notifier` sends ``NOTIFY bompao_events``
(:data:`CHANNEL`) on a connection of its own. The notification carries no payload: a
listener reads the event log after its last id, as before.

Why not ``NOTIFY`` inside the writing transaction: PostgreSQL serialises the commits of
notifying transactions on one database-wide lock held through the commit's WAL flush,
which halved the advances a second of twenty threads (``bench/web.py``). The notifier
instead sends one ``NOTIFY`` for all the commits since its last (a few a second under
load rather than one per commit), right after them: a listener hears of a commit a
round trip after it. A notification lost in a crash between the commit and the
``NOTIFY`` is what the listeners' slow poll is for.

:class:`Listener` holds one dedicated connection per process that ``LISTEN``\\ s and
calls back on each notification (and after every reconnect, since notifications sent
while it was away are lost). SQLite has nothing of the kind: readers keep polling.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from .database import Database

__all__ = ["CHANNEL", "IDLE_SECONDS", "Listener", "Notifier", "NotifyingConnection",
           "NotifyingCursor"]

CHANNEL = "bompao_events"
"""The channel notified after a commit that appended events."""
IDLE_SECONDS = 30.0
"""A notifier with nothing to send this long closes its connection and its thread."""
_NOTIFY = f"NOTIFY {CHANNEL}"
_INSERT = "INSERT INTO events"
log = logging.getLogger("bompao.storage.notify")


def _appends_events(query: Any) -> bool:
    if isinstance(query, str):
        return query.startswith(_INSERT)
    if isinstance(query, bytes):
        return query.startswith(_INSERT.encode())
    return False


class Notifier:
    """Sends ``NOTIFY`` for one database's commits, from a thread of its own.

    :meth:`committed` only wakes the thread, which sends one ``NOTIFY`` for every
    commit since its last one; it closes its connection and ends after
    :data:`IDLE_SECONDS` with nothing to send, and starts again on the next commit.

    Args:
        db: the PostgreSQL database (its pool gives the connection, detached).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dirty = False
        self._stopping = False
        self._at_exit = False

    def committed(self) -> None:
        """Say that a transaction which appended events has committed."""
        self._dirty = True
        self._wake.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, daemon=True,
                                                    name="bompao-notify")
                    self._thread.start()
                    if not self._at_exit:  # a daemon thread dies with the process:
                        self._at_exit = True  # send what is due before it does
                        atexit.register(self.close)

    def close(self, wait: float = 2.0) -> None:
        """End the thread and close its connection, waiting up to ``wait`` seconds for a
        notification still due to be sent (a CLI command's commit is notified before
        the process exits); the next commit starts them again."""
        thread = self._thread
        self._stopping = True
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def _run(self) -> None:
        connection: Any = None
        try:
            while self._wake.wait(IDLE_SECONDS):
                self._wake.clear()
                if self._dirty:
                    self._dirty = False
                    connection = self._send(connection)
                if self._stopping:
                    self._stopping = False
                    break
        finally:
            with self._lock:
                self._thread = None
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()
            if self._dirty:
                self.committed()  # a commit arrived as this thread was ending

    def _send(self, connection: Any) -> Any:
        """``NOTIFY`` on ``connection`` (opened when ``None``): the connection, or
        ``None`` when it failed (the listeners' poll covers a lost notification)."""
        try:
            if connection is None:
                fairy = self.db.engine.raw_connection()
                fairy.detach()  # the pool forgets it: it is this thread's
                connection = fairy.dbapi_connection
                connection.autocommit = True
            connection.execute(_NOTIFY)
        except Exception as exc:  # never fail a writer for a wake-up
            log.warning("could not notify listeners of new events (%s)", type(exc).__name__)
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()
            return None
        return connection


class NotifyingCursor(psycopg.Cursor[Any]):
    """A psycopg cursor that marks its transaction when it appends events."""

    def _appended(self, query: Any) -> None:
        if _appends_events(query):
            connection = self.connection
            if isinstance(connection, NotifyingConnection):
                connection.appended_events()

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> NotifyingCursor:
        """Execute ``query`` (see :class:`NotifyingConnection`)."""
        super().execute(query, params, prepare=prepare, binary=binary)
        self._appended(query)
        return self

    def executemany(self, query: Any, params_seq: Any, *, returning: bool = False) -> None:
        """Execute ``query`` for each set of parameters (see :class:`NotifyingConnection`)."""
        super().executemany(query, params_seq, returning=returning)
        self._appended(query)


class NotifyingConnection(psycopg.Connection[Any]):
    """A psycopg connection that tells its :attr:`notifier` when a transaction which
    appended events commits."""

    notifier: Notifier | None = None
    _pending = False

    def appended_events(self) -> None:
        """Mark the transaction (in autocommit mode the change is already committed)."""
        if self.autocommit:
            if self.notifier is not None:
                self.notifier.committed()
        else:
            self._pending = True

    def commit(self) -> None:
        """Commit; then, if it appended events, wake the notifier."""
        super().commit()
        if self._pending:
            self._pending = False
            if self.notifier is not None:
                self.notifier.committed()

    def rollback(self) -> None:
        """Roll back: nothing to notify."""
        self._pending = False
        super().rollback()


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
