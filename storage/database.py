"""The :class:`Database` handle: one SQLAlchemy engine, its transactions and its schema.

SQLite connections run in WAL mode with ``synchronous=NORMAL``, foreign keys on and
a busy timeout (30 s unless the URL says ``?busy_timeout=SECONDS`` or the caller
passes ``busy_timeout``; PostgreSQL uses it as its ``lock_timeout``). bompao, not
the ``sqlite3`` driver, emits ``BEGIN``: a write transaction starts with
``BEGIN IMMEDIATE`` so it holds the write lock from its first statement (two
writers queue on the busy timeout instead of one failing half-way with "database is
locked"); a read transaction uses ``BEGIN DEFERRED``.
This is SQLAlchemy's documented recipe for pysqlite transaction control.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

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

__all__ = ["Database"]

_WRITE = "bompao_write"
"""Execution option read by the SQLite "begin" hook; absent means a write."""

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another's lock before a ConflictError, by default."""
_PG_CONNECT_TIMEOUT_S = 10
_PG_UPGRADE_LOCK = 0x626F6D70616F  # b"bompao": serialises concurrent `bompao init`s


def _sqlite_on_connect(busy_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # bompao emits BEGIN itself
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
            engine = sa.create_engine(parsed, **codecs)
            sa.event.listen(engine, "connect", _sqlite_on_connect(busy_ms))
            sa.event.listen(engine, "begin", _sqlite_on_begin)
        else:
            connect_args: dict[str, Any] = {}
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT_S
            options = str(parsed.query.get("options") or "")
            if "lock_timeout" not in options:
                connect_args["options"] = f"{options} -c lock_timeout={busy_ms:d}".strip()
                parsed = parsed.difference_update_query(["options"])
            engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args,
                                      **codecs)
        return cls(engine, parsed, display, seconds)

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
        self._engine.dispose()

    def _newer_message(self, state: SchemaState) -> Message:
        return Message("db.newer", url=self._url_display, version=state.version_text,
                       revision=state.revision_text, needed=SCHEMA_VERSION,
                       head=head_revision())

    def _foreign_message(self, state: SchemaState) -> Message:
        shown = ", ".join(state.tables[:5]) + (", ..." if len(state.tables) > 5 else "")
        return Message("db.foreign", url=self._url_display, tables=shown)
