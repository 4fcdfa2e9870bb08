"""The :class:`Database` handle: one SQLAlchemy engine, its transactions and its schema.

SQLite connections run in WAL mode with ``synchronous=NORMAL``, foreign keys on and
a busy timeout (30 s unless the URL says ``?busy_timeout=SECONDS`` or the caller
passes ``busy_timeout``; PostgreSQL uses it as its ``lock_timeout``). bompao, not
the ``sqlite3`` driver, emits ``BEGIN``: a write transaction starts with
``BEGIN IMMEDIATE`` so it holds the write lock from its first statement (two
writers queue on the busy timeout instead of one failing half-way with "database is
locked"); a read transaction uses ``BEGIN DEFERRED``.
This is SQLAlchemy's documented recipe for pysqlite transaction control.

Writers of one SQLite file in one process also queue in that process, first come first
served (:class:`WriterGate`), before their ``BEGIN IMMEDIATE``: SQLite's busy handler
makes a waiting writer sleep and retry (1, 2, 5, ... 100 ms), so twenty threads
contending for the one write lock spent most of their time asleep while the lock was
free, and the unluckiest waited hundreds of milliseconds. Writers in other processes
(other workers, the CLI, the daemon) still meet on SQLite's own lock.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from ..definitions.messages import Message
from ..errors import BompaoError, DatabaseError, SchemaVersionError
from . import codec
from .faults import DRIVER_ERRORS, translate
from .schema import (
    SchemaState,
    SchemaStatus,
    head_revision,
    inspect_schema,
    run_migrations,
    write_schema_version,
)
from .tables import SCHEMA_VERSION
from .urls import connect_failure, mask, parse_url

__all__ = ["Connections", "Database", "WriterGate"]

_WRITE = "bompao_write"
"""Execution option read by the SQLite "begin" hook; absent means a write."""

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another's lock before a ConflictError, by default."""
_PG_CONNECT_TIMEOUT_S = 10
_PG_UPGRADE_LOCK = 0x626F6D70616F  # b"bompao": serialises concurrent `bompao init`s


class WriterGate:
    """A first-come-first-served lock for the writers of one SQLite file in this process.

    A writer that holds it and starts another write transaction (which SQLite would make
    wait on itself) is not made to wait here: the database's own busy timeout decides,
    as it did before the gate. A writer that waits longer than ``timeout`` goes on
    without the gate, to SQLite's lock and its busy timeout.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False
        self.owner: int | None = None
        """The thread holding the gate, if any."""

    def acquire(self, timeout: float) -> bool:
        """Wait for the gate, at most ``timeout`` seconds: whether it is now held."""
        with self._lock:
            if not self._held:
                self._held = True
                self.owner = threading.get_ident()
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        granted = waiter.acquire(timeout=timeout)
        with self._lock:
            if not granted:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    granted = True  # handed over just as the wait ran out
                else:
                    return False
            self.owner = threading.get_ident()
            return True

    def release(self) -> None:
        """Hand the gate to the writer waiting longest, else open it."""
        with self._lock:
            self.owner = None
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


# sqlite3 binds None through its adapter protocol (an attribute lookup on its protocol
# type that fails with a formatted AttributeError, a few thousand instructions a
# parameter); registered, None is found in the adapter table and bound as NULL as before
# (``{}.get``: a callable in C that answers None): 5,800 fewer instructions a dispatched
# follow-up, whose event has three NULL columns
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))

_GATES: dict[str, WriterGate] = {}
_GATES_LOCK = threading.Lock()


def _gate_for(path: str) -> WriterGate:
    """The one gate of the SQLite file at ``path`` in this process."""
    key = os.path.realpath(path)
    with _GATES_LOCK:
        return _GATES.setdefault(key, WriterGate())


class _GatedCursor(sqlite3.Cursor):
    """A cursor that passes its connection's ``BEGIN IMMEDIATE`` through the gate."""

    def execute(self, sql: str, parameters: Any = (), /) -> _GatedCursor:
        """Execute ``sql``; a ``BEGIN IMMEDIATE`` first waits for the file's gate."""
        if sql[:15] == "BEGIN IMMEDIATE":
            connection = self.connection
            if isinstance(connection, _GatedConnection):
                connection.enter_gate()
        super().execute(sql, parameters)
        return self


