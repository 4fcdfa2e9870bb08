"""The write path: every change to projects, events and follow-ups, on the DBAPI.

A project change (an advance above all) is a few statements that run thousands of
times a second, and building, caching and executing SQLAlchemy Core statements costs
several times what SQLite itself spends on them, so bompao runs its project, event
and follow-up SQL as fixed text straight on the driver's connection, taken from
SQLAlchemy's pool for each transaction and given back at its end (nothing is held
per thread, so one :class:`HotPath` serves any number of threads). The SQL is
static: column names come from :mod:`bompao.storage.tables`, never from callers'
data, and every value is a bound parameter, encoded by :mod:`bompao.storage.codec`.

Reading projects goes through here too, so every caller gets the same
:class:`~bompao.storage.records.Project` record, decoded the same way.

Stage visits (what the reports read) are kept here, in the row of the event that ends
one: an event entering a stage gets ``from_entered_at``, the time of the project's
previous entry, read by a subquery on the events index in the same statement. Every
writer appends events through :meth:`HotPath.append_events`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NamedTuple

from ..errors import BompaoError
from . import codec
from .database import Database
from .faults import DRIVER_ERRORS
from .records import Project
from .tables import JSONType, UTCDateTime, events, follow_ups, metadata, projects

__all__ = ["EVENT_COLUMNS", "FOLLOW_UP_COLUMNS", "PROJECT_COLUMNS", "CohortEvent", "HotPath",
           "ProjectRow"]

ProjectRow = Project
"""The record the dispatcher reads (the same :class:`Project`)."""

PROJECT_COLUMNS: tuple[str, ...] = tuple(c.name for c in projects.c)
"""The ``projects`` columns in table order (the fields of :class:`Project`)."""
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in events.c
                                       if not c.primary_key and c.name != "from_entered_at")
"""The columns an appended event sets, in table order (the order of ``Event``); the
write path derives ``from_entered_at`` itself."""
FOLLOW_UP_COLUMNS: tuple[str, ...] = tuple(c.name for c in follow_ups.c
                                           if not c.primary_key and not c.nullable)
"""The columns a planned follow-up sets (lease, error and finish come later)."""
_JSON = frozenset(c.name for t in metadata.tables.values() for c in t.c
                  if isinstance(c.type, type(JSONType)))
_TIMES = frozenset(c.name for t in metadata.tables.values() for c in t.c
                   if isinstance(c.type, UTCDateTime))
_UPDATABLE = frozenset(PROJECT_COLUMNS) - {"id", "lock_version"}
_INSERTABLE = tuple(c for c in PROJECT_COLUMNS if c != "id")
_JSON_AT = tuple(i for i, c in enumerate(PROJECT_COLUMNS) if c in _JSON)
_TIMES_AT = tuple(i for i, c in enumerate(PROJECT_COLUMNS) if c in _TIMES)
_EVENT_TIME_AT = EVENT_COLUMNS.index("at")
_EVENT_JSON_AT = EVENT_COLUMNS.index("payload")
_FOLLOW_UP_READ = tuple(c.name for c in follow_ups.c)
_CLAIMED = ("id", "project_id", "stage", "visit", "spec", "occurrence", "action", "due_at",
            "attempts", "idempotency_key")
_ENTRY_KINDS = frozenset({"created", "advanced", "migrated"})
_JSON_KIND, _TIME_KIND = "json", "time"
_KINDS = {**dict.fromkeys(_TIMES, _TIME_KIND), **dict.fromkeys(_JSON, _JSON_KIND)}
"""How :meth:`HotPath.encode` stores each column's values (absent: as they are)."""
_NAIVE = codec.SQLITE_TIME_LENGTH
_from_iso = datetime.fromisoformat
_OPEN: ContextVar[tuple[Any, Any] | None] = ContextVar("bompao_open_transaction",
                                                      default=None)
"""The (HotPath, cursor) of the transaction this thread (or task) has open, if any."""


