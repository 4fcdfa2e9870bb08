"""Audit a whole bompao database against the invariants the engine and dispatcher keep.

:func:`audit` reads every project in batches (keyset pagination on ``projects.id``,
each batch in one consistent read: ``REPEATABLE READ`` on PostgreSQL, one read
transaction on SQLite), with its events and follow-ups, and checks:

``stage``
    the project's journey version is published and compiles, and its stage is a
    stage of that version;
``replay``
    the state rebuilt from the event log (:func:`bompao.engine.history.replay`)
    equals the stored row: journey and version, name, partner, cohort, stage, visit,
    time of stage entry, fields, flags, assignments, evidence and approvals; the log
    starts with one ``created`` event and every ``advanced`` event leaves the stage
    the project was in;
``gate``
    every ``advanced`` event that is not an override names a transition of the
    journey version the project was on, leads where that transition leads, and
    records a gate whose criteria, combined as the journey's ``all``/``any`` tree,
    were met;
``seq``
    the project's event seqs are exactly ``1..n`` and its ``lock_version`` is ``n``;
``pending``
    pending follow-ups belong to the current stage visit (same visit and stage, a
    follow-up the stage declares in the pinned version), at most one per follow-up;
``ran_twice``
    no follow-up occurrence (follow-up row, idempotency key) has more than one run
    (``follow_up`` event);
``run_record``
    run events and follow-up rows agree: a done or failed follow-up has its run
    event with a matching outcome and key, nothing else has one, and every run event
    names a follow-up of its project;
``visits``
    the stage visits the reports read (``events.from_entered_at``, on the event that
    ends each visit) are exactly one per stage entry in the log — ``created``,
    ``advanced``, a ``migrated`` that changes the stage — with its stage and times,
    each closed when the next entry happened.

and warns (``stuck_running``) about follow-ups still ``running`` whose lease ended
more than ``grace`` ago: the dispatcher takes those over by itself when a daemon
runs, so they are not violations, but a pile of them means no daemon is running.

Every statement is SQLAlchemy Core with bound parameters.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bompao.definitions import (
    CompiledCriterion,
    CompiledJourney,
    JourneyCatalog,
    Source,
    compile_source,
    load_yaml,
)
from bompao.definitions.messages import text
from bompao.engine.engine import Engine
from bompao.engine.history import Event, ProjectState, replay
from bompao.errors import BompaoError, UsageError
from bompao.storage import Database, repository
from bompao.storage import audit_reads as reads

__all__ = ["INVARIANTS", "WARNINGS", "AuditReport", "Finding", "audit"]

INVARIANTS: Mapping[str, str] = {
    "stage": "each project's stage is a stage of its pinned, published journey version",
    "replay": "the state rebuilt from the event log equals the stored state",
    "gate": "every non-override transition passed its gate, as recorded in its event",
    "seq": "per-project event seqs are 1..n and the lock version is n",
    "pending": "pending follow-ups belong to the current stage visit, one per follow-up",
    "ran_twice": "no follow-up occurrence ran more than once",
    "run_record": "run events and follow-up rows agree (status, outcome, key)",
    "visits": "the stored stage visits are exactly the stage entries of the event log",
}
"""The invariants :func:`audit` checks, by the name its findings carry."""

WARNINGS: Mapping[str, str] = {
    "stuck_running": "a follow-up is still running long after its lease ended",
}
"""What :func:`audit` warns about without calling it a violation."""

_FINISHED = {"done": ("done", "refused"), "failed": ("failed",)}
"""A finished follow-up's status → the run outcomes that give it."""
_SHOWN = 10


@dataclass(frozen=True)
class Finding:
    """One violation (or warning) found by :func:`audit`."""

    invariant: str
    message: str
    project: int | None = None
    follow_up: int | None = None
    seq: int | None = None

    def __str__(self) -> str:
        return self.render("en")

    def render(self, lang: str) -> str:
        """``INVARIANT: project 3, event 7: MESSAGE`` with the places named in ``lang``
        (the message itself, a detail for whoever repairs the database, stays English)."""
        where = [text("audit.project", lang, id=self.project)] \
            if self.project is not None else []
        if self.seq is not None:
            where.append(text("audit.event", lang, seq=self.seq))
        if self.follow_up is not None:
            where.append(text("audit.follow_up", lang, id=self.follow_up))
        return f"{self.invariant}: {', '.join(where)}: {self.message}" if where else \
            f"{self.invariant}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"invariant": self.invariant, "message": self.message,
                "project": self.project, "follow_up": self.follow_up, "seq": self.seq}


