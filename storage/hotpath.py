"""The hot path: read a project, update it under its lock and append an event, on the DBAPI.

Everything else in bompao goes through SQLAlchemy Core. A project change (an
advance above all) is three statements that run thousands of times a second, and
building, caching and executing Core statements costs several times what SQLite
itself spends on them, so these three run as fixed SQL text straight on the
driver's connection (taken from SQLAlchemy's pool). The SQL is static: column names
come from :data:`PROJECT_COLUMNS`, never from callers' data, and every value is a
bound parameter. Values are encoded exactly as the Core types store them.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from ..errors import ConflictError
from .database import Database
from .urls import connect_failure

__all__ = ["EVENT_COLUMNS", "FOLLOW_UP_COLUMNS", "PROJECT_COLUMNS", "HotPath", "ProjectRow"]

PROJECT_COLUMNS = ("id", "journey_key", "journey_version", "partner", "cohort", "name",
                   "stage", "visit", "fields", "flags", "assignments", "evidence",
                   "approvals", "lock_version", "stage_entered_at", "created_at",
                   "updated_at")
FOLLOW_UP_COLUMNS = ("project_id", "stage", "visit", "spec", "occurrence", "action", "due_at",
                     "status", "attempts", "idempotency_key", "created_at")
EVENT_COLUMNS = ("project_id", "seq", "kind", "at", "actor", "role", "from_stage",
                 "to_stage", "trigger", "payload")
_JSON = frozenset({"fields", "flags", "assignments", "evidence", "approvals", "payload"})
_TIMES = frozenset({"stage_entered_at", "created_at", "updated_at", "at", "due_at",
                    "lease_until", "finished_at"})
_RETRYABLE = frozenset({"40P01", "40001"})
"""PostgreSQL's deadlock_detected and serialization_failure: the caller may retry."""
_CLAIMED = ("id", "project_id", "stage", "visit", "spec", "occurrence", "action", "due_at",
            "attempts", "idempotency_key")
_UPDATABLE = frozenset(PROJECT_COLUMNS) - {"id", "lock_version"}
_JSON_AT = tuple(i for i, c in enumerate(PROJECT_COLUMNS) if c in _JSON)
_TIMES_AT = tuple(i for i, c in enumerate(PROJECT_COLUMNS) if c in _TIMES)


def _utc_time(value: str | datetime) -> datetime:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _sqlite_utc(value: str) -> datetime:
    """A time as SQLite holds it (naive UTC text) as an aware UTC datetime."""
    if len(value) <= 26:  # no offset: parsing one in is three times faster than replace()
        return datetime.fromisoformat(value + "+00:00")
    return _utc_time(value)


class ProjectRow(NamedTuple):
    """A ``projects`` row with JSON decoded and times as aware UTC datetimes.

    A named tuple rather than a frozen dataclass: the dispatcher builds thousands a
    second, and a tuple is built several times faster. Change one with ``_replace``.
    """

    id: int
    journey_key: str
    journey_version: int
    partner: str | None
    cohort: str | None
    name: str
    stage: str
    visit: int
    fields: dict[str, Any]
    flags: list[str]
    assignments: dict[str, list[str]]
    evidence: dict[str, Any]
    approvals: dict[str, list[dict[str, Any]]]
    lock_version: int
    stage_entered_at: datetime
    created_at: datetime
    updated_at: datetime