def _entry(event: Mapping[str, Any]) -> bool:
    """Whether an event enters a stage (opens a stage visit)."""
    kind = event["kind"]
    return kind in _ENTRY_KINDS and event.get("to_stage") is not None and (
        kind != "migrated" or event.get("from_stage") != event.get("to_stage"))


_CHUNK = 10_000
"""Ids per ``IN (...)`` list: well under SQLite's 32,766 parameters (and PostgreSQL's
65,535), whatever the size of a cohort or a batch."""


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """``ids`` in slices of at most :data:`_CHUNK`."""
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


class CohortEvent(NamedTuple):
    """One event of :meth:`HotPath.cohort_events`."""

    project_id: int
    seq: int
    actor: str | None
    payload: Any


class _Transaction:
    """The context manager of :meth:`HotPath.transaction` (a class: a generator-based
    one costs a generator and two more calls in every transaction)."""

    __slots__ = ("connections", "hot", "item", "token", "write")

    def __init__(self, hot: HotPath, write: bool) -> None:
        self.hot = hot
        self.write = write
        self.connections = hot.db.connections

    def __enter__(self) -> Any:
        hot = self.hot
        try:
            item = self.connections.get()
        except DRIVER_ERRORS as exc:
            raise hot.db.open_failure(exc) from None
        self.item = item
        raw, cursor, _ = item
        if hot.sqlite:
            try:
                if self.write:
                    enter = getattr(raw, "enter_gate", None)  # the file's writer gate
                    if enter is not None:
                        enter()
                    cursor.execute("BEGIN IMMEDIATE")
                else:
                    cursor.execute("BEGIN DEFERRED")
            except BaseException as exc:
                self._discard(raw)
                if isinstance(exc, DRIVER_ERRORS):
                    raise hot.db.fault(exc) from None
                raise
        self.token = _OPEN.set((hot, cursor))
        return cursor

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 _tb: Any) -> None:
        _OPEN.reset(self.token)
        item = self.item
        raw = item[0]
        if kind is None:
            try:
                raw.commit()
            except DRIVER_ERRORS as failed:
                self._discard(raw)
                raise self.hot.db.fault(failed) from None
            except BaseException:
                self._discard(raw)
                raise
            self.connections.put(item)
            return
        try:
            raw.rollback()
        except DRIVER_ERRORS:
            self.connections.put(item, discard=True)
        else:
            self.connections.put(item, discard=isinstance(exc, DRIVER_ERRORS))
        if isinstance(exc, DRIVER_ERRORS) and not isinstance(exc, BompaoError):
            raise self.hot.db.fault(exc) from None

    def _discard(self, raw: Any) -> None:
        with contextlib.suppress(Exception):
            raw.rollback()
        self.connections.put(self.item, discard=True)


