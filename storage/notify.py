"""PostgreSQL ``LISTEN/NOTIFY`` on the event log: a wake-up when events are committed.

Every PostgreSQL connection bompao opens is a :class:`NotifyingConnection`: its cursor
marks a transaction that runs ``INSERT INTO events`` (whichever code path wrote them:
the engine, the scheduler daemon, the CLI), and when that transaction commits (never
after a rollback) the database handle's :class:`Notifier` notifies the schema's channel
(``bompao_events`` in ``public``, ``bompao_events.SCHEMA`` elsewhere: :func:`channel_of`)
from a thread of its own, in a transaction of its own on a pooled connection. The
notification carries no payload: a listener reads the event log after its last id, as
before.

Why not ``NOTIFY`` inside the writing transaction: PostgreSQL serialises the commits of
notifying transactions on one database-wide lock held through the commit's WAL flush,
which halved the advances a second of twenty library threads. The notifier
instead sends one ``NOTIFY`` for all the commits since its last (under load many
commits share one), right after them: a listener hears of a commit a
round trip after it. A notification lost in a crash between the commit and the
``NOTIFY`` is what the listeners' slow poll is for.

:class:`Listener` holds one dedicated connection per process that ``LISTEN``\\ s and
calls back on each notification (and after every reconnect, since notifications sent
while it was away are lost). SQLite has nothing of the kind: readers keep polling.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg.sql

if TYPE_CHECKING:
    from .database import Database

__all__ = [
    "CHANNEL",
    "IDLE_SECONDS",
    "Listener",
    "Notifier",
    "NotifyingConnection",
    "NotifyingCursor",
    "channel_of",
]

CHANNEL = "bompao_events"
"""The channel notified after a commit that appended events, in the schema ``public``;
another schema's is :func:`channel_of` it, so that two bompao installs in one database
(in two schemas) never wake each other's listeners."""
_MAX_CHANNEL = 63
"""PostgreSQL's longest identifier (NAMEDATALEN - 1 bytes)."""
IDLE_SECONDS = 5.0
"""A notifier with nothing to send this long ends its thread (the next commit starts
another)."""
_NOTIFY = "SELECT pg_notify(%s, '')"
_SCHEMA = "SELECT current_schema()"
_INSERT = "INSERT INTO events"
log = logging.getLogger("bompao.storage.notify")


def channel_of(schema: str | None) -> str:
    """The channel of the bompao install in ``schema`` (the connection's
    ``current_schema()``): :data:`CHANNEL` for ``public`` (or none), else
    ``bompao_events.SCHEMA``, the schema's name replaced by its hash when the whole
    would pass PostgreSQL's 63 bytes."""
    if schema in (None, "public"):
        return CHANNEL
    name = f"{CHANNEL}.{schema}"
    if len(name.encode()) > _MAX_CHANNEL:
        name = f"{CHANNEL}.{hashlib.sha256(schema.encode()).hexdigest()[:32]}"
    return name


def _channel(connection: Any) -> str:
    """The channel of the schema ``connection`` works in (a DB-API connection)."""
    cursor = connection.cursor()
    try:
        cursor.execute(_SCHEMA)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return channel_of(row[0] if row else None)


def _appends_events(query: Any) -> bool:
    if isinstance(query, str):
        return query.startswith(_INSERT)
    if isinstance(query, bytes):
        return query.startswith(_INSERT.encode())
    return False


class Notifier:
    """Sends ``NOTIFY`` for one database's commits, from a thread of its own.

    :meth:`committed` only wakes the thread, which sends one ``NOTIFY`` for every
    commit since its last one, on a connection it borrows from the pool for that; it
    ends after :data:`IDLE_SECONDS` with nothing to send, and starts again on the next
    commit. It holds its database and the thread holds it only weakly, so a database
    handle nobody closes (a CLI command's) is freed, with its pool, as before.

    Args:
        db: the PostgreSQL database.
    """

    def __init__(self, db: Database) -> None:
        self._db = weakref.ref(db)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dirty = False
        self._stopping = False
        self._channel: str | None = None
        _LIVE.add(self)

    def committed(self) -> None:
        """Say that a transaction which appended events has committed."""
        self._dirty = True
        self._wake.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=_notify_loop,
                                                    args=(weakref.ref(self),),
                                                    daemon=True, name="bompao-notify")
                    self._thread.start()

    def close(self, wait: float = 2.0) -> None:
        """End the thread, waiting up to ``wait`` seconds for a notification still due
        to be sent (a CLI command's commit is notified before the process exits); the
        next commit starts it again."""
        thread = self._thread
        self._stopping = True
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def _step(self) -> bool:
        """Wait for commits and notify them: whether to go on."""
        if not self._wake.wait(IDLE_SECONDS):
            return False
        self._wake.clear()
        if self._dirty:
            self._dirty = False
            self._send()
        if self._stopping:
            self._stopping = False
            return False
        return True

    def _ended(self) -> None:
        with self._lock:
            self._thread = None
        if self._dirty and not self._stopping:
            self.committed()  # a commit arrived as this thread was ending

    def _send(self) -> None:
        """``NOTIFY`` in a transaction of its own, on a connection of the pool (no
        connection is kept for it); a failure is logged, the listeners' poll covers it."""
        db = self._db()
        if db is None:
            return
        try:
            connection = db.engine.raw_connection()
            try:
                if self._channel is None:  # the schema of every connection of the pool
                    self._channel = _channel(connection)
                cursor = connection.cursor()
                cursor.execute(_NOTIFY, (self._channel,))
                cursor.close()
                connection.commit()
            finally:
                connection.close()
        except Exception as exc:  # never fail a writer for a wake-up
            log.warning("could not notify listeners of new events (%s)", type(exc).__name__)


def _notify_loop(ref: weakref.ref[Notifier]) -> None:
    """A notifier's thread: it keeps the notifier alive only while sending."""
    while True:
        notifier = ref()
        if notifier is None:
            return
        try:
            if not notifier._step():
                notifier._ended()
                return
        finally:
            del notifier


_LIVE: weakref.WeakSet[Notifier] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """Send what is due before the process's daemon threads die with it."""
    for notifier in list(_LIVE):
        notifier.close()


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
    """``LISTEN`` on the schema's channel (:func:`channel_of`) in a daemon thread, on a
    connection of its own.

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
        self.channel: str | None = None
        """The channel listened to (:func:`channel_of` the connection's schema)."""
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
        self.channel = _channel(connection)
        connection.execute(psycopg.sql.SQL("LISTEN {}").format(
            psycopg.sql.Identifier(self.channel)))
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
