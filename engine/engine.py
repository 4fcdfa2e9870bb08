"""The Engine facade: projects moving through journeys, one transaction per change.

Every change reads the project row, checks scope, roles and gates on what it read,
updates the row with an optimistic lock (``lock_version``) and appends one event
whose ``seq`` is the new lock version, so each project's history is gap-free. A
lost race raises :class:`~bompao.errors.ConflictError` and writes nothing.

A caller that read the project first may pass the lock version it read as
``expected_version`` (the web API's ``If-Match``): the change is then refused with
:class:`~bompao.errors.StaleError` when the row is at another version, checked on the
row read in the change's own transaction and again by the optimistic update itself, so
a change never lands on a state its caller did not see.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from bompao.definitions import (
    CompiledJourney,
    CompiledTransition,
    GateContext,
    JourneyCatalog,
    Source,
    compile_source,
    load_yaml,
)
from bompao.definitions.extends import parse_ref
from bompao.definitions.functions import CelFunction
from bompao.definitions.messages import Joined, Message
from bompao.definitions.values import MAX_TEXT
from bompao.engine.actions import ActionRegistry
from bompao.engine.actor import SYSTEM, Actor, approval_counts, clean_name, person_key
from bompao.engine.gates import GateReport, criteria_dicts
from bompao.engine.history import Event, replay
from bompao.engine.indicators import indicator_spec, parse_period, parse_value, summaries
from bompao.engine.planning import at_fields, next_row, plan_rows
from bompao.engine.reminders import AT_RISK, after_measure
from bompao.errors import (
    ConflictError,
    GateRefused,
    InvalidValue,
    NotFound,
    PermissionDenied,
    StaleError,
    UsageError,
)
from bompao.storage import Database, repository
from bompao.storage.hotpath import HotPath
from bompao.storage.records import Project
from bompao.storage.tables import FOLLOW_UP_STATUSES

if TYPE_CHECKING:
    from bompao.definitions.machine import Firing

__all__ = ["Clock", "Engine", "Listener", "Project"]

log = logging.getLogger("bompao.engine")
_T = TypeVar("_T")
Clock = Callable[[], datetime]
Listener = Callable[..., None]
LISTENER_KINDS = ("stage_entered", "stage_exited", "gate_refused", "override", "created",
                  "migrated", "changed")
"""What :meth:`Engine.on` listens to; ``changed`` fires once for every committed change
of a project (its ``kind`` is the event's kind), whoever makes it."""


_NO_INDICATORS: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
_NO_APPROVALS: Mapping[str, int] = MappingProxyType({})


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Cold(Exception):  # a signal inside the engine, never raised out of it
    """A change's transaction read a row whose journey version is not compiled yet."""

    def __init__(self, key: str, version: int) -> None:
        super().__init__(f"{key}@{version}")
        self.key = key
        self.version = version


@dataclass(frozen=True, slots=True)
class _Route:
    """What is static about firing one trigger from one stage of one journey version,
    worked out on the first advance that takes this way and kept for every later one."""

    transition: CompiledTransition
    intake: bool
    """The journey scores or coaches: its gates may read ``score.*``, ``sessions.*``."""


@dataclass
class _Change:
    """One pending change of one project inside a transaction."""

    values: dict[str, Any]
    event: dict[str, Any]
    after: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cancel: bool = False
    """Cancel every pending follow-up of the project (it leaves its stage)."""
    cancel_specs: tuple[str, ...] = ()
    """Cancel the pending follow-ups with these names (their date field changed)."""
    plan: CompiledJourney | None = None
    """Plan the follow-ups of the stage the project is in after the change."""
    plan_only: tuple[str, ...] | None = None
    respec: CompiledJourney | None = None
    """Same stage, new journey version: cancel what it dropped, plan what it added."""


class Engine:
    """Run journeys for projects stored in one database.

    Args:
        db: the database.
        clock: returns the current aware datetime (inject one for tests and demos).
        catalog: where journeys not yet published are found (the bundled ones by default).
    """

    def __init__(self, db: Database, *, clock: Clock | None = None,
                 catalog: JourneyCatalog | None = None) -> None:
        self.db = db
        self.hot = HotPath(db)
        self.clock: Clock = clock or _utc_now
        self.catalog = catalog or JourneyCatalog()
        self._journeys: dict[tuple[str, int], CompiledJourney] = {}
        self._routes: dict[tuple[int, str, str], tuple[CompiledJourney, _Route]] = {}
        """By (id of the compiled journey, stage, trigger); the journey is kept with its
        route, so that its id is not another's while the entry lives."""
        self._listeners: dict[str, list[Listener]] = {kind: [] for kind in LISTENER_KINDS}
        self.actions = ActionRegistry()

    @classmethod
    def from_url(cls, url: str, clock: Clock | None = None, *,
                 catalog: JourneyCatalog | None = None, create: bool = True) -> Engine:
        """Open the database at ``url``; with ``create``, create or upgrade its schema.

        Raises:
            DatabaseError: the database cannot be reached or is not a bompao database.
            SchemaVersionError: the schema is newer than this bompao, or outdated
                (run ``bompao init``).
        """
        db = Database.from_url(url)
        if create and db.schema_status() in ("empty", "outdated"):
            db.upgrade()
        db.require_current()
        return cls(db, clock=clock, catalog=catalog)

    def init(self) -> list[tuple[str, int]]:
        """Create or upgrade the schema and publish the catalog's journeys.

        Returns:
            The ``(key, version)`` of every journey now published from the catalog.
        """
        self.db.upgrade()
        published = []
        for key, version in sorted(self.catalog.entries()):
            entry = self.catalog.entry(key, version)
            published.append(self._publish_source(entry.source))
        return published

    def close(self) -> None:
        """Release the database connections."""
        self.hot.close()
        self.db.dispose()

    def now(self) -> datetime:
        """The clock's time, checked to be aware."""
        now = self.clock()
        if now.tzinfo is None:
            raise UsageError("the engine's clock returned a naive datetime; "
                             "return an aware one, e.g. datetime.now(UTC)")
        return now.astimezone(UTC)

    # listeners ---------------------------------------------------------------------------

    def on(self, kind: str, listener: Listener) -> Listener:
        """Call ``listener(**event)`` after a committed change of ``kind``.

        Kinds (see docs/embedding.md for each one's arguments): ``stage_entered``,
        ``stage_exited``, ``gate_refused``, ``override``, ``created`` (a project was
        created or imported), ``migrated`` (moved to another journey version) and
        ``changed`` (every committed change of a project, whoever makes it:
        ``project``, ``kind`` — the event's kind — and ``actor``).

        Raises:
            UsageError: an unknown kind.
        """
        if kind not in self._listeners:
            raise UsageError(f"unknown listener kind {kind!r}; kinds: "
                             f"{', '.join(LISTENER_KINDS)}")
        self._listeners[kind].append(listener)
        return listener

    def register_function(self, function: CelFunction) -> None:
        """Let gate expressions call a custom CEL function (before journeys that use it load).

        Plugins can also publish functions through the ``bompao.cel_functions`` entry
        point group.
        """
        self.catalog.add_function(function)
        self._journeys.clear()
        self._routes.clear()

    def register_action(self, name: str, action: Callable[..., str | None], *,
                        in_process: bool = False) -> None:
        """Register a plugin follow-up action: ``action(ctx: ActionContext) -> str | None``.

        Raise :class:`~bompao.engine.actions.ActionFailed` from it to fail the run.
        Plugins can also be published through the ``bompao.actions`` entry point group.

        Args:
            name: the action's name in journeys.
            action: the callable.
            in_process: the action changes nothing outside this process (no message,
                no request, no file): on SQLite it is run and recorded in one transaction,
                so a kill before that commits leaves no trace and the run happens again,
                once. Leave it False for anything with an effect outside: such a run's
                outcome is committed right after it, and a kill in between repeats it
                (with the same idempotency key).
        """
        self.actions.register(name, action, in_process=in_process)

    def _emit(self, kind: str, /, **data: Any) -> None:
        """Call the listeners of ``kind``; the change is committed, so a listener's error
        is logged, not raised."""
        for listener in self._listeners[kind]:
            try:
                listener(**data)
            except Exception:
                log.exception("a %s listener failed", kind)

    # journeys ----------------------------------------------------------------------------

    def publish(self, path_or_text: str | Path) -> tuple[str, int]:
        """Validate and store a journey version (a path or YAML text).

        Publishing the same content again is a no-op; different content under a
        published ``(key, version)`` is refused.

        Raises:
            DefinitionError: the journey is invalid.
            ConflictError: the version is published with different content.
        """
        if isinstance(path_or_text, Path) or (
                "\n" not in str(path_or_text) and Path(str(path_or_text)).is_file()):
            from bompao.definitions.catalog import read_file  # noqa: PLC0415

            path = Path(path_or_text)
            source = load_yaml(read_file(path), str(path))
        else:
            source = load_yaml(str(path_or_text), "<text>")
        return self._publish_source(source)

    def _resolve(self, key: str, version: int) -> Source:
        cursor = self.hot.open_cursor()
        if cursor is not None:  # inside a change: read through its connection
            found = self.hot.journey_source(cursor, key, version)
            if found is not None:
                return load_yaml(found[2], f"{key}@{version}")
            return self.catalog.resolve(key, version)
        with self.db.begin(write=False) as conn:
            row = repository.get_journey(conn, key, version)
        if row is not None:
            return load_yaml(row.source, f"{key}@{version}")
        return self.catalog.resolve(key, version)

    def _publish_source(self, source: Source) -> tuple[str, int]:
        compiled = compile_source(source, resolve=self._resolve,
                                  functions=self.catalog.functions)
        if compiled.doc.extends:
            base_key, base_version = parse_ref(compiled.doc.extends)
            self._publish_source(self._resolve(base_key, base_version or 1))
        digest = hashlib.sha256(source.text.encode()).hexdigest()
        with self.db.begin() as conn:
            row = repository.get_journey(conn, compiled.key, compiled.version)
            if row is not None:
                if row.sha256 != digest:
                    raise ConflictError(Message("conflict.published", ref=compiled.ref))
                return compiled.key, compiled.version
            repository.insert_journey(conn, {
                "key": compiled.key, "version": compiled.version,
                "partner": compiled.partner, "title": dict(compiled.title or {}),
                "extends": compiled.doc.extends, "source": source.text, "sha256": digest,
                "published_at": self.now()})
        self._journeys[(compiled.key, compiled.version)] = compiled
        return compiled.key, compiled.version

    def journey(self, key: str, version: int | None = None, *,
                publish: bool = True) -> CompiledJourney:
        """The compiled journey ``key@version`` (latest published when None), compiled once.

        A journey not yet published but known to the catalog is published first, unless
        ``publish`` is False: then it is compiled from the catalog and nothing is written
        (what a dry run needs). Publishing opens its own transaction: call this before
        a change's transaction opens, never inside one.

        Raises:
            NotFound: no such journey.
        """
        if version is not None:
            cached = self._journeys.get((key, version))
            if cached is not None:
                return cached
        cursor = self.hot.open_cursor()
        if cursor is not None:
            return self._journey_in(cursor, key, version)
        with self.db.begin(write=False) as conn:
            row = repository.get_journey(conn, key, version)
        if row is None:
            try:
                entry = self.catalog.entry(key, version)
            except NotFound:
                with self.db.begin(write=False) as conn:
                    rows = repository.list_journeys(conn)
                known = sorted({f"{r.key}@{r.version}" for r in rows}
                               | {f"{k}@{v}" for k, v in self.catalog.entries()})
                wanted = key if version is None else f"{key}@{version}"
                raise NotFound(Message("journey.unknown_known", name=wanted, known=", ".join(
                    known) if known else Message("none"))) from None
            if not publish:  # not cached: a later call must still publish it
                return compile_source(entry.source, resolve=self._resolve,
                                      functions=self.catalog.functions)
            self._publish_source(entry.source)
            return self._journeys[(entry.key, entry.version)]
        cached = self._journeys.get((row.key, row.version))
        if cached is None:
            cached = compile_source(load_yaml(row.source, f"{row.key}@{row.version}"),
                                    resolve=self._resolve,
                                    functions=self.catalog.functions)
            self._journeys[(row.key, row.version)] = cached
        return cached

    def _journey_in(self, cursor: Any, key: str, version: int | None) -> CompiledJourney:
        """:meth:`journey` called inside a transaction this thread holds: read through
        its cursor, never a second pooled connection (every thread holding one and
        waiting for another would exhaust the pool), and publish nothing (a publish
        is a transaction of its own: on SQLite it would wait on this one's lock).

        Raises:
            NotFound: no such journey published or in the catalog.
        """
        found = self.hot.journey_source(cursor, key, version)
        if found is None:
            entry = self.catalog.entry(key, version)
            return compile_source(entry.source, resolve=self._resolve,
                                  functions=self.catalog.functions)
        found_key, found_version, text = found
        cached = self._journeys.get((found_key, found_version))
        if cached is None:
            cached = compile_source(load_yaml(text, f"{found_key}@{found_version}"),
                                    resolve=self._resolve, functions=self.catalog.functions)
            self._journeys[(found_key, found_version)] = cached
        return cached

    def _compiled(self, key: str, version: int) -> CompiledJourney:
        """The compiled ``key@version`` of a row read inside a change's transaction.

        Raises:
            _Cold: not compiled yet; the caller leaves its transaction, compiles it
                with :meth:`journey` and starts again.
        """
        found = self._journeys.get((key, version))
        if found is None:
            raise _Cold(key, version)
        return found

    def _warm(self, run: Callable[[bool], _T]) -> _T:
        """Run ``run(cold_ok)`` (a change in its own transaction); when it finds a
        journey version not compiled yet (:class:`_Cold`), roll back, compile it
        outside any transaction and run again. A cache cleared meanwhile again and
        again (``register_function``) ends in a run that compiles inside, through the
        transaction's own connection."""
        for _ in range(3):
            try:
                return run(False)
            except _Cold as cold:
                self.journey(cold.key, cold.version)
        return run(True)

    def list_journeys(self) -> list[dict[str, Any]]:
        """Every published journey version."""
        with self.db.begin(write=False) as conn:
            rows = repository.list_journeys(conn)
        return [{"journey": r.key, "version": r.version, "partner": r.partner,
                 "title": r.title, "extends": r.extends, "sha256": r.sha256,
                 "published_at": r.published_at.isoformat()} for r in rows]

    # projects ----------------------------------------------------------------------------

    def create_project(self, journey: str, name: str, partner: str | None = None,  # noqa: PLR0917
                       cohort: str | None = None, fields: Mapping[str, Any] | None = None,
                       actor: Actor | None = None) -> Project:
        """Start a project at its journey's initial stage.

        Args:
            journey: ``KEY`` (latest published version) or ``KEY@VERSION``.
            name: the project's name.
            partner: the partner organisation (defaults to a scoped actor's partner).
            cohort: the cohort it belongs to.
            fields: initial field values (checked against the declared types).
            actor: who creates it.

        Raises:
            NotFound: the journey is unknown.
            InvalidValue: an unknown field or a value of the wrong type; an empty name.
            PermissionDenied: a partner-scoped actor creating for another partner.
        """
        if not name or not name.strip():
            raise InvalidValue(Message("value.project_name"))
        _check_text(name=name, partner=partner, cohort=cohort)
        if actor is not None and actor.partner is not None:
            if partner is not None and partner != actor.partner:
                raise PermissionDenied(Message("permission.create_for_partner", who=actor.name,
                                               scope=actor.partner, partner=partner))
            partner = actor.partner
        key, version = parse_ref(journey)
        compiled = self.journey(key, version)
        values = {**compiled.defaults(), **compiled.coerce_fields(fields or {})}
        now = self.now()
        stage = compiled.initial
        with self.hot.transaction() as cursor:
            project = self._insert_project(cursor, compiled, {
                "journey_key": compiled.key, "journey_version": compiled.version,
                "partner": partner, "cohort": cohort, "name": name.strip(), "stage": stage,
                "visit": 1, "fields": values, "flags": [], "assignments": {}, "evidence": {},
                "approvals": {}, "lock_version": 1, "stage_entered_at": now,
                "created_at": now, "updated_at": now}, now=now, actor=actor)
        self._emit("created", project=project, imported=False, actor=actor)
        self._emit("stage_entered", project=project, stage=stage, trigger=None, actor=actor)
        self._emit("changed", project=project, kind="created", actor=actor)
        return project

    def _insert_project(self, cursor: Any, compiled: CompiledJourney,
                        values: Mapping[str, Any], *, now: datetime, actor: Actor | None,
                        imported: bool = False) -> Project:
        """Insert a project at ``values["stage"]``, its ``created`` event (dated when it
        entered the stage) and the stage's follow-ups: what creating and importing share.

        Raises:
            InvalidValue: a value a database cannot hold.
        """
        entered, stage = values["stage_entered_at"], values["stage"]
        project_id = self.hot.insert_project(cursor, values)
        payload: dict[str, Any] = {
            "journey": compiled.key, "version": compiled.version, "name": values["name"],
            "partner": values["partner"], "cohort": values["cohort"],
            "fields": values["fields"]}
        if imported:
            payload.update({"imported": True, "flags": values["flags"],
                            "assignments": values["assignments"],
                            "evidence": values["evidence"],
                            "stage_entered_at": entered.isoformat(),
                            "created_at": values["created_at"].isoformat()})
        self.hot.append_event(cursor, {
            "project_id": project_id, "seq": 1, "kind": "created", "at": entered,
            "actor": _name(actor), "to_stage": stage, "payload": payload})
        self.hot.plan(cursor, plan_rows(compiled, stage, project=project_id, visit=1,
                                        entered_at=entered, fields=values["fields"],
                                        revision=1, now=now))
        return Project(project_id, **values)

    def _row(self, cursor: Any, project_id: int, actor: Actor | None) -> Project:
        row = self.hot.read(cursor, project_id)
        if row is None or (actor is not None and not actor.can_see(row.partner)):
            raise NotFound(Message("project.not_found", id=project_id))
        return row

    def get(self, project_id: int, actor: Actor | None = None) -> Project:
        """The project as stored now.

        Raises:
            NotFound: no such project (or not within the actor's partner scope).
        """
        with self.hot.transaction(write=False) as cursor:
            return self._row(cursor, project_id, actor)

    def list_projects(self, *, journey: str | None = None, stage: str | None = None,
                      partner: str | None = None, cohort: str | None = None,
                      actor: Actor | None = None, limit: int | None = None) -> list[Project]:
        """Projects matching every filter given (and the actor's partner scope)."""
        if actor is not None and actor.partner is not None:
            if partner is not None and partner != actor.partner:
                return []
            partner = actor.partner
        with self.hot.transaction(write=False) as cursor:
            return self.hot.list_projects(cursor, journey=journey, stage=stage,
                                          partner=partner, cohort=cohort, limit=limit)

    _hot_row = _row

    def _change(self, project_id: int, actor: Actor | None,
                build: Callable[..., _Change], *, with_cursor: bool = False,
                expected_version: int | None = None) -> Project:
        """Build and write one change; with ``with_cursor``, ``build`` also gets the
        transaction's cursor (to read what the row does not hold, e.g. measurements).

        Raises:
            StaleError: ``expected_version`` is given and the row is at another version
                (when read, or when written: a writer committed in between).
        """
        now = self.now()

        def run(cold_ok: bool) -> tuple[Project, _Change]:
            with self.hot.transaction() as cursor:
                row = self._hot_row(cursor, project_id, actor)
                if expected_version is not None and row.lock_version != expected_version:
                    raise StaleError(Message("conflict.stale", id=project_id,
                                             now=row.lock_version, expected=expected_version))
                compiled = self.journey(row.journey_key, row.journey_version) if cold_ok \
                    else self._compiled(row.journey_key, row.journey_version)
                change = build(row, compiled, now, cursor) if with_cursor \
                    else build(row, compiled, now)
                return self._write(cursor, row, change, now,
                                   stale=expected_version is not None), change

        project, change = self._warm(run)
        listeners = self._listeners
        for kind, data in change.after:
            if listeners[kind]:
                self._emit(kind, project=project, **data)
        if listeners["changed"]:
            self._emit("changed", project=project, kind=change.event["kind"], actor=actor)
        return project

    def _write(self, cursor: Any, row: Project, change: _Change, now: datetime, *,
               stale: bool = False) -> Project:
        """Write ``change`` under the optimistic lock of the version ``row`` was read at.

        Raises:
            ConflictError: the row moved on meanwhile (:class:`StaleError` with
                ``stale``: the caller named the version it expected).
        """
        lock = row.lock_version
        values = {**change.values, "updated_at": now}
        if not self.hot.update(cursor, row.id, lock, values):
            if stale:
                current = self.hot.read(cursor, row.id)
                raise StaleError(Message("conflict.stale", id=row.id, expected=lock,
                                         now=current.lock_version if current else "?"))
            raise ConflictError(Message("conflict.changed", id=row.id))
        self.hot.append_event(cursor, {"project_id": row.id, "seq": lock + 1, "at": now,
                                       **change.event})
        after = row._replace(**values, lock_version=lock + 1)
        if change.cancel:
            self.hot.cancel(cursor, row.id, now)
        cancel_specs, plan, plan_only = change.cancel_specs, change.plan, change.plan_only
        resumed: list[dict[str, Any]] = []
        if change.respec is not None:
            cancel_specs, plan_only, resumed = self._respec(cursor, after, change.respec,
                                                            lock + 1, now)
            plan = change.respec
        for spec in cancel_specs:
            self.hot.cancel(cursor, row.id, now, spec)
        if plan is not None:
            self.hot.plan(cursor, plan_rows(
                plan, after.stage, project=row.id, visit=after.visit,
                entered_at=after.stage_entered_at, fields=after.fields, revision=lock + 1,
                now=now, only=plan_only) + resumed)
        return after

    def _respec(self, cursor: Any, after: Project, journey: CompiledJourney,
                revision: int, now: datetime
                ) -> tuple[tuple[str, ...], tuple[str, ...], list[dict[str, Any]]]:
        """Same stage, another journey version: what to cancel, what to plan from its
        first occurrence, and the next occurrences of recurring ones to resume.

        A follow-up with a pending (or running) row keeps it. One the version drops is
        cancelled. One without a live row is planned from the start if it never ran in
        this visit (new in this version, or dropped by a version it came back from),
        resumed after its last run if it recurs, and left alone if it ran once.
        """
        planned = self.hot.specs(cursor, after.id, after.visit)
        live = {spec for spec, rows in planned.items()
                if any(status in ("pending", "running") for status, _ in rows)}
        follow_ups = {f.name: f for f in journey.stages[after.stage].follow_ups}
        cancel = tuple(spec for spec in live if spec not in follow_ups)
        fresh: list[str] = []
        resumed: list[dict[str, Any]] = []
        for name, follow_up in follow_ups.items():
            if name in live:
                continue
            ran = [occurrence for status, occurrence in planned.get(name, [])
                   if status in ("done", "failed")]
            if not ran:
                fresh.append(name)
                continue
            found = next_row(journey, follow_up, project=after.id, visit=after.visit,
                             occurrence=max(ran), entered_at=after.stage_entered_at,
                             fields=after.fields, revision=revision, now=now)
            if found is not None:
                resumed.append(found)
        return cancel, tuple(fresh), resumed

    def set_fields(self, project_id: int, values: Mapping[str, Any],
                   actor: Actor | None = None, *,
                   expected_version: int | None = None) -> Project:
        """Set field values (checked against the declared types).

        Raises:
            NotFound: no such project.
            InvalidValue: an unknown field or a wrong type (the message names both).
            ConflictError: the project changed meanwhile.
            StaleError: ``expected_version`` is given and the project is at another.
        """
        if not values:
            raise InvalidValue(Message("value.no_fields"))

        def build(row: Project, compiled: CompiledJourney, _now: datetime) -> _Change:
            changed = compiled.coerce_fields(values)
            dated = at_fields(compiled, row.stage)
            replan = tuple(spec for name in changed
                           if changed[name] != row.fields.get(name)
                           for spec in dated.get(name, ()))
            return _Change({"fields": {**row.fields, **changed}},
                           {"kind": "fields_set", "actor": _name(actor),
                            "payload": {"fields": changed}},
                           cancel_specs=replan, plan=compiled if replan else None,
                           plan_only=replan)

        return self._change(project_id, actor, build, expected_version=expected_version)

    def add_evidence(self, project_id: int, name: str, url: str | None = None,
                     note: str | None = None, actor: Actor | None = None, *,
                     expected_version: int | None = None) -> Project:
        """Attach a declared evidence item (a link, a note, or both).

        Raises:
            NotFound: no such project.
            InvalidValue: the journey declares no such evidence item, or neither url nor note.
            StaleError: ``expected_version`` is given and the project is at another.
        """
        if url is None and note is None:
            raise InvalidValue(Message("value.evidence_empty", name=name))
        _check_text(evidence=name, url=url, note=note)

        def build(row: Project, compiled: CompiledJourney, now: datetime) -> _Change:
            if name not in compiled.evidence:
                known = ", ".join(sorted(compiled.evidence)) or Message("none")
                raise InvalidValue(Message("value.evidence_unknown", name=name,
                                           ref=compiled.ref, known=known))
            item = {"url": url, "note": note, "by": _name(actor), "at": now.isoformat()}
            return _Change({"evidence": {**row.evidence, name: item}},
                           {"kind": "evidence_added", "actor": _name(actor),
                            "payload": {"name": name, "url": url, "note": note}})

        return self._change(project_id, actor, build, expected_version=expected_version)

    def approve(self, project_id: int, role: str, by: str | None = None,
                actor: Actor | None = None, *,
                expected_version: int | None = None) -> Project:
        """Record an approval of the project in ``role`` (counted since stage entry).

        With an ``actor`` the approval is the actor's own: the actor must hold ``role``,
        its name is recorded, and ``by`` may only repeat that name (one person cannot
        approve in another's name). Without an actor the caller is trusted (the
        operator's script or CLI) and ``by`` names the approver. Names are compared as
        :func:`~bompao.engine.actor.person_key` does, so a quorum counts distinct people:
        the same person approving twice in one stage visit is refused.

        Raises:
            NotFound: no such project (or outside the actor's partner scope).
            InvalidValue: the journey has no such role, or no approver's name is given.
            PermissionDenied: the actor does not hold ``role``, or ``by`` names someone
                else than the actor.
            ConflictError: that person has already approved in this role and stage visit.
            StaleError: ``expected_version`` is given and the project is at another.
        """
        if actor is not None:
            if by is not None and by.strip() and person_key(by) != person_key(actor.name):
                raise PermissionDenied(Message("permission.approve_as_other", who=actor.name,
                                               by=by))
            by = actor.name
        if not by or not clean_name(by):
            raise InvalidValue(Message("value.approver"))
        _check_text(approver=by)
        approver = clean_name(by)

        def build(row: Project, compiled: CompiledJourney, now: datetime) -> _Change:
            _check_role(compiled, role)
            if actor is not None and not actor.holds(role):
                raise PermissionDenied(Message(
                    "permission.approve_role", who=actor.name, role=role,
                    roles=", ".join(sorted(actor.roles)) or Message("no_role")))
            current = list(row.approvals.get(role, []))
            if any(person_key(entry["by"]) == person_key(approver) for entry in current):
                raise ConflictError(Message("conflict.approved", who=approver, id=row.id,
                                            role=role, stage=row.stage))
            current.append({"by": approver, "at": now.isoformat()})
            return _Change({"approvals": {**row.approvals, role: current}},
                           {"kind": "approved", "actor": approver, "role": role,
                            "payload": {"role": role, "by": approver}})

        return self._change(project_id, actor, build, expected_version=expected_version)

    def assign(self, project_id: int, role: str, person: str,
               actor: Actor | None = None, *,
               expected_version: int | None = None) -> Project:
        """Assign ``person`` to ``role`` on the project (e.g. a coach).

        When the journey declares ``assign_roles``, an ``actor`` must hold one of them
        (a call without an actor is a trusted caller, as for :meth:`approve`).

        Raises:
            NotFound: no such project (or outside the actor's partner scope).
            InvalidValue: the journey has no such role, or ``person`` is empty.
            PermissionDenied: the journey restricts assigning and the actor holds none
                of its ``assign_roles``.
            StaleError: ``expected_version`` is given and the project is at another.
        """
        if not person or not clean_name(person):
            raise InvalidValue(Message("value.person"))
        _check_text(person=person)
        person = clean_name(person)

        def build(row: Project, compiled: CompiledJourney, _now: datetime) -> _Change:
            _check_role(compiled, role)
            allowed = frozenset(compiled.doc.assign_roles)
            if actor is not None and allowed and not actor.roles & allowed:
                raise PermissionDenied(Message(
                    "permission.assign", ref=compiled.ref, allowed=", ".join(sorted(allowed)),
                    who=actor.name, roles=", ".join(sorted(actor.roles)) or Message("no_role")))
            if compiled.doc.scoring is not None and role == compiled.doc.scoring.role:
                from bompao.engine.selection import check_reviewer  # noqa: PLC0415

                check_reviewer(self, compiled, row, person)  # no conflicted reviewer
            people = list(row.assignments.get(role, []))
            # the same person spelt otherwise keeps the spelling first recorded
            who = next((p for p in people if person_key(p) == person_key(person)), person)
            if who not in people:
                people.append(who)
            return _Change({"assignments": {**row.assignments, role: people}},
                           {"kind": "assigned", "actor": _name(actor), "role": role,
                            "payload": {"role": role, "person": who}})

        return self._change(project_id, actor, build, expected_version=expected_version)

    def flag(self, project_id: int, flag: str, *, on: bool = True,
             actor: Actor | None = None) -> Project:
        """Set (or clear, with ``on=False``) a flag such as ``at_risk``.

        Raises:
            NotFound: no such project.
            InvalidValue: the flag is empty, too long or holds a NUL character.
        """
        if not flag or not flag.strip():
            raise InvalidValue(Message("value.flag"))
        _check_text(flag=flag)

        def build(row: Project, _compiled: CompiledJourney, _now: datetime) -> _Change:
            flags = sorted({*row.flags, flag}) if on else [f for f in row.flags if f != flag]
            return _Change({"flags": flags},
                           {"kind": "flagged" if on else "unflagged", "actor": _name(actor),
                            "payload": {"flag": flag}})

        return self._change(project_id, actor, build)

    # indicators --------------------------------------------------------------------------

    def measure(self, project_id: int, indicator: str, period: str | None,
                value: Any, *, note: str | None = None, actor: Actor | None = None,
                text: bool = False) -> Project:
        """Record ``value`` of ``indicator`` for ``period`` as a ``measured`` event.

        A second value for a period is a correction: a new event, the later one counting
        (history keeps both). With an ``actor``, it must hold the indicator's ``owner``
        role when the journey names one (a call without an actor is a trusted caller).

        Args:
            project_id: the project.
            indicator: a declared indicator.
            period: ``2027-03``, ``2027-Q1``, ``2027-H1`` or ``2027`` as the indicator's
                rhythm names periods; None: the current period.
            value: an int, float or bool (with ``text``, the text to parse).
            note: a note kept with the value.
            actor: who reports it.
            text: parse ``value`` from text, as the CLI receives it.

        Raises:
            NotFound: no such project (or outside the actor's partner scope).
            InvalidValue: an unknown indicator, a value of the wrong type (NaN and
                infinity too), a period outside the rhythm or not begun yet.
            PermissionDenied: the actor does not hold the owner role.
            ConflictError: the project changed meanwhile; nothing was written.
        """
        _check_text(note=note)

        def build(row: Project, compiled: CompiledJourney, now: datetime,
                  cursor: Any) -> _Change:
            spec = indicator_spec(compiled, indicator)
            stored = parse_value(indicator, spec, value, text=text)
            start = parse_period(indicator, spec, period, now, compiled.timezone)
            if actor is not None and spec.owner is not None and not actor.holds(spec.owner):
                raise PermissionDenied(Message("indicator.owner_only", name=indicator,
                                               role=spec.owner, actor=actor.name,
                                               roles=actor.describe_roles()))
            label = spec.every.label(start)
            by, role = _name(actor), spec.owner if actor is not None else None
            payload: dict[str, Any] = {"indicator": indicator, "period": label,
                                       "value": stored, "note": note}
            event = {"kind": "measured", "actor": by, "role": role, "payload": payload}
            # the reminder of the period is cancelled; an at-risk flag it set may clear
            recorded = Event(row.id, row.lock_version + 1, "measured", now, by, role, None,
                             None, None, payload)
            if not after_measure(self.hot, cursor, row, compiled, indicator, start,
                                 recorded, now):
                return _Change({}, event)
            payload["unflagged"] = AT_RISK
            return _Change({"flags": [f for f in row.flags if f != AT_RISK]}, event)

        return self._change(project_id, actor, build, with_cursor=True)

    def indicators(self, project_id: int, *, at: datetime | None = None,
                   actor: Actor | None = None) -> dict[str, dict[str, Any]]:
        """Each indicator's ``total``, ``latest``, ``periods``, ``missing``, ``progress``
        and ``values`` (``[{period, value, at, by, note}]``), from the events up to
        ``at`` (default: now), as CEL and ``project indicators`` see them.

        Raises:
            NotFound: no such project (or outside the actor's partner scope).
            InvalidValue: ``at`` is naive.
        """
        if at is not None and at.tzinfo is None:
            raise InvalidValue("give an aware time, e.g. 2026-03-01T09:00:00+07:00")
        with self.hot.transaction(write=False) as cursor:
            row = self._row(cursor, project_id, actor)
            events = [Event(*r) for r in self.hot.list_events(cursor, project_id, until=at)]
        state = replay(events) if at is not None else row
        if state is None:
            raise NotFound(f"project {project_id} did not exist yet at {at}")
        compiled = self.journey(state.journey_key, state.journey_version)
        return summaries(compiled, events, at or self.now())

    def _measured(self, cursor: Any, row: Project, compiled: CompiledJourney,
                  names: frozenset[str], now: datetime) -> dict[str, dict[str, Any]]:
        """The summaries of ``names`` for a gate (nothing read when ``names`` is empty)."""
        if not names:
            return {}
        if cursor is None:
            with self.hot.transaction(write=False) as reading:
                rows = self.hot.list_events(reading, row.id)
        else:
            rows = self.hot.list_events(cursor, row.id)
        return summaries(compiled, (Event(*r) for r in rows), now, names)

    # gates and transitions ---------------------------------------------------------------

    def _context(self, row: Project, now: datetime,
                 indicators: Mapping[str, Mapping[str, Any]] | None = None,
                 intake: Mapping[str, Any] | None = None) -> GateContext:
        return GateContext(
            fields=row.fields, evidence=row.evidence,
            approvals=approval_counts(row.approvals) if row.approvals else _NO_APPROVALS,
            entered_at=row.stage_entered_at, now=now, indicators=indicators or _NO_INDICATORS,
            intake=intake or _NO_INDICATORS)

    def _intake(self, cursor: Any, row: Project, compiled: CompiledJourney,
                transition: Any) -> dict[str, Any]:
        """``score.*``, ``rank``, ``sessions.*`` for a gate (see engine/selection.py)."""
        if compiled.doc.scoring is None and compiled.doc.coaching is None:
            return {}
        from bompao.engine.selection import gate_values  # noqa: PLC0415

        return gate_values(self, cursor, row, compiled, transition)

    def _report(self, row: Project, compiled: CompiledJourney, trigger: str,
                now: datetime, lang: str = "en") -> GateReport:
        """Every branch's gate, evaluated without firing (what ``check`` shows)."""
        transition = compiled.transition(row.stage, trigger)
        context = self._context(row, now, self._measured(None, row, compiled,
                                                         transition.indicators, now),
                                self._intake(None, row, compiled, transition))
        tried = [(branch, branch.evaluate(context, compiled))
                 for branch in compiled.branches(row.stage, trigger)]
        return GateReport.of_branches(tried, project=row.id, trigger=trigger,
                                      from_stage=row.stage, lang=lang)

    def check(self, project_id: int, trigger: str | None = None, *,
              actor: Actor | None = None, lang: str = "en") -> GateReport:
        """Evaluate a transition's gate now, without changing anything.

        Args:
            project_id: the project.
            trigger: the transition; when None, the stage's only (or first) trigger.
            actor: scope of the caller.
            lang: language of the criteria texts.

        Raises:
            NotFound: no such project, or the journey has no such trigger.
            TriggerNotOffered: the project's stage does not offer the trigger (a refusal).
        """
        now = self.now()
        row = self.get(project_id, actor)
        compiled = self.journey(row.journey_key, row.journey_version)
        if trigger is None:
            triggers = compiled.triggers(row.stage)
            if not triggers:
                raise NotFound(Message("project.final_stage", id=project_id, stage=row.stage))
            trigger = triggers[0]
        return self._report(row, compiled, trigger, now, lang)

    def checks(self, project_id: int, *, actor: Actor | None = None,
               lang: str = "en") -> list[GateReport]:
        """Gate reports for every trigger the project's stage offers."""
        project = self.get(project_id, actor)
        compiled = self.journey(project.journey, project.version)
        return [self.check(project_id, t, actor=actor, lang=lang)
                for t in compiled.triggers(project.stage)]

    def advance(self, project_id: int, trigger: str, actor: Actor | None = None, *,
                role: str | None = None, override: bool = False,
                reason: str | None = None, expected_version: int | None = None) -> Project:
        """Fire ``trigger``: check roles and the gate on the state read, then move.

        Args:
            project_id: the project.
            trigger: the transition's trigger.
            actor: who fires it; its roles are checked against the transition's ``roles``.
            role: the role the actor acts in (must be one of its roles when given).
            override: pass a gate that is not met (only roles the journey allows to
                override; needs ``reason``; recorded as an override).
            reason: why the gate is overridden.
            expected_version: the lock version the caller read; another is refused
                (:class:`~bompao.errors.StaleError`), checked in the change's transaction.

        Raises:
            NotFound: no such project, or the journey has no such trigger.
            TriggerNotOffered: the project's stage does not offer the trigger (a refusal).
            PermissionDenied: the actor lacks a role the transition (or override) needs.
            GateRefused: the gate is not met; ``.report`` says what is missing.
            InvalidValue: an override without a reason.
            ConflictError: the project changed meanwhile; nothing was written.
            StaleError: ``expected_version`` is given and the project is at another.
        """
        if override and not (reason and reason.strip()):
            raise InvalidValue(Message("value.reason"))
        refused: list[GateReport] = []

        def build(row: Project, compiled: CompiledJourney, now: datetime,
                  cursor: Any) -> _Change:
            change = self._advance_change(row, compiled, trigger, actor, role, override,
                                          reason, now, cursor=cursor)
            if isinstance(change, GateReport):
                refused.append(change)
                raise GateRefused(_refusal(change), change)
            return change

        try:
            return self._change(project_id, actor, build, with_cursor=True,
                                expected_version=expected_version)
        except GateRefused:
            if refused:
                self._emit("gate_refused", project_id=project_id, report=refused[0],
                           actor=actor)
            raise

    def _advance_change(self, row: Any, compiled: CompiledJourney,  # noqa: PLR0917
                        trigger: str,
                        actor: Actor | None, role: str | None, override: bool,
                        reason: str | None, now: datetime, *,
                        system: bool = False, cursor: Any = None) -> _Change | GateReport:
        """The change ``trigger`` makes to ``row``, or the report of the gate refusing it.

        The journey's state machine resolves the trigger in the row's stage and fires it
        on a per-call model: the first branch whose gate passes is taken, the stages'
        exit and entry callbacks collect what to cancel and plan. The dispatcher calls
        this too (``system=True``: a follow-up's transition, no role checks, ``override``
        meaning its ``force``).

        ``cursor`` is the change's transaction, in which the measurements a gate reads
        are read (see :mod:`bompao.engine.indicators`); without one, they are read in a
        transaction of their own.

        Raises:
            NotFound: the trigger is not offered in the row's stage.
            PermissionDenied: the actor lacks a role the transition (or override) needs.
        """
        route = self._route(compiled, row.stage, trigger)
        transition = route.transition
        measured = self._measured(cursor, row, compiled, transition.indicators, now) \
            if transition.indicators else None
        intake = self._intake(cursor, row, compiled, transition) if route.intake else None
        if system:
            return self._system_change(row, compiled, trigger, override, reason, now,
                                       measured, intake)
        roles = frozenset(actor.roles) if actor is not None else frozenset()
        if role is not None:
            if actor is None or role not in roles:
                raise PermissionDenied(Message("permission.role_not_held", role=role,
                                               who=_name(actor) or Message("who.anonymous")))
            roles = frozenset({role})
        if transition.roles is not None and not roles & transition.roles:
            raise PermissionDenied(Message(
                "permission.trigger_roles", trigger=trigger,
                roles=", ".join(sorted(transition.roles)),
                who=_name(actor) or Message("who.caller"),
                acting=", ".join(sorted(roles)) or Message("no_role")))
        context = self._context(row, now, measured, intake)
        firing = compiled.fire(row.stage, trigger, context)
        refused: GateReport | None = None
        if firing.taken is None:
            refused = self._refused(row, trigger, firing)
            if not override:
                return refused
            if not roles & transition.override_roles:
                allowed = ", ".join(sorted(transition.override_roles)) or Message("no_role")
                raise PermissionDenied(Message("permission.override", trigger=trigger,
                                               allowed=allowed))
            firing = compiled.fire(row.stage, trigger, context, force=True)
        # the role recorded is the authority used: for an override, a role that may override
        candidates = sorted(roles & (transition.roles or roles))
        if refused is not None:
            candidates = sorted(set(candidates) & transition.override_roles) or sorted(
                roles & transition.override_roles)
        acting_role = role or (candidates[0] if candidates else None)
        after = self._moved(row, firing, trigger, actor) if self._listened() else []
        if refused is not None and after:
            after.insert(0, ("override", {"trigger": trigger, "reason": reason,
                                          "report": refused, "actor": actor}))
        return self._move(row, compiled, firing, refused, reason,
                          {"actor": _name(actor), "role": acting_role, "trigger": trigger},
                          after)

    def _route(self, compiled: CompiledJourney, stage: str, trigger: str) -> _Route:
        """The :class:`_Route` of ``trigger`` from ``stage`` (resolved by the machine once).

        Raises:
            NotFound: the trigger is unknown, or not offered from ``stage``.
        """
        key = (id(compiled), stage, trigger)
        found = self._routes.get(key)
        if found is not None and found[0] is compiled:
            return found[1]
        route = _Route(compiled.transition(stage, trigger),
                       compiled.doc.scoring is not None or compiled.doc.coaching is not None)
        if self._journeys.get((compiled.key, compiled.version)) is compiled:
            self._routes[key] = (compiled, route)  # a dry run's target is not kept
        return route

    def _listened(self) -> bool:
        """Whether a listener waits for a stage's exit or entry or an override (when none
        does, an advance builds no listener calls)."""
        listeners = self._listeners
        return bool(listeners["stage_exited"] or listeners["stage_entered"]
                    or listeners["override"])

    @staticmethod
    def _moved(row: Any, firing: Firing, trigger: str, actor: Actor | None
               ) -> list[tuple[str, dict[str, Any]]]:
        """The listener calls of a firing that moved ``row``: exit, then entry."""
        return [("stage_exited", {"stage": row.stage, "trigger": trigger, "actor": actor}),
                ("stage_entered", {"stage": str(firing.state), "trigger": trigger,
                                   "actor": actor})]

    @staticmethod
    def _refused(row: Any, trigger: str, firing: Firing) -> GateReport:
        """The report of a firing in which no branch's gate passed."""
        return GateReport.of_branches(firing.tried, project=row.id, trigger=trigger,
                                      from_stage=row.stage)

    def _system_change(self, row: Any, compiled: CompiledJourney,  # noqa: PLR0917
                       trigger: str, force: bool, reason: str | None,
                       now: datetime, measured: Mapping[str, Mapping[str, Any]] | None = None,
                       intake: Mapping[str, Any] | None = None) -> _Change | GateReport:
        """A transition fired by a follow-up: no role checks; ``force`` takes the first
        branch when no gate passes."""
        context = self._context(row, now, measured, intake)
        firing = compiled.fire(row.stage, trigger, context)
        refused: GateReport | None = None
        if firing.taken is None:
            refused = self._refused(row, trigger, firing)
            if not force:
                return refused
            firing = compiled.fire(row.stage, trigger, context, force=True)
        return self._move(row, compiled, firing, refused, reason,
                          {"actor": SYSTEM.name, "role": None, "trigger": trigger,
                           "follow_up": True},
                          self._moved(row, firing, trigger, SYSTEM) if self._listened() else [])

    @staticmethod
    def _move(row: Any, compiled: CompiledJourney, firing: Firing,  # noqa: PLR0917
              refused: GateReport | None, reason: str | None, who: dict[str, Any],
              after: list[tuple[str, dict[str, Any]]]) -> _Change:
        """The change a fired transition makes: the event records the gate it passed (the
        taken branch's; the refused report's when overridden) and, for a transition with
        branches, which branch was taken; the callbacks said what to cancel and plan."""
        taken = firing.taken
        assert taken is not None
        overridden = refused is not None
        _, result = firing.tried[-1]
        gate = [c.as_dict() for c in refused.criteria] if refused is not None \
            else criteria_dicts(result)
        payload: dict[str, Any] = {"override": overridden, "gate": gate}
        if firing.branched:
            payload["branch"] = {"index": taken.index, "to": taken.dest}
        if who.get("follow_up"):
            payload["follow_up"] = True
        if refused is not None:
            payload["reason"] = reason
            payload["missing"] = [c.says for c in refused.missing]
        event = {"kind": "advanced", "actor": who["actor"], "role": who["role"],
                 "from_stage": row.stage, "to_stage": taken.dest, "trigger": who["trigger"],
                 "payload": payload}
        values = {"stage": taken.dest, "visit": row.visit + 1,
                  "stage_entered_at": firing.context.now}
        if row.approvals:  # a stage's approvals end with it (no column to write if none)
            values["approvals"] = {}
        return _Change(values, event, after, cancel=firing.cancel,
                       plan=compiled if firing.plan else None)

    def advance_many(self, project_ids: Sequence[int], trigger: str,
                     actor: Actor | None = None, *, role: str | None = None) -> list[Project]:
        """Advance a cohort in one transaction: every project moves, or none does.

        Raises:
            GateRefused: some gate is not met (the message lists the projects).
            NotFound, PermissionDenied, ConflictError: as :meth:`advance`; nothing written.
        """
        now = self.now()
        ids = list(dict.fromkeys(project_ids))

        refused: list[GateReport] = []

        def run(cold_ok: bool) -> tuple[list[tuple[Project, _Change]], dict[int, Project]]:
            refused.clear()
            results: list[tuple[Project, _Change]] = []
            moved: dict[int, Project] = {}
            with self.hot.transaction() as cursor:
                for project_id in sorted(ids):  # one lock order for every writer
                    row = self._hot_row(cursor, project_id, actor)
                    compiled = self.journey(row.journey_key, row.journey_version) \
                        if cold_ok else self._compiled(row.journey_key, row.journey_version)
                    change = self._advance_change(row, compiled, trigger, actor, role, False,
                                                  None, now, cursor=cursor)
                    if isinstance(change, GateReport):
                        refused.append(change)
                    else:
                        results.append((row, change))
                if refused:
                    listing = Joined((Message("gate.refused_one", project=r.project,
                                              missing=Joined(r.missing_texts()))
                                      for r in refused[:10]), "; ")
                    more = Message("gate.and_more", count=len(refused) - 10) \
                        if len(refused) > 10 else ""
                    raise GateRefused(Message("gate.refused_many", refused=len(refused),
                                              total=len(ids), trigger=trigger,
                                              listing=listing, more=more), refused[0])
                for row, change in results:
                    moved[row.id] = self._write(cursor, row, change, now)
            return results, moved

        try:
            results, moved = self._warm(run)
        except GateRefused:
            for report in refused:  # once the transaction gave its connection back
                self._emit("gate_refused", project_id=report.project, report=report,
                           actor=actor)
            raise
        for row, change in results:
            for kind, data in change.after:
                self._emit(kind, project=moved[row.id], **data)
            self._emit("changed", project=moved[row.id], kind=change.event["kind"],
                       actor=actor)
        return [moved[i] for i in ids]

    # history -----------------------------------------------------------------------------

    def history(self, project_id: int, actor: Actor | None = None) -> list[Event]:
        """The project's events, oldest first.

        Raises:
            NotFound: no such project.
        """
        with self.hot.transaction(write=False) as cursor:
            self._row(cursor, project_id, actor)
            rows = self.hot.list_events(cursor, project_id)
        return [Event(*r) for r in rows]

    def state_at(self, project_id: int, when: datetime,
                 actor: Actor | None = None) -> Project:
        """The project as it was at ``when``, rebuilt from its events.

        Raises:
            NotFound: no such project, or it did not exist yet at ``when``.
            InvalidValue: ``when`` is naive.
        """
        if when.tzinfo is None:
            raise InvalidValue(Message("value.aware_time"))
        with self.hot.transaction(write=False) as cursor:
            self._row(cursor, project_id, actor)
            rows = self.hot.list_events(cursor, project_id, until=when)
        state = replay(Event(*r) for r in rows)
        if state is None:
            raise NotFound(Message("project.not_yet", id=project_id, when=when.isoformat()))
        return state

    # migration ---------------------------------------------------------------------------

    def migrate(self, project_id: int, to_version: int, mapping: Mapping[str, str] | None = None,
                *, dry_run: bool = False, actor: Actor | None = None) -> dict[str, Any]:
        """Move a project to another version of its journey.

        Its stage keeps its name unless ``mapping`` maps it (``OLD=NEW``); fields the new
        version does not declare are dropped and listed. The target version is resolved
        (and, for a real migration, published from the catalog) before the change's
        transaction opens, so a migration never waits on its own publish. A dry run
        writes nothing at all: it reads the project, compiles the target (without
        publishing it) and returns the plan.

        Listeners: ``migrated`` and ``changed`` (and, when the stage changes,
        ``stage_exited`` and ``stage_entered`` with ``trigger=None``).

        Raises:
            NotFound: no such project or version.
            ConflictError: the stage has no counterpart in the new version (the message
                lists the problems), or the project changed meanwhile; nothing is written.
        """
        mapping = dict(mapping or {})
        current = self.get(project_id, actor)
        target = self.journey(current.journey, to_version, publish=not dry_run)
        if dry_run:
            return _migration_plan(current, target, mapping, dry_run=True)
        plan: dict[str, Any] = {}

        def build(row: Project, _compiled: CompiledJourney, _now: datetime) -> _Change:
            if row.journey_key != target.key:  # pragma: no cover - a key never changes
                raise ConflictError(Message("conflict.changed_journey", id=row.id))
            plan.update(_migration_plan(row, target, mapping, dry_run=False))
            stage = plan["to_stage"]
            moved = stage != row.stage
            values: dict[str, Any] = {"journey_version": to_version, "stage": stage,
                                      "fields": plan["fields"]}
            after: list[tuple[str, dict[str, Any]]] = [
                ("migrated", {"from_version": row.journey_version, "to_version": to_version,
                              "actor": actor})]
            if moved:
                values.update({"visit": row.visit + 1, "approvals": {},
                               "stage_entered_at": _now})
                after += [("stage_exited", {"stage": row.stage, "trigger": None,
                                            "actor": actor}),
                          ("stage_entered", {"stage": stage, "trigger": None,
                                             "actor": actor})]
            return _Change(values, {"kind": "migrated", "actor": _name(actor),
                                    "from_stage": row.stage, "to_stage": stage,
                                    "payload": dict(plan)}, after,
                           cancel=moved, plan=target if moved else None,
                           respec=None if moved else target)

        self._change(project_id, actor, build)
        return plan

    def list_follow_ups(self, *, project: int | None = None, due_by: datetime | None = None,
                        status: str | None = None, actor: Actor | None = None,
                        limit: int | None = 1000) -> list[dict[str, Any]]:
        """Follow-ups, soonest first; times shown in each journey's timezone.

        Args:
            project: only this project's.
            due_by: only pending ones due at or before this time.
            status: only this status (pending, running, done, failed, cancelled).
            actor: scope of the caller.
            limit: at most this many (None: all).

        Raises:
            InvalidValue: an unknown status.
            NotFound: the project does not exist (or is out of the actor's scope).
        """
        if status is not None and status not in FOLLOW_UP_STATUSES:
            raise InvalidValue(Message("value.status", status=status,
                                       known=", ".join(FOLLOW_UP_STATUSES)))
        if project is not None:
            self.get(project, actor)
        with self.hot.transaction(write=False) as cursor:
            rows = self.hot.list_follow_ups(
                cursor, project=project, due_by=due_by, status=status,
                partner=actor.partner if actor is not None else None, limit=limit)
        result = []
        for row in rows:
            zone = ZoneInfo(self.journey(row["journey_key"], row["journey_version"]).timezone)
            result.append({
                "id": row["id"], "project": row["project_id"], "stage": row["stage"],
                "spec": row["spec"], "occurrence": row["occurrence"], "action": row["action"],
                "due_at": row["due_at"].astimezone(zone).isoformat(), "status": row["status"],
                "attempts": row["attempts"], "last_error": row["last_error"],
                "idempotency_key": row["idempotency_key"],
                "finished_at": row["finished_at"].astimezone(zone).isoformat()
                if row["finished_at"] else None})
        return result

    def project_ids(self) -> list[int]:
        """Every project id (for maintenance tools)."""
        with self.hot.transaction(write=False) as cursor:
            return self.hot.project_ids(cursor)


def _migration_plan(row: Any, target: CompiledJourney, mapping: Mapping[str, str], *,
                    dry_run: bool) -> dict[str, Any]:
    """What migrating ``row`` (a project or a stored row) to ``target`` does.

    Raises:
        ConflictError: a mapped or kept stage the target lacks, or a field value the
            target's types refuse (the message lists every problem).
    """
    problems: list[str] = [Message("migrate.no_target", old=old, ref=target.ref, new=new)
                           for old, new in mapping.items() if new not in target.stages]
    stage = mapping.get(row.stage, row.stage)
    if stage not in target.stages:
        problems.append(Message("migrate.no_counterpart", stage=row.stage, ref=target.ref,
                                stages=", ".join(target.stages)))
    if problems:
        raise ConflictError(Message("conflict.migrate", id=row.id,
                                    problems=Joined(problems, "; ")))
    version = getattr(row, "journey_version", None) or row.version
    kept = {k: v for k, v in row.fields.items() if k in target.fields}
    try:
        kept = {**target.defaults(), **target.coerce_fields(kept)}
    except InvalidValue as exc:
        raise ConflictError(Message("conflict.migrate", id=row.id,
                                    problems=exc.args[0] if exc.args else str(exc))) from None
    return {"project": row.id, "from_version": version, "to_version": target.version,
            "from_stage": row.stage, "to_stage": stage,
            "dropped_fields": sorted(set(row.fields) - set(kept)), "fields": kept,
            "dry_run": dry_run}


def _name(actor: Actor | None) -> str | None:
    return actor.name if actor is not None else None


def _check_text(**values: str | None) -> None:
    """Refuse text no database stores alike: NUL characters (PostgreSQL cannot hold
    them), and text over :data:`MAX_TEXT` characters.

    Raises:
        InvalidValue: naming the first offending value.
    """
    for what, value in values.items():
        if value is None:
            continue
        if "\x00" in value:
            raise InvalidValue(Message("value.nul", what=Message(f"text.{what}"), value=value))
        if len(value) > MAX_TEXT:
            raise InvalidValue(Message("value.too_long", what=Message(f"text.{what}"),
                                       length=len(value), limit=MAX_TEXT))


def _check_role(compiled: CompiledJourney, role: str) -> None:
    if role not in compiled.roles:
        raise InvalidValue(Message("value.role_unknown", role=role, ref=compiled.ref,
                                   known=", ".join(compiled.roles) or Message("none")))


def _refusal(report: GateReport) -> str:
    if len(report.branches) > 1:  # say what each branch misses
        each = Joined((Message("gate.branch_missing", dest=branch.to_stage,
                               missing=Joined(branch.missing_texts()) or Message("gate.its_gate"))
                       for branch in report.branches), "; ")
        return Message("gate.refused_branches", project=report.project,
                       trigger=report.trigger, source=report.from_stage, each=each)
    missing = Joined(report.missing_texts(), "; ") or Message("gate.not_met")
    return Message("gate.refused", project=report.project, trigger=report.trigger,
                   source=report.from_stage, dest=report.to_stage, missing=missing)