class HotPath:
    """Project, event and follow-up reads and writes on the raw driver connection.

    Args:
        db: the database whose pool the connections come from.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = db.dialect == "sqlite"
        m = "?" if self.sqlite else "%s"
        self._mark = m
        self._time = codec.to_sqlite_time if self.sqlite else codec.utc
        self._read_time = codec.from_sqlite_time if self.sqlite else self._pg_time
        columns = ", ".join(PROJECT_COLUMNS)
        self._select = f"SELECT {columns} FROM projects"  # noqa: S608
        self._select_one = f"{self._select} WHERE id = {m}"
        self._insert_project = (
            f"INSERT INTO projects ({', '.join(_INSERTABLE)}) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(_INSERTABLE))}) RETURNING id")
        self._insert_follow_up = (
            f"INSERT INTO follow_ups ({', '.join(FOLLOW_UP_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(FOLLOW_UP_COLUMNS))})")
        self._cancel = (f"UPDATE follow_ups SET status = 'cancelled', "  # noqa: S608
                        f"finished_at = {m} WHERE project_id = {m} AND status = 'pending'")
        self._cancel_spec = f"{self._cancel} AND spec = {m}"
        # ``from_entered_at``: for an entry event (the flag, the test of :func:`_entry`),
        # the ``at`` of the project's previous entry (None for its first); the subquery
        # runs only for entries
        differs = "IS NOT" if self.sqlite else "IS DISTINCT FROM"
        previous = ("(SELECT p.at FROM events p "  # noqa: S608
                    f"WHERE p.project_id = {m} AND p.seq < {m} AND p.to_stage IS NOT NULL "
                    "AND p.kind IN ('created', 'advanced', 'migrated') "
                    f"AND (p.kind <> 'migrated' OR p.from_stage {differs} p.to_stage) "
                    "ORDER BY p.seq DESC LIMIT 1)")
        self._insert_event = (
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}, from_entered_at) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(EVENT_COLUMNS))}, "
            f"CASE WHEN {m} THEN {previous} END)")
        self._due_kinds = (f"status = 'pending' AND due_at <= {m}",
                           f"status = 'running' AND lease_until < {m} AND due_at <= {m}")
        """What is due: pending follow-ups due by a time, and running ones due by it
        whose lease ran out before the real time (parameters: ``(due,)``, ``(expired,
        due)``)."""
        self._updates: dict[tuple[str, ...], str] = {}
        self._last_time: tuple[Any, Any] = (None, None)

    @staticmethod
    def _pg_time(value: datetime) -> datetime:
        return codec.utc(value)

    # transactions ------------------------------------------------------------------------

    def transaction(self, write: bool = True) -> _Transaction:
        """A DBAPI cursor inside a transaction (``with hot.transaction() as cursor``);
        commit on success, else roll back.

        The connection is checked out of the database's
        :class:`~bompao.storage.database.Connections` for this transaction and given back
        at its end; one that failed is discarded.

        Args:
            write: on SQLite, take the write lock at once (``BEGIN IMMEDIATE``);
                ``False`` reads with ``BEGIN DEFERRED``.

        Raises:
            DatabaseError: the database cannot be opened, or it failed (read-only,
                disk full, connection lost: the message says what).
            ConflictError: another writer held the lock past the busy timeout, or
                PostgreSQL chose this transaction as a deadlock's or a serialization
                failure's victim (nothing was written; try again).
        """
        return _Transaction(self, write)

    def open_cursor(self) -> Any:
        """The cursor of the transaction this thread has open on this path, or None.

        What must read inside a change (a journey version not compiled yet) reads
        through it rather than checking a second connection out of the pool: with every
        pooled connection held by a transaction waiting for a second one, none would
        ever be given back.
        """
        found = _OPEN.get()
        return found[1] if found is not None and found[0] is self else None

    def journey_source(self, cursor: Any, key: str, version: int | None = None
                       ) -> tuple[str, int, str] | None:
        """``(key, version, source)`` of a published journey (the latest when ``version``
        is None), read in ``cursor``'s transaction, or None."""
        m = self._mark
        if version is None:
            cursor.execute(f"SELECT key, version, source FROM journeys WHERE key = {m} "  # noqa: S608
                           "ORDER BY version DESC LIMIT 1", (key,))
        else:
            cursor.execute(f"SELECT key, version, source FROM journeys WHERE key = {m} "  # noqa: S608
                           f"AND version = {m}", (key, version))
        found = cursor.fetchone()
        return None if found is None else (str(found[0]), int(found[1]), str(found[2]))

    def close(self) -> None:
        """Nothing to give back: connections return to the pool after each transaction."""

    # encoding ----------------------------------------------------------------------------

    @property
    def mark(self) -> str:
        """The driver's parameter placeholder: ``?`` (sqlite3) or ``%s`` (psycopg)."""
        return self._mark

    def encode(self, column: str, value: Any) -> Any:
        """``value`` as the driver stores it in ``column`` (JSON text, a time).

        Raises:
            InvalidValue: a JSON column's value cannot be stored (NaN, infinity).
        """
        return self._encode(column, value)

    def _encode(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        kind = _KINDS.get(column)
        if kind is None:
            return value
        if kind is _JSON_KIND:
            return codec.dumps(value, f"the value of {column!r}")
        if value is self._last_time[0]:  # an advance stores one time in three columns
            return self._last_time[1]
        encoded = self._time(value)
        self._last_time = (value, encoded)
        return encoded

    def _row(self, values: Sequence[Any]) -> Project:
        if self.sqlite:  # JSON as text, times as naive UTC text: decode straight
            (pid, key, version, partner, cohort, name, stage, visit, fields, flags,
             assignments, evidence, approvals, lock, entered, created, updated) = values
            loads = codec.decode
            if len(entered) == len(created) == len(updated) == _NAIVE:  # as bompao writes
                return Project(pid, key, version, partner, cohort, name, stage, visit,
                               loads(fields), loads(flags), loads(assignments),
                               loads(evidence), loads(approvals), lock,
                               _from_iso(entered + "+00:00"), _from_iso(created + "+00:00"),
                               _from_iso(updated + "+00:00"))
            utc = codec.from_sqlite_time
            return Project(pid, key, version, partner, cohort, name, stage, visit,
                           loads(fields), loads(flags), loads(assignments), loads(evidence),
                           loads(approvals), lock, utc(entered), utc(created), utc(updated))
        row = list(values)  # psycopg decoded JSON with codec.loads already
        for index in _TIMES_AT:
            row[index] = self._pg_time(row[index])
        return Project(*row)

    # projects ----------------------------------------------------------------------------

    def read(self, cursor: Any, project_id: int) -> Project | None:
        """The project, or None."""
        cursor.execute(self._select_one, (project_id,))
        found = cursor.fetchone()
        return None if found is None else self._row(found)

    def read_many(self, cursor: Any, ids: list[int], *, lock: bool = False
                  ) -> dict[int, Project]:
        """Projects by id; ``lock`` takes row locks on PostgreSQL (``FOR UPDATE``)."""
        found: dict[int, Project] = {}
        for chunk in _chunks(sorted(ids)):  # sorted: row locks always taken in id order
            marks = ", ".join([self._mark] * len(chunk))
            sql = f"{self._select} WHERE id IN ({marks}) ORDER BY id"
            if lock and not self.sqlite:
                sql += " FOR UPDATE"
            cursor.execute(sql, tuple(chunk))
            found.update((row[0], self._row(row)) for row in cursor.fetchall())
        return found

    def list_projects(self, cursor: Any, *, journey: str | None = None,
                      stage: str | None = None, partner: str | None = None,
                      cohort: str | None = None, limit: int | None = None) -> list[Project]:
        """Projects matching every filter given, by id."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("journey_key", journey), ("stage", stage),
                              ("partner", partner), ("cohort", cohort)):
            if value is not None:
                where.append(f"{column} = {self._mark}")
                params.append(value)
        sql = self._select + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {self._mark}"
            params.append(int(limit))
        cursor.execute(sql, tuple(params))
        return [self._row(row) for row in cursor.fetchall()]

    def project_ids(self, cursor: Any) -> list[int]:
        """Every project id, ascending."""
        cursor.execute("SELECT id FROM projects ORDER BY id")
        return [int(row[0]) for row in cursor.fetchall()]

    def insert_project(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Insert a project (every column but ``id``) and return its new id.

        Raises:
            KeyError: a column is missing from ``values``.
            InvalidValue: a JSON value a database cannot hold (NaN, infinity).
        """
        cursor.execute(self._insert_project,
                       tuple(self._encode(c, values[c]) for c in _INSERTABLE))
        return int(cursor.fetchone()[0])

    def update_many(self, cursor: Any,
                    rows: Sequence[tuple[int, int, int, Mapping[str, Any]]]) -> bool:
        """Several locked updates with the same columns: (id, expected, new lock, values).

        Returns:
            Whether every row matched its expected lock version.

        Raises:
            ValueError: a column that is not an updatable project column.
            InvalidValue: a JSON value a database cannot hold (NaN, infinity).
        """
        if not rows:
            return True
        columns = tuple(rows[0][3])
        sql = self._update_sql(columns)
        cursor.executemany(sql, [
            (*(self._encode(c, values[c]) for c in columns), new, pid, expected)
            for pid, expected, new, values in rows])
        return bool(cursor.rowcount == len(rows))

    def _update_sql(self, columns: tuple[str, ...]) -> str:
        sql = self._updates.get(columns)
        if sql is None:
            unknown = set(columns) - _UPDATABLE
            if unknown:
                raise ValueError(f"not updatable project columns: {sorted(unknown)}")
            sets = "".join(f"{c} = {self._mark}, " for c in columns)
            sql = (f"UPDATE projects SET {sets}lock_version = {self._mark} "  # noqa: S608
                   f"WHERE id = {self._mark} AND lock_version = {self._mark}")
            self._updates[columns] = sql
        return sql

    def update(self, cursor: Any, project_id: int, expected_lock: int,
               values: Mapping[str, Any], new_lock: int | None = None) -> bool:
        """Update under the optimistic lock; False (nothing written) if the lock moved.

        The lock version becomes ``new_lock`` (default ``expected_lock + 1``): one
        more than the last event seq written with the change.

        Raises:
            ValueError: a column that is not an updatable project column.
            InvalidValue: a JSON value a database cannot hold (NaN, infinity).
        """
        columns = tuple(values)
        sql = self._update_sql(columns)
        params = [self._encode(c, values[c]) for c in columns]
        lock = expected_lock + 1 if new_lock is None else new_lock
        cursor.execute(sql, (*params, lock, project_id, expected_lock))
        return bool(cursor.rowcount == 1)

    def locks(self, cursor: Any, ids: list[int]) -> dict[int, int]:
        """Lock versions by project id, taking row locks on PostgreSQL (``FOR UPDATE``)."""
        found: dict[int, int] = {}
        for chunk in _chunks(sorted(ids)):  # sorted: row locks always taken in id order
            marks = ", ".join([self._mark] * len(chunk))
            sql = f"SELECT id, lock_version FROM projects WHERE id IN ({marks})"  # noqa: S608
            if not self.sqlite:
                sql += " ORDER BY id FOR UPDATE"
            cursor.execute(sql, tuple(chunk))
            found.update(cursor.fetchall())
        return found

    # events ------------------------------------------------------------------------------

    def _event_params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        get = row.get
        pid, seq = row["project_id"], row["seq"]
        return (pid, seq, row["kind"], self._encode("at", row["at"]),
                get("actor"), get("role"), get("from_stage"), get("to_stage"), get("trigger"),
                codec.dumps(get("payload") or {}, "the event payload"), _entry(row), pid, seq)

    def append_events(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append events (``seq`` given by the caller), in order, keeping stage visits.

        An event entering a stage (``created``, ``advanced``, a ``migrated`` that
        changes the stage) records when the project entered the stage it leaves
        (``from_entered_at``, read from the events before it): the visit it ends. A
        project may enter twice in one batch.

        Raises:
            InvalidValue: a payload a database cannot hold (NaN, infinity).
        """
        if len(rows) == 1:
            cursor.execute(self._insert_event, self._event_params(rows[0]))
        elif rows:
            cursor.executemany(self._insert_event, [self._event_params(row) for row in rows])

    def append_event(self, cursor: Any, values: Mapping[str, Any]) -> None:
        """Append one event (``seq`` given by the caller); see :meth:`append_events`.

        Raises:
            InvalidValue: a payload a database cannot hold (NaN, infinity).
        """
        cursor.execute(self._insert_event, self._event_params(values))

    def list_events(self, cursor: Any, project_id: int, until: datetime | None = None
                    ) -> list[tuple[Any, ...]]:
        """A project's events in seq order (at or before ``until``), as tuples in
        :data:`EVENT_COLUMNS` order, payload decoded and ``at`` an aware UTC time."""
        m = self._mark
        sql = (f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "  # noqa: S608
               f"WHERE project_id = {m}")
        params: tuple[Any, ...] = (project_id,)
        if until is not None:
            sql += f" AND at <= {m}"
            params = (project_id, self._encode("at", until))
        cursor.execute(sql + " ORDER BY seq", params)
        result = []
        for row in cursor.fetchall():
            values = list(row)
            values[_EVENT_TIME_AT] = self._read_time(values[_EVENT_TIME_AT])
            payload = values[_EVENT_JSON_AT]
            values[_EVENT_JSON_AT] = codec.loads(payload) if isinstance(
                payload, str | bytes) else payload
            result.append(tuple(values))
        return result

    def cohort_events(self, cursor: Any, journey: str, cohort: str | None,
                      kinds: Sequence[str]) -> list[CohortEvent]:
        """The events of ``kinds`` of a journey's projects in ``cohort`` (None: every
        cohort), in project and seq order, payload decoded: what
        :func:`bompao.storage.coaches.cohort_events` reads, in ``cursor``'s transaction
        (a gate reading ``rank`` inside an advance opens no second connection)."""
        m = self._mark
        kinds = list(kinds)
        sql = ("SELECT e.project_id, e.seq, e.actor, e.payload FROM events e "  # noqa: S608
               "JOIN projects p ON p.id = e.project_id "
               f"WHERE p.journey_key = {m} AND e.kind IN ({', '.join([m] * len(kinds))})")
        params: list[Any] = [journey, *kinds]
        if cohort is not None:
            sql += f" AND p.cohort = {m}"
            params.append(cohort)
        cursor.execute(sql + " ORDER BY e.project_id, e.seq", tuple(params))
        return [CohortEvent(pid, seq, actor, codec.loads(payload) if isinstance(
            payload, str | bytes) else payload) for pid, seq, actor, payload in cursor.fetchall()]

    # follow-ups --------------------------------------------------------------------------

    def plan(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert pending follow-ups (``status`` defaults to pending, ``attempts`` to 0)."""
        if rows:
            defaults = {"status": "pending", "attempts": 0}
            cursor.executemany(self._insert_follow_up, [
                tuple(self._encode(c, {**defaults, **row}.get(c)) for c in FOLLOW_UP_COLUMNS)
                for row in rows])

    def specs(self, cursor: Any, project_id: int, visit: int
              ) -> dict[str, list[tuple[str, int]]]:
        """The follow-ups planned in a stage visit: name → (status, occurrence) of each row."""
        m = self._mark
        cursor.execute(f"SELECT spec, status, occurrence FROM follow_ups "  # noqa: S608
                       f"WHERE project_id = {m} AND visit = {m}", (project_id, visit))
        found: dict[str, list[tuple[str, int]]] = {}
        for spec, status, occurrence in cursor.fetchall():
            found.setdefault(spec, []).append((status, occurrence))
        return found

    def cancel(self, cursor: Any, project_id: int, now: datetime,
               spec: str | None = None) -> int:
        """Cancel a project's pending follow-ups (only ``spec``'s when given)."""
        when = self._encode("finished_at", now)
        if spec is None:
            cursor.execute(self._cancel, (when, project_id))
        else:
            cursor.execute(self._cancel_spec, (when, project_id, spec))
        return int(cursor.rowcount)

    def list_follow_ups(self, cursor: Any, *, project: int | None = None,
                        due_by: datetime | None = None, status: str | None = None,
                        partner: str | None = None, limit: int | None = None
                        ) -> list[dict[str, Any]]:
        """Follow-ups soonest first, each with its project's ``journey_key``,
        ``journey_version`` and ``partner``; times as aware UTC datetimes."""
        m = self._mark
        where: list[str] = []
        params: list[Any] = []
        for condition, value in ((f"f.project_id = {m}", project),
                                 (f"f.status = 'pending' AND f.due_at <= {m}",
                                  None if due_by is None else self._encode("due_at", due_by)),
                                 (f"f.status = {m}", status), (f"p.partner = {m}", partner)):
            if value is not None:
                where.append(condition)
                params.append(value)
        columns = ", ".join(f"f.{c}" for c in _FOLLOW_UP_READ)
        sql = (f"SELECT {columns}, p.journey_key, p.journey_version, p.partner "  # noqa: S608
               "FROM follow_ups f JOIN projects p ON p.id = f.project_id"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY f.due_at, f.id")
        if limit is not None:
            sql += f" LIMIT {m}"
            params.append(int(limit))
        cursor.execute(sql, tuple(params))
        names = (*_FOLLOW_UP_READ, "journey_key", "journey_version", "partner")
        result = []
        for row in cursor.fetchall():
            found = dict(zip(names, row, strict=True))
            for name in _TIMES.intersection(found):
                if found[name] is not None:
                    found[name] = self._read_time(found[name])
            result.append(found)
        return result

    def claim(self, cursor: Any, owner: str, *, due_by: datetime, clock: datetime,
              lease_until: datetime, limit: int) -> list[dict[str, Any]]:
        """Claim up to ``limit`` follow-ups due by ``due_by``: pending ones, and running
        ones whose lease ran out by ``clock`` (the real time, whatever ``due_by`` says).

        Oldest first. On PostgreSQL rows other daemons hold are skipped
        (``FOR UPDATE SKIP LOCKED``); on SQLite the write transaction is the only writer.
        """
        m = self._mark
        skip = "" if self.sqlite else " FOR UPDATE SKIP LOCKED"
        claimed: list[dict[str, Any]] = []
        due = self._encode("due_at", due_by)
        expired = self._encode("lease_until", clock)
        for condition in self._due_kinds:
            params = (due,) if condition is self._due_kinds[0] else (expired, due)
            room = limit - len(claimed)
            if room <= 0:
                break
            sql = (f"UPDATE follow_ups SET status = 'running', lease_owner = {m}, "  # noqa: S608
                   f"lease_until = {m}, attempts = attempts + 1 WHERE id IN (SELECT id FROM "
                   f"follow_ups WHERE {condition} ORDER BY due_at, id LIMIT {m}{skip}) "
                   f"RETURNING {', '.join(_CLAIMED)}")
            cursor.execute(sql, (owner, self._encode("lease_until", lease_until), *params,
                                 room))
            claimed.extend(self._claims(cursor.fetchall(), 0))
        claimed.sort(key=lambda r: (r["due_at"], r["id"]))
        return claimed

    def due(self, cursor: Any, *, due_by: datetime, clock: datetime, limit: int
            ) -> list[dict[str, Any]]:
        """What :meth:`claim` would claim, read without writing anything: for a caller
        holding SQLite's write lock (``BEGIN IMMEDIATE``), which then closes each row with
        :meth:`close_due` or claims it with :meth:`take` in the same transaction.

        Each row's ``attempts`` counts the attempt being made (as a claim's does).
        """
        m = self._mark
        found: list[dict[str, Any]] = []
        due = self._encode("due_at", due_by)
        expired = self._encode("lease_until", clock)
        kinds = 0
        for condition in self._due_kinds:
            params = (due,) if condition is self._due_kinds[0] else (expired, due)
            room = limit - len(found)
            if room <= 0:
                break
            cursor.execute(f"SELECT {', '.join(_CLAIMED)} FROM follow_ups "  # noqa: S608
                           f"WHERE {condition} ORDER BY due_at, id LIMIT {m}", (*params, room))
            rows = cursor.fetchall()
            if rows:
                kinds += 1
                found.extend(self._claims(rows, 1))
        if kinds > 1:  # pending ones and expired leases: one due order
            found.sort(key=lambda r: (r["due_at"], r["id"]))
        return found

    def _claims(self, rows: list[Any], attempt: int) -> list[dict[str, Any]]:
        """Claimed or due rows as dicts, ``due_at`` decoded, ``attempt`` added to
        ``attempts``."""
        read_time = self._read_time
        times: dict[Any, datetime] = {}  # a catch-up claims many due at the same time
        found = []
        for fid, pid, stage, visit, spec, occurrence, action, due_at, attempts, key in rows:
            due = times.get(due_at)
            if due is None:
                due = times[due_at] = read_time(due_at)
            found.append({"id": fid, "project_id": pid, "stage": stage, "visit": visit,
                          "spec": spec, "occurrence": occurrence, "action": action,
                          "due_at": due, "attempts": attempts + attempt,
                          "idempotency_key": key})
        return found

    def take(self, cursor: Any, ids: Sequence[int], owner: str, lease_until: datetime
             ) -> None:
        """Claim follow-ups :meth:`due` read in this transaction: running under ``owner``
        until ``lease_until``, their attempt counted."""
        m = self._mark
        until = self._encode("lease_until", lease_until)
        for chunk in _chunks(ids):
            cursor.execute(f"UPDATE follow_ups SET status = 'running', lease_owner = {m}, "  # noqa: S608
                           f"lease_until = {m}, attempts = attempts + 1 WHERE id IN "
                           f"({', '.join([m] * len(chunk))})", (owner, until, *chunk))

    def close_due(self, cursor: Any, finished_at: datetime,
                  groups: Mapping[tuple[str, str | None], Sequence[int]]) -> None:
        """Finish follow-ups :meth:`due` read in this transaction, never claimed: each group
        (status, last_error) → ids gets its status, error and finish time, its attempt
        counted and any (expired) lease cleared, in one statement per group.

        Straight from pending to done, a follow-up's row and index entries change once
        (claiming then finishing it would change them twice, and add and remove a lease).
        """
        m = self._mark
        when = self._encode("finished_at", finished_at)
        for (status, error), ids in groups.items():
            for chunk in _chunks(ids):
                cursor.execute(
                    f"UPDATE follow_ups SET status = {m}, finished_at = {m}, "  # noqa: S608
                    f"last_error = {m}, attempts = attempts + 1, lease_owner = NULL, "
                    f"lease_until = NULL WHERE id IN ({', '.join([m] * len(chunk))})",
                    (status, when, error, *chunk))

    def owned(self, cursor: Any, ids: list[int], owner: str) -> set[int]:
        """Which of ``ids`` this owner still holds (locked on PostgreSQL)."""
        held: set[int] = set()
        for chunk in _chunks(sorted(ids)):  # sorted: row locks always taken in id order
            marks = ", ".join([self._mark] * len(chunk))
            sql = (f"SELECT id FROM follow_ups WHERE id IN ({marks}) AND status = 'running' "  # noqa: S608
                   f"AND lease_owner = {self._mark}")
            if not self.sqlite:
                sql += " ORDER BY id FOR UPDATE"
            cursor.execute(sql, (*chunk, owner))
            held.update(row[0] for row in cursor.fetchall())
        return held

    def finish(self, cursor: Any, rows: list[tuple[str, datetime, str | None, int]]) -> None:
        """Set (status, finished_at, last_error) of follow-ups by id; clears the lease."""
        m = self._mark
        sql = (f"UPDATE follow_ups SET status = {m}, finished_at = {m}, last_error = {m}, "  # noqa: S608
               f"lease_owner = NULL, lease_until = NULL WHERE id = {m}")
        cursor.executemany(sql, [(s, self._encode("finished_at", t), e, i)
                                 for s, t, e, i in rows])

    def release(self, cursor: Any, ids: list[int], owner: str) -> None:
        """Give claimed follow-ups back (pending again, attempt not counted)."""
        m = self._mark
        cursor.executemany(
            f"UPDATE follow_ups SET status = 'pending', lease_owner = NULL, "  # noqa: S608
            f"lease_until = NULL, attempts = attempts - 1 WHERE id = {m} AND lease_owner = {m} "
            "AND status = 'running'", [(i, owner) for i in ids])

    def next_due(self, cursor: Any) -> datetime | None:
        """The earliest due time of a pending follow-up, or None."""
        cursor.execute("SELECT MIN(due_at) FROM follow_ups WHERE status = 'pending'")
        found = cursor.fetchone()
        return self._read_time(found[0]) if found and found[0] is not None else None