@dataclass
class AuditReport:
    """What :func:`audit` checked and found.

    ``checked`` counts what was looked at: ``projects``, ``events``, ``transitions``
    (gated ``advanced`` events), ``overrides`` (not gate-checked), ``follow_ups``,
    ``pending``, ``runs`` (``follow_up`` events) and ``journeys`` (versions compiled).
    ``counts`` counts findings per invariant, even beyond ``max_findings``.
    """

    checked: Counter[str] = field(default_factory=Counter)
    violations: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    max_findings: int | None = None

    @property
    def ok(self) -> bool:
        """No violation (warnings allowed)."""
        return not any(self.counts[name] for name in INVARIANTS)

    @property
    def violation_count(self) -> int:
        """Violations found, counting those beyond ``max_findings``."""
        return sum(self.counts[name] for name in INVARIANTS)

    @property
    def warning_count(self) -> int:
        """Warnings found, counting those beyond ``max_findings``."""
        return sum(self.counts[name] for name in WARNINGS)

    def add(self, finding: Finding) -> None:
        """Record a finding (a warning if its name is in :data:`WARNINGS`)."""
        self.counts[finding.invariant] += 1
        kept = self.warnings if finding.invariant in WARNINGS else self.violations
        if self.max_findings is None or len(kept) < self.max_findings:
            kept.append(finding)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"ok": self.ok, "checked": dict(self.checked),
                "violations": [f.as_dict() for f in self.violations],
                "warnings": [f.as_dict() for f in self.warnings],
                "counts": {name: self.counts[name] for name in (*INVARIANTS, *WARNINGS)}}

    def summary(self, lang: str = "en") -> str:
        """A few lines in ``lang``: what was checked, the count per invariant, then each
        finding."""
        checked = ", ".join(text(f"audit.count.{name}", lang, count=self.checked[name])
                            for name in _CHECKED)
        lines = [text("audit.checked", lang, checked=checked),
                 text("audit.totals", lang, violations=self.violation_count,
                      warnings=self.warning_count)]
        lines.extend(f"  {name}: {self.counts[name]}" for name in (*INVARIANTS, *WARNINGS)
                     if self.counts[name])
        lines.extend(f"  {finding.render(lang)}"
                     for finding in [*self.violations, *self.warnings])
        return "\n".join(lines)


_CHECKED = ("projects", "events", "transitions", "overrides", "follow_ups", "pending", "runs",
            "stage_visits", "journeys")


def audit(db_or_engine: Database | Engine, *, now: datetime | None = None,
          grace: timedelta = timedelta(minutes=15), batch: int = 500,
          max_findings: int | None = None) -> AuditReport:
    """Check every project of the database against :data:`INVARIANTS`.

    Projects are read ``batch`` at a time with their events and follow-ups, so memory
    stays bounded by one batch whatever the size of the database. Journey versions
    are compiled from the published sources in the database (with an
    :class:`~bompao.engine.engine.Engine`, through its cache and its CEL functions);
    nothing is written.

    Args:
        db_or_engine: a :class:`~bompao.storage.Database` or an
            :class:`~bompao.engine.engine.Engine`.
        now: the time leases are compared with (the engine's clock, else the real
            time); must be aware.
        grace: how long after its lease ended a running follow-up is reported
            (as a warning, ``stuck_running``).
        batch: projects read per batch (at least 1).
        max_findings: keep at most this many violations and this many warnings
            (counts stay exact); None keeps all.

    Returns:
        The report: what was checked, every violation and warning found.

    Raises:
        UsageError: ``db_or_engine`` is neither, ``now`` is naive, ``grace`` is
            negative, or ``batch``/``max_findings`` is below 1.
        DatabaseError: the database cannot be opened.
        SchemaVersionError: the database schema is not the one this bompao expects.
        DatabaseError: the database failed in the middle of the audit.
    """
    db, engine = _unwrap(db_or_engine)
    if now is None:
        now = engine.now() if engine is not None else datetime.now(UTC)
    if now.tzinfo is None:
        raise UsageError("audit needs an aware time for now, e.g. datetime.now(UTC)")
    if grace < timedelta(0):
        raise UsageError(f"grace must not be negative, got {grace}")
    if batch < 1:
        raise UsageError(f"batch must be at least 1, got {batch}")
    if max_findings is not None and max_findings < 1:
        raise UsageError(f"max_findings must be at least 1 or None, got {max_findings}")
    db.require_current()
    report = AuditReport(max_findings=max_findings)
    journeys = _Journeys(db, engine)
    stale = now - grace
    after = 0
    while True:
        with reads.snapshot(db) as conn:
            rows = reads.project_batch(conn, after, batch)
            if not rows:
                break
            first, last = rows[0].id, rows[-1].id
            logs = _events_by_project(conn, first, last)
            planned = reads.follow_ups_between(conn, first, last)
            visits = reads.visits_between(conn, first, last)
        for row in rows:
            _Project(row, logs.get(row.id, []), planned.get(row.id, []),
                     journeys, report, stale, visits.get(row.id, [])).check()
        after = last
        if len(rows) < batch:
            break
    report.checked["journeys"] = journeys.compiled
    return report