class _GatedConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose write transactions pass the file's gate: taken at
    ``BEGIN IMMEDIATE``, given back at commit, rollback or close."""

    gate: WriterGate | None = None
    gate_timeout: float = BUSY_TIMEOUT
    _holding = False

    def cursor(self, factory: Any = _GatedCursor) -> Any:
        """A cursor (a gated one unless the caller asks for another kind)."""
        return super().cursor(factory)

    def enter_gate(self) -> None:
        """Wait for the gate before a write transaction (see :class:`WriterGate`)."""
        gate = self.gate
        if gate is None or self._holding or gate.owner == threading.get_ident():
            return
        self._holding = gate.acquire(self.gate_timeout)

    def _leave_gate(self) -> None:
        if self._holding:
            self._holding = False
            if self.gate is not None:
                self.gate.release()

    def commit(self) -> None:
        """Commit, then give the gate back."""
        try:
            super().commit()
        finally:
            self._leave_gate()

    def rollback(self) -> None:
        """Roll back, then give the gate back."""
        try:
            super().rollback()
        finally:
            self._leave_gate()

    def close(self) -> None:
        """Close, giving the gate back if a transaction still held it."""
        try:
            super().close()
        finally:
            self._leave_gate()


class Connections:
    """The write path's connections: one DBAPI connection (and its cursor) per
    transaction, checked out and given back; nothing is held per thread.

    On SQLite this is a list of idle ``sqlite3`` connections under one lock. SQLAlchemy's
    pool wraps every checkout in a proxy object with a weak reference, fires its
    checkout and checkin events and rolls back again on return: about 5 µs a
    transaction, more than a tenth of what an advance spends in Python. The connections
    are still opened through SQLAlchemy's pool, so its ``connect`` hook sets the
    pragmas and the writer gate, and then detached from it. As with SQLAlchemy's
    default pool, at most ``limit`` are out at once (its size plus overflow, 15 by
    default): one more caller waits up to ``timeout`` seconds for one to come back,
    then fails as SQLAlchemy's pool does. At most ``keep`` idle ones are kept.

    PostgreSQL connections (and an in-memory SQLite database's one) stay in
    SQLAlchemy's pool (see :class:`_PooledConnections`):
    its pre-ping finds a connection the server dropped while it was idle, and an
    advance there spends its time on round trips, not on the pool.
    """

    def __init__(self, engine: Engine, *, limit: int, keep: int, timeout: float) -> None:
        self._engine = engine
        self._idle: list[tuple[Any, Any, int]] = []
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._out = 0
        self._waiting = 0
        self._limit = max(1, limit)
        self._keep = keep
        self._timeout = timeout
        self._generation = 0

    @classmethod
    def of(cls, engine: Engine) -> Connections:
        """The connections of ``engine``, with its pool's limits."""
        pool = engine.pool
        size = pool.size() if hasattr(pool, "size") else 5
        overflow = max(0, int(getattr(pool, "_max_overflow", 10)))
        return cls(engine, limit=size + overflow, keep=size,
                   timeout=float(getattr(pool, "_timeout", 30.0)))

    def checked_out(self) -> int:
        """How many connections transactions hold now."""
        return self._out

    def get(self) -> tuple[Any, Any, int]:
        """``(connection, cursor, generation)`` for one transaction; give it back with
        :meth:`put`.

        Raises:
            sqlalchemy.exc.TimeoutError: ``limit`` were out for ``timeout`` seconds.
            sqlite3.Error: a new connection could not be opened.
        """
        with self._lock:
            if self._idle:
                self._out += 1
                return self._idle.pop()
            if self._out >= self._limit:
                self._wait()
                if self._idle:
                    self._out += 1
                    return self._idle.pop()
            self._out += 1
            generation = self._generation
        try:
            fairy = self._engine.raw_connection()  # runs the connect hooks
            connection: Any = fairy.dbapi_connection
            fairy.detach()  # the pool forgets it; it is ours until closed
            cursor = connection.cursor(sqlite3.Cursor)
        except BaseException:
            self._give_back(None)
            raise
        return connection, cursor, generation

    def _wait(self) -> None:
        """Wait (holding the lock) until a connection is given back.

        Raises:
            sqlalchemy.exc.TimeoutError: none came back within the timeout.
        """
        deadline = time.monotonic() + self._timeout
        self._waiting += 1
        try:
            while self._out >= self._limit and not self._idle:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise sa.exc.TimeoutError(
                        f"{self._limit} connections were in use for {self._timeout:g} s")
                self._returned.wait(left)
        finally:
            self._waiting -= 1

    def put(self, item: tuple[Any, Any, int], *, discard: bool = False) -> None:
        """Give a connection back; ``discard`` closes it (its transaction failed), as
        does a :meth:`dispose` since it was taken or ``keep`` idle ones already."""
        if not self._give_back(None if discard else item):
            with contextlib.suppress(Exception):
                item[0].close()

    def _give_back(self, item: tuple[Any, Any, int] | None) -> bool:
        """Count a connection back in, keeping ``item`` idle if it may be kept (decided
        under the lock, so a :meth:`dispose` meanwhile is seen); whether it was kept."""
        with self._lock:
            self._out -= 1
            kept = False
            if item is not None and item[2] == self._generation \
                    and len(self._idle) < self._keep:
                self._idle.append(item)
                kept = True
            if self._waiting:
                self._returned.notify()
        return kept

    def dispose(self) -> None:
        """Close the idle connections; those out now are closed when given back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for connection, _cursor, _generation in idle:
            with contextlib.suppress(Exception):
                connection.close()


class _PooledConnections:
    """:class:`Connections` for PostgreSQL: SQLAlchemy's pool, a checkout per transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def checked_out(self) -> int:
        """How many connections are out of SQLAlchemy's pool now."""
        return int(getattr(self._engine.pool, "checkedout", lambda: 0)())

    def get(self) -> tuple[Any, Any, int]:
        """``(pooled connection, cursor, 0)`` for one transaction.

        Raises:
            sqlalchemy.exc.SQLAlchemyError, psycopg.Error: no connection to be had.
        """
        fairy = self._engine.raw_connection()
        try:
            return fairy, fairy.cursor(), 0
        except BaseException:
            fairy.invalidate()
            fairy.close()
            raise

    @staticmethod
    def put(item: tuple[Any, Any, int], *, discard: bool = False) -> None:
        """Give it back to the pool; ``discard`` invalidates it first."""
        fairy = item[0]
        with contextlib.suppress(Exception):
            if discard and fairy.is_valid:
                fairy.invalidate()
        with contextlib.suppress(Exception):
            fairy.close()

    def dispose(self) -> None:
        """Nothing of its own to close (the engine's pool is disposed with it)."""


def _sqlite_on_connect(busy_ms: int, gate: WriterGate | None) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # bompao emits BEGIN itself
        if isinstance(dbapi_connection, _GatedConnection):
            dbapi_connection.gate = gate
            dbapi_connection.gate_timeout = busy_ms / 1000
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    return on_connect


def _busy_timeout(url: URL, given: float | None, display: str) -> tuple[URL, float]:
    """The busy timeout (the argument, else ``?busy_timeout=`` of the URL, else 30 s)
    and the URL without it.

    Raises:
        DatabaseError: the URL's value is not a number of seconds.
    """
    text = url.query.get("busy_timeout")
    url = url.difference_update_query(["busy_timeout"])
    if given is not None:
        return url, float(given)
    if text is None:
        return url, BUSY_TIMEOUT
    try:
        seconds = float(text if isinstance(text, str) else text[-1])
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 86_400:
        raise DatabaseError(Message("db.busy_timeout", given=text, url=display))
    return url, seconds


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(_WRITE, True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")


class Database:
    """A bompao database: SQLite or PostgreSQL, reached through one engine.

    Build it with :meth:`from_url`. Nothing connects until first use.
    """

    def __init__(self, engine: Engine, url: URL, url_display: str,
                 busy_timeout: float = BUSY_TIMEOUT) -> None:
        """Wrap an engine; prefer :meth:`from_url`, which sets the engine up."""
        self._engine = engine
        self._url = url
        self._url_display = url_display
        self.busy_timeout = busy_timeout
        """Seconds a writer waits for another's lock before a ConflictError."""
        self.connections: Connections | _PooledConnections = (
            Connections.of(engine) if engine.dialect.name == "sqlite"
            and isinstance(engine.pool, sa.pool.QueuePool)  # a file, not :memory:
            else _PooledConnections(engine))
        """Where the write path's transactions take their connection from."""

    @classmethod
    def from_url(cls, url: str, *, busy_timeout: float | None = None) -> Database:
        """Create a handle for ``sqlite:///PATH`` or ``postgresql[+psycopg]://...``.

        Args:
            url: the database URL; ``?busy_timeout=SECONDS`` sets the busy timeout.
            busy_timeout: seconds a writer waits for another writer's lock (SQLite's
                busy timeout, PostgreSQL's ``lock_timeout``); overrides the URL's.

        Raises:
            DatabaseError: the URL does not parse, its scheme is not accepted or its
                busy_timeout is not a number of seconds.
        """
        display = mask(url)
        parsed, seconds = _busy_timeout(parse_url(url), busy_timeout, display)
        busy_ms = round(seconds * 1000)
        codecs: dict[str, Any] = {"json_serializer": codec.dumps,
                                  "json_deserializer": codec.loads}
        if parsed.get_backend_name() == "sqlite":
            name = parsed.database or ""
            gate = None
            if name not in ("", ":memory:") and not name.startswith("file:"):
                gate = _gate_for(name)
            engine = sa.create_engine(
                parsed, connect_args={"factory": _GatedConnection} if gate else {}, **codecs)
            sa.event.listen(engine, "connect", _sqlite_on_connect(busy_ms, gate))
            sa.event.listen(engine, "begin", _sqlite_on_begin)
        else:
            from .notify import NotifyingCursor  # noqa: PLC0415 - psycopg: PostgreSQL only

            # a commit that appended events notifies the listeners (storage/notify.py)
            connect_args: dict[str, Any] = {"cursor_factory": NotifyingCursor}
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT_S
            options = str(parsed.query.get("options") or "")
            if "lock_timeout" not in options:
                connect_args["options"] = f"{options} -c lock_timeout={busy_ms:d}".strip()
                parsed = parsed.difference_update_query(["options"])
            engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args,
                                      **codecs)
        db = cls(engine, parsed, display, seconds)
        if db.dialect == "postgresql":
            db._listen_for_commits()
        return db

    def _listen_for_commits(self) -> None:
        """Open PostgreSQL connections as :class:`~.notify.NotifyingConnection`\\ s that
        wake this database's :class:`~.notify.Notifier` (SQLAlchemy's ``do_connect``)."""
        from .notify import Notifier, NotifyingConnection  # noqa: PLC0415 - psycopg

        notifier = self._notifier = Notifier(self)

        def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            connection = NotifyingConnection.connect(*cargs, **cparams)
            connection.notifier = notifier
            return connection

        sa.event.listen(self._engine, "do_connect", connect)

    @property
    def url_display(self) -> str:
        """The URL as given, with the password masked."""
        return self._url_display

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]:
        """``"sqlite"`` or ``"postgresql"``."""
        return "sqlite" if self._engine.dialect.name == "sqlite" else "postgresql"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        return self._engine

    def __repr__(self) -> str:
        return f"Database({self._url_display!r})"

    @contextmanager
    def begin(self, write: bool = True) -> Iterator[Connection]:
        """Open a connection inside a transaction; commit on success, roll back on error.

        Args:
            write: on SQLite, take the write lock when the transaction starts
                (``BEGIN IMMEDIATE``); ``False`` reads with ``BEGIN DEFERRED``.

        Yields:
            The connection, inside the transaction.

        Raises:
            DatabaseError: the database cannot be opened (one line, password masked),
                or it failed: read-only, disk full, connection lost (see :mod:`.faults`).
            ConflictError: another writer held the lock past the busy timeout, or a
                concurrent change won (nothing was written; try again).
        """
        try:
            conn = self._engine.connect()
        except DRIVER_ERRORS as exc:
            raise self.open_failure(exc) from None
        try:
            with conn:
                conn.execution_options(**{_WRITE: write})
                with conn.begin():
                    yield conn
        except BompaoError:
            raise
        except DRIVER_ERRORS as exc:
            raise self.fault(exc) from None

    def open_failure(self, exc: BaseException) -> DatabaseError:
        """The one-line error for a database that cannot be opened; it says so when a
        SQLite file's directory is read-only (WAL needs its ``-wal`` and ``-shm`` files)."""
        error = connect_failure(self._url, self._url_display, exc)
        name = self._url.database or ""
        if self.dialect == "sqlite" and name not in ("", ":memory:") and not name.startswith(
                "file:"):
            folder = Path(name).parent
            if folder.is_dir() and not os.access(folder, os.W_OK):
                return DatabaseError(Message("db.readonly_directory", error=error.args[0],
                                             folder=str(folder)))
        return error

    def fault(self, exc: BaseException) -> BompaoError:
        """The bompao error for a driver or SQLAlchemy exception (see :mod:`.faults`)."""
        return translate(exc, self._url_display, self.busy_timeout)

    def _missing_file(self) -> bool:
        """A SQLite file that does not exist (connecting would create it).

        Raises:
            DatabaseError: not even its directory exists.
        """
        name = self._url.database or ""
        missing = self.dialect == "sqlite" and name not in ("", ":memory:") and not (
            name.startswith("file:") or Path(name).exists())
        if missing and not Path(name).parent.is_dir():
            raise connect_failure(self._url, self._url_display, FileNotFoundError(name))
        return missing

    def schema_status(self) -> SchemaStatus:
        """Say whether the schema is ``empty``, ``current``, ``outdated``, ``newer`` or ``foreign``.

        Raises:
            DatabaseError: the database cannot be opened.
        """
        if self._missing_file():
            return "empty"
        with self.begin(write=False) as conn:
            return inspect_schema(conn).status

    def upgrade(self) -> None:
        """Create the schema, or upgrade it to this bompao's head; a no-op when current.

        Raises:
            SchemaVersionError: the schema is newer than this bompao knows.
            DatabaseError: the database cannot be opened or is not a bompao database.
        """
        if self.dialect == "sqlite":
            # WAL is a property of the file, kept once set: set it when creating or
            # upgrading, so that opening a database never writes to it
            try:
                raw = self._engine.raw_connection()
            except (sa.exc.DBAPIError, self._engine.dialect.loaded_dbapi.Error) as exc:
                raise connect_failure(self._url, self._url_display, exc) from None
            try:
                raw.cursor().execute("PRAGMA journal_mode = WAL")
            finally:
                raw.close()
        with self.begin(write=True) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_UPGRADE_LOCK)))
            state = inspect_schema(conn)
            if state.status == "newer":
                raise SchemaVersionError(self._newer_message(state))
            if state.status == "foreign":
                raise DatabaseError(self._foreign_message(state))
            if state.status == "current":
                return
            run_migrations(conn)
            write_schema_version(conn)

    def require_current(self) -> None:
        """Return when the schema is current; otherwise say what to do.

        Raises:
            SchemaVersionError: the schema is empty or outdated (run ``bompao init``),
                or newer than this bompao knows.
            DatabaseError: the database cannot be opened or is not a bompao database.
        """
        if self._missing_file():
            state = SchemaState("empty", None, (), ())
        else:
            with self.begin(write=False) as conn:
                state = inspect_schema(conn)
        if state.status == "current":
            return
        if state.status == "empty":
            raise SchemaVersionError(Message("db.no_tables", url=self._url_display))
        if state.status == "outdated":
            raise SchemaVersionError(Message(
                "db.outdated", url=self._url_display, version=state.version_text,
                revision=state.revision_text, needed=SCHEMA_VERSION, head=head_revision()))
        if state.status == "newer":
            raise SchemaVersionError(self._newer_message(state))
        raise DatabaseError(self._foreign_message(state))

    def dispose(self) -> None:
        """Close every pooled connection. The handle reconnects if used again."""
        notifier = getattr(self, "_notifier", None)
        if notifier is not None:
            notifier.close()
        self.connections.dispose()
        self._engine.dispose()

    def _newer_message(self, state: SchemaState) -> Message:
        return Message("db.newer", url=self._url_display, version=state.version_text,
                       revision=state.revision_text, needed=SCHEMA_VERSION,
                       head=head_revision())

    def _foreign_message(self, state: SchemaState) -> Message:
        shown = ", ".join(state.tables[:5]) + (", ..." if len(state.tables) > 5 else "")
        return Message("db.foreign", url=self._url_display, tables=shown)