class HotPath:
    """Project reads and locked writes on the raw driver connection.

    Args:
        db: the database whose pool the connections come from.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = db.dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self._mark = mark
        self._select = (f"SELECT {', '.join(PROJECT_COLUMNS)} FROM projects "  # noqa: S608
                        f"WHERE id = {mark}")
        self._insert_event = (f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608
                              f"VALUES ({', '.join([mark] * len(EVENT_COLUMNS))})")
        self._insert_follow_up = (
            f"INSERT INTO follow_ups ({', '.join(FOLLOW_UP_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([mark] * len(FOLLOW_UP_COLUMNS))})")
        self._cancel = (f"UPDATE follow_ups SET status = 'cancelled', "  # noqa: S608
                        f"finished_at = {mark} WHERE project_id = {mark} AND status = 'pending'")
        self._cancel_spec = f"{self._cancel} AND spec = {mark}"
        self._updates: dict[tuple[str, ...], str] = {}
        self._last_time: tuple[Any, Any] = (None, None)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._held: list[Any] = []
        self._dbapi_error: type[Exception] = db.engine.dialect.loaded_dbapi.Error
        if not self.sqlite:
            from psycopg.types.json import Jsonb  # noqa: PLC0415 - only PostgreSQL needs it

            self._jsonb = functools.partial(Jsonb, dumps=orjson.dumps)

    def _connection(self) -> Any:
        raw = getattr(self._local, "raw", None)
        if raw is None:
            try:
                raw = self.db.engine.raw_connection()
            except sa.exc.DBAPIError as exc:
                raise connect_failure(self.db.engine.url, self.db.url_display, exc) from None
            self._local.raw = raw
            with self._lock:
                self._held.append(raw)
        return raw

    def _drop(self, raw: Any) -> None:
        self._local.raw = None
        with self._lock:
            if raw in self._held:
                self._held.remove(raw)
        with contextlib.suppress(Exception):
            raw.invalidate()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A DBAPI cursor inside a write transaction; commit on success, else roll back.

        Each thread keeps one pooled connection between transactions (checking one
        out and back in costs as much as an UPDATE); a connection that failed is
        discarded.

        Raises:
            DatabaseError: the database cannot be opened.
            ConflictError: PostgreSQL chose this transaction as a deadlock's or a
                serialization failure's victim (nothing was written; retry).
        """
        raw = self._connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                raw.rollback()
                raise
            raw.commit()
        except self._dbapi_error as exc:
            self._drop(raw)
            if getattr(exc, "sqlstate", None) in _RETRYABLE:
                raise ConflictError("another change to the same projects ran at the same "
                                    "moment; nothing was written: retry") from None
            raise

    def close(self) -> None:
        """Return every held connection to the pool."""
        with self._lock:
            held, self._held = self._held, []
        for raw in held:
            with contextlib.suppress(Exception):
                raw.close()
        self._local = threading.local()

    def _encode(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in _JSON:
            return orjson.dumps(value).decode() if self.sqlite else self._jsonb(value)
        if column in _TIMES:
            if value is self._last_time[0]:
                return self._last_time[1]
            if value.tzinfo is None:
                raise ValueError(f"refusing naive datetime {value.isoformat()}")
            utc = value.astimezone(UTC)
            encoded = utc.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite \
                else utc
            self._last_time = (value, encoded)
            return encoded
        return value

    def _row(self, values: Sequence[Any]) -> ProjectRow:
        if self.sqlite:  # JSON as text, times as naive UTC text: decode straight
            (pid, key, version, partner, cohort, name, stage, visit, fields, flags,
             assignments, evidence, approvals, lock, entered, created, updated) = values
            loads = orjson.loads
            return ProjectRow(pid, key, version, partner, cohort, name, stage, visit,
                              loads(fields), loads(flags), loads(assignments), loads(evidence),
                              loads(approvals), lock, _sqlite_utc(entered),
                              _sqlite_utc(created), _sqlite_utc(updated))
        row = list(values)
        for index in _JSON_AT:
            value = row[index]
            if isinstance(value, str | bytes):
                row[index] = orjson.loads(value)
        for index in _TIMES_AT:
            if row[index] is not None:
                row[index] = _utc_time(row[index])
        return ProjectRow(*row)

    def _decode(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in _JSON:
            return orjson.loads(value) if isinstance(value, str | bytes) else value
        if column in _TIMES:
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def read(self, cursor: Any, project_id: int) -> ProjectRow | None:
        """The project, or None."""
        cursor.execute(self._select, (project_id,))
        found = cursor.fetchone()
        return None if found is None else self._row(found)

    def update_many(self, cursor: Any,
                    rows: Sequence[tuple[int, int, int, Mapping[str, Any]]]) -> bool:
        """Several locked updates with the same columns: (id, expected, new lock, values).

        Returns:
            Whether every row matched its expected lock version.

        Raises:
            ValueError: a column that is not an updatable project column.
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
            sets = ", ".join(f"{c} = {self._mark}" for c in columns)
            sql = (f"UPDATE projects SET {sets}, lock_version = {self._mark} "  # noqa: S608
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
        """
        columns = tuple(values)
        sql = self._update_sql(columns)
        params = [self._encode(c, values[c]) for c in columns]
        lock = expected_lock + 1 if new_lock is None else new_lock
        cursor.execute(sql, (*params, lock, project_id, expected_lock))
        return bool(cursor.rowcount == 1)

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

    def read_many(self, cursor: Any, ids: list[int], *, lock: bool = False
                  ) -> dict[int, ProjectRow]:
        """Projects by id; ``lock`` takes row locks on PostgreSQL (``FOR UPDATE``)."""
        if not ids:
            return {}
        marks = ", ".join([self._mark] * len(ids))
        sql = (f"SELECT {', '.join(PROJECT_COLUMNS)} FROM projects "  # noqa: S608
               f"WHERE id IN ({marks}) ORDER BY id")
        if lock and not self.sqlite:
            sql += " FOR UPDATE"
        cursor.execute(sql, tuple(ids))
        return {row[0]: self._row(row) for row in cursor.fetchall()}

    def locks(self, cursor: Any, ids: list[int]) -> dict[int, int]:
        """Lock versions by project id, taking row locks on PostgreSQL (``FOR UPDATE``)."""
        if not ids:
            return {}
        marks = ", ".join([self._mark] * len(ids))
        sql = f"SELECT id, lock_version FROM projects WHERE id IN ({marks})"  # noqa: S608
        if not self.sqlite:
            sql += " ORDER BY id FOR UPDATE"
        cursor.execute(sql, tuple(ids))
        return dict(cursor.fetchall())

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
        for condition, params in (
                (f"status = 'pending' AND due_at <= {m}", (due,)),
                (f"status = 'running' AND lease_until < {m} AND due_at <= {m}",
                 (expired, due))):
            room = limit - len(claimed)
            if room <= 0:
                break
            sql = (f"UPDATE follow_ups SET status = 'running', lease_owner = {m}, "  # noqa: S608
                   f"lease_until = {m}, attempts = attempts + 1 WHERE id IN (SELECT id FROM "
                   f"follow_ups WHERE {condition} ORDER BY due_at, id LIMIT {m}{skip}) "
                   "RETURNING id, project_id, stage, visit, spec, occurrence, action, due_at, "
                   "attempts, idempotency_key")
            cursor.execute(sql, (owner, self._encode("lease_until", lease_until), *params,
                                 room))
            utc = _sqlite_utc if self.sqlite else _utc_time
            for row in cursor.fetchall():
                found = dict(zip(_CLAIMED, row, strict=True))
                found["due_at"] = utc(found["due_at"])
                claimed.append(found)
        claimed.sort(key=lambda r: (r["due_at"], r["id"]))
        return claimed

    def owned(self, cursor: Any, ids: list[int], owner: str) -> set[int]:
        """Which of ``ids`` this owner still holds (locked on PostgreSQL)."""
        if not ids:
            return set()
        marks = ", ".join([self._mark] * len(ids))
        sql = (f"SELECT id FROM follow_ups WHERE id IN ({marks}) AND status = 'running' "  # noqa: S608
               f"AND lease_owner = {self._mark}")
        if not self.sqlite:
            sql += " FOR UPDATE"
        cursor.execute(sql, (*ids, owner))
        return {row[0] for row in cursor.fetchall()}

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
        return self._decode("due_at", found[0]) if found and found[0] is not None else None

    def _event_params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        get = row.get
        return (row["project_id"], row["seq"], row["kind"], self._encode("at", row["at"]),
                get("actor"), get("role"), get("from_stage"), get("to_stage"), get("trigger"),
                self._encode("payload", get("payload") or {}))

    def append_events(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert several events at once."""
        if rows:
            cursor.executemany(self._insert_event, [self._event_params(row) for row in rows])

    def append_event(self, cursor: Any, values: Mapping[str, Any]) -> None:
        """Insert one event (``seq`` given by the caller)."""
        cursor.execute(self._insert_event, self._event_params(values))