def _unwrap(db_or_engine: object) -> tuple[Database, Engine | None]:
    if isinstance(db_or_engine, Database):
        return db_or_engine, None
    if isinstance(db_or_engine, Engine):
        return db_or_engine.db, db_or_engine
    raise UsageError(f"audit needs a Database or an Engine, got "
                     f"{type(db_or_engine).__name__}")


def _events_by_project(conn: Any, first: int, last: int) -> dict[int, list[Event]]:
    found: dict[int, list[Event]] = defaultdict(list)
    for row in reads.events_between(conn, first, last):
        found[row.project_id].append(Event(
            row.project_id, row.seq, row.kind, row.at, row.actor, row.role, row.from_stage,
            row.to_stage, row.trigger, dict(row.payload or {})))
    return found


def _entries(log: list[Event]) -> list[tuple[int, str, datetime, datetime | None]]:
    """The stage visits the log implies: (seq, stage, entered, left)."""
    entries = [e for e in log if e.to_stage is not None
               and e.kind in ("created", "advanced", "migrated")
               and (e.kind != "migrated" or e.from_stage != e.to_stage)]
    return [(e.seq, str(e.to_stage), e.at, entries[i + 1].at if i + 1 < len(entries) else None)
            for i, e in enumerate(entries)]


class _Journeys:
    """Compiled journey versions as published in the database, compiled once each."""

    def __init__(self, db: Database, engine: Engine | None) -> None:
        self.db = db
        self.engine = engine
        self.catalog: JourneyCatalog = engine.catalog if engine is not None else \
            JourneyCatalog()
        self.cache: dict[tuple[str, int], CompiledJourney | str] = {}
        self.compiled = 0

    def get(self, key: str, version: int) -> CompiledJourney | str:
        """The compiled version, or why there is none (unpublished, invalid)."""
        found = self.cache.get((key, version))
        if found is None:
            found = self.cache[(key, version)] = self._load(key, version)
            if not isinstance(found, str):
                self.compiled += 1
        return found

    def _load(self, key: str, version: int) -> CompiledJourney | str:
        with self.db.begin(write=False) as conn:
            row = repository.get_journey(conn, key, version)
        if row is None:
            return f"journey {key}@{version} is not published"
        try:
            if self.engine is not None:
                return self.engine.journey(key, version)
            return compile_source(load_yaml(row.source, f"{key}@{version}"),
                                  resolve=self._resolve, functions=self.catalog.functions)
        except BompaoError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return f"journey {key}@{version} does not compile: {first}"

    def _resolve(self, key: str, version: int) -> Source:
        with self.db.begin(write=False) as conn:
            row = repository.get_journey(conn, key, version)
        if row is not None:
            return load_yaml(row.source, f"{key}@{version}")
        return self.catalog.resolve(key, version)


class _GateMismatch(Exception):
    """The recorded criteria do not fit the journey's gate."""


def _gate_met(node: CompiledCriterion, leaves: Iterator[Mapping[str, Any]]) -> bool:
    """Combine recorded leaf verdicts as the gate's tree does (leaves in report order)."""
    if node.kind in ("all", "any") and node.children:
        results = [_gate_met(child, leaves) for child in node.children]
        return all(results) if node.kind == "all" else any(results)
    leaf = next(leaves, None)
    if leaf is None:
        raise _GateMismatch("fewer criteria recorded than the gate has")
    if leaf.get("kind") != node.kind:
        raise _GateMismatch(f"a {leaf.get('kind')!r} criterion recorded where the gate "
                            f"has {node.kind!r}")
    return leaf.get("met") is True


def _recorded_met(gate: CompiledCriterion | None, recorded: list[dict[str, Any]]) -> bool:
    """Whether the recorded leaf verdicts meet ``gate``.

    Raises:
        _GateMismatch: the recorded criteria do not fit the gate's shape.
    """
    leaves = iter(recorded)
    if gate is None:  # recorded as one empty "all": "No gate", met
        only = next(leaves, None)
        if only is None or only.get("kind") != "all":
            raise _GateMismatch("the transition has no gate, yet criteria are recorded")
        met = only.get("met") is True
    else:
        met = _gate_met(gate, leaves)
    if next(leaves, None) is not None:
        raise _GateMismatch("more criteria recorded than the gate has")
    return met


def _sorted_flags(flags: Sequence[Any] | None) -> list[str]:
    return sorted(str(f) for f in flags or ())


class _Project:
    """The checks of one project, its events and its follow-ups."""

    def __init__(self, row: Any, log: list[Event], planned: list[Any],  # noqa: PLR0917
                 journeys: _Journeys, report: AuditReport, stale: datetime,
                 visits: list[reads.Visit]) -> None:
        self.row = row
        self.visits = visits
        self.log = log
        self.planned = planned
        self.journeys = journeys
        self.report = report
        self.stale = stale
        self.id: int = row.id

    def add(self, invariant: str, message: str, *, seq: int | None = None,
            follow_up: int | None = None) -> None:
        self.report.add(Finding(invariant, message, self.id, follow_up, seq))

    def check(self) -> None:
        checked = self.report.checked
        checked["projects"] += 1
        checked["events"] += len(self.log)
        checked["follow_ups"] += len(self.planned)
        pinned = self.journeys.get(self.row.journey_key, self.row.journey_version)
        self._stage(pinned)
        self._seq()
        self._history()
        self._pending(pinned)
        self._runs()
        self._visits()

    def _visits(self) -> None:
        self.report.checked["stage_visits"] += len(self.visits)
        expected = _entries(self.log)
        if self.visits != expected:
            have = {v[0]: v for v in self.visits}
            want = {v[0]: v for v in expected}
            wrong = sorted(seq for seq in have.keys() | want.keys()
                           if have.get(seq) != want.get(seq))
            self.add("visits", f"stage visits disagree with the log at entry seq "
                               f"{_listing(wrong)}: stored {[have.get(q) for q in wrong][:3]}, "
                               f"the log says {[want.get(q) for q in wrong][:3]}")

    def _stage(self, pinned: CompiledJourney | str) -> None:
        if isinstance(pinned, str):
            self.add("stage", pinned)
        elif self.row.stage not in pinned.stages:
            self.add("stage", f"stage {self.row.stage!r} is not a stage of {pinned.ref}; "
                              f"stages: {', '.join(pinned.stages)}")

    def _seq(self) -> None:
        seqs = [e.seq for e in self.log]
        if not seqs:
            self.add("seq", f"no events, but lock_version is {self.row.lock_version}")
            return
        expected = list(range(1, len(seqs) + 1))
        if seqs != expected:
            have = set(seqs)
            missing = [n for n in range(1, max(seqs) + 1) if n not in have]
            extra = sorted(n for n, c in Counter(seqs).items() if c > 1 or n < 1)
            parts = []
            if missing:
                parts.append(f"missing {_listing(missing)}")
            if extra:
                parts.append(f"repeated or out of range {_listing(extra)}")
            self.add("seq", f"event seqs are not 1..{len(seqs)}: {'; '.join(parts)}")
        if self.row.lock_version != seqs[-1]:
            self.add("seq", f"lock_version is {self.row.lock_version} but the last event "
                            f"is seq {seqs[-1]}")

    def _history(self) -> None:
        """Replay equality, the shape of the log, and the gate of every transition."""
        if not self.log:
            self.add("replay", "no events to rebuild the project from")
            return
        if self.log[0].kind != "created":
            self.add("replay", f"the first event is {self.log[0].kind!r}, not 'created'",
                     seq=self.log[0].seq)
        stage: str | None = None
        version: int | None = None
        for event in self.log:
            p = event.payload
            if event.kind == "created":
                if event is not self.log[0]:
                    self.add("replay", "a second 'created' event", seq=event.seq)
                stage, version = event.to_stage, _int(p.get("version"))
            elif event.kind == "advanced":
                if event.from_stage != stage:
                    self.add("replay", f"moves from {event.from_stage!r} but the project "
                                       f"was in {stage!r}", seq=event.seq)
                self._gate(event, version)
                stage = event.to_stage
            elif event.kind == "migrated":
                version = _int(p.get("to_version"))
                stage = p.get("to_stage", stage)
        try:
            state = replay(self.log)
        except (KeyError, TypeError, ValueError) as exc:
            self.add("replay", f"the events cannot be replayed: {type(exc).__name__}: {exc}")
            return
        if state is not None:
            self._compare(state)

    def _compare(self, state: ProjectState) -> None:
        row = self.row
        pairs: list[tuple[str, Any, Any]] = [
            ("journey", row.journey_key, state.journey),
            ("journey version", row.journey_version, state.version),
            ("name", row.name, state.name),
            ("partner", row.partner, state.partner),
            ("cohort", row.cohort, state.cohort),
            ("stage", row.stage, state.stage),
            ("visit", row.visit, state.visit),
            ("stage_entered_at", row.stage_entered_at, state.stage_entered_at),
            ("fields", dict(row.fields or {}), state.fields),
            ("flags", _sorted_flags(row.flags), _sorted_flags(state.flags)),
            ("assignments", dict(row.assignments or {}), state.assignments),
            ("evidence", dict(row.evidence or {}), state.evidence),
            ("approvals", dict(row.approvals or {}), state.approvals),
        ]
        for name, stored, rebuilt in pairs:
            if stored != rebuilt:
                self.add("replay", f"{name} is stored as {_show(stored)} but the events "
                                   f"say {_show(rebuilt)}")

    def _gate(self, event: Event, version: int | None) -> None:
        p = event.payload
        if p.get("override") is True:
            self.report.checked["overrides"] += 1
            return
        self.report.checked["transitions"] += 1
        key = self.row.journey_key
        compiled = self.journeys.get(key, version) if version is not None else \
            "no journey version known at this event"
        if isinstance(compiled, str):
            self.add("gate", f"cannot check the gate of {event.trigger!r}: {compiled}",
                     seq=event.seq)
            return
        try:
            branches = compiled.branches(str(event.from_stage), str(event.trigger))
        except BompaoError as exc:
            self.add("gate", f"{compiled.ref} has no such transition: {exc}", seq=event.seq)
            return
        # a transition with branches may lead to any of them; the gate checked is the one
        # of the branch that leads where the event went
        taken = p.get("branch")
        index = taken.get("index") if isinstance(taken, dict) else None
        branch = branches[index] if isinstance(index, int) and 0 <= index < len(branches) \
            else next((b for b in branches if b.dest == event.to_stage), branches[0])
        if branch.dest != event.to_stage:
            dests = " or ".join(repr(b.dest) for b in branches)
            self.add("gate", f"{event.trigger!r} from {event.from_stage!r} leads to {dests} "
                             f"in {compiled.ref}, not {event.to_stage!r}", seq=event.seq)
        recorded = p.get("gate")
        if not isinstance(recorded, list) or not all(isinstance(c, dict) for c in recorded):
            self.add("gate", f"{event.trigger!r} without an override records no gate "
                             "criteria", seq=event.seq)
            return
        try:
            met = _recorded_met(branch.gate, recorded)
        except _GateMismatch as exc:
            self.add("gate", f"the criteria recorded for {event.trigger!r} do not fit the "
                             f"gate of {compiled.ref}: {exc}", seq=event.seq)
            return
        if not met:
            unmet = [str(c.get("says")) for c in recorded if c.get("met") is not True]
            self.add("gate", f"{event.trigger!r} ({event.from_stage} -> {event.to_stage}) "
                             f"fired without an override while its gate was not met: "
                             f"{'; '.join(unmet)}", seq=event.seq)

    def _pending(self, pinned: CompiledJourney | str) -> None:
        row = self.row
        declared: set[str] | None = None
        if not isinstance(pinned, str) and row.stage in pinned.stages:
            declared = {f.name for f in pinned.stages[row.stage].follow_ups}
        seen: dict[str, int] = {}
        for planned in self.planned:
            if planned.status == "running":
                self._stuck(planned)
            if planned.status != "pending":
                continue
            self.report.checked["pending"] += 1
            if planned.visit != row.visit or planned.stage != row.stage:
                self.add("pending", f"pending {planned.spec!r} (occurrence "
                                    f"{planned.occurrence}) belongs to visit {planned.visit} "
                                    f"of stage {planned.stage!r}, but the project is on "
                                    f"visit {row.visit} of {row.stage!r}",
                         follow_up=planned.id)
                continue
            if declared is not None and planned.spec not in declared:
                self.add("pending", f"pending {planned.spec!r} is not a follow-up of stage "
                                    f"{row.stage!r} in "
                                    f"{row.journey_key}@{row.journey_version}",
                         follow_up=planned.id)
            if planned.spec in seen:
                self.add("pending", f"a second pending {planned.spec!r} in this stage visit "
                                    f"(besides follow-up {seen[planned.spec]})",
                         follow_up=planned.id)
            else:
                seen[planned.spec] = planned.id

    def _stuck(self, planned: Any) -> None:
        until = planned.lease_until
        if until is None or until < self.stale:
            ended = "has no lease" if until is None else f"lease ended {until.isoformat()}"
            self.add("stuck_running", f"{planned.spec!r} is running ({ended}, owner "
                                      f"{planned.lease_owner!r}, {planned.attempts} "
                                      "attempts)", follow_up=planned.id)

    def _runs(self) -> None:
        rows = {r.id: r for r in self.planned}
        by_id: dict[int, list[Event]] = defaultdict(list)
        by_key: dict[str, list[Event]] = defaultdict(list)
        for event in self.log:
            if event.kind != "follow_up":
                continue
            self.report.checked["runs"] += 1
            ident = _int(event.payload.get("follow_up"))
            key = event.payload.get("idempotency_key")
            if ident is None or ident not in rows:
                self.add("run_record", f"a run of {event.payload.get('spec')!r} names "
                                       f"follow-up {event.payload.get('follow_up')!r}, which "
                                       "this project does not have", seq=event.seq)
            else:
                by_id[ident].append(event)
            if isinstance(key, str):
                by_key[key].append(event)
        for ident, runs in by_id.items():
            if len(runs) > 1:
                self.add("ran_twice", f"{rows[ident].spec!r} occurrence "
                                      f"{rows[ident].occurrence} ran {len(runs)} times (events "
                                      f"{', '.join(str(e.seq) for e in runs)})",
                         follow_up=ident)
        for key, runs in by_key.items():
            named = {_int(e.payload.get("follow_up")) for e in runs}
            if len(runs) > 1 and len(named) > 1:  # the same key under several follow-ups
                self.add("ran_twice", f"idempotency key {key!r} ran {len(runs)} times (events "
                                      f"{', '.join(str(e.seq) for e in runs)})")
        for ident, planned in rows.items():
            self._record_of(planned, by_id.get(ident, []))

    def _record_of(self, planned: Any, runs: list[Event]) -> None:
        outcomes = _FINISHED.get(planned.status)
        if outcomes is None:
            if runs:
                self.add("run_record", f"{planned.status} but it has a run event (seq "
                                       f"{runs[0].seq})", follow_up=planned.id)
            return
        if not runs:
            self.add("run_record", f"{planned.status} without a run event",
                     follow_up=planned.id)
            return
        run = runs[0].payload
        if run.get("outcome") not in outcomes:
            self.add("run_record", f"{planned.status} but its run event says outcome "
                                   f"{run.get('outcome')!r}", follow_up=planned.id,
                     seq=runs[0].seq)
        if run.get("idempotency_key") != planned.idempotency_key:
            self.add("run_record", f"its run event carries key {run.get('idempotency_key')!r}"
                                   f", the follow-up {planned.idempotency_key!r}",
                     follow_up=planned.id, seq=runs[0].seq)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _listing(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_SHOWN])
    return shown + (f" (and {len(numbers) - _SHOWN} more)" if len(numbers) > _SHOWN else "")


def _show(value: Any, limit: int = 200) -> str:
    text = value.isoformat() if isinstance(value, datetime) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."

