"""Stateful property tests: random sequences of library calls against a simple model.

A Hypothesis ``RuleBasedStateMachine`` drives one :class:`~bompao.engine.Engine` (a
SQLite file and a PostgreSQL schema, through the ``engine`` fixture) with random
sequences of what people and the scheduler do: create projects, set fields, attach
evidence, approve, assign, check gates, advance (alone, as a cohort, or overriding the
gate), flag and unflag, publish a later version of the journey and migrate projects to
it (and back; with the stage mapping needed, none, or a wrong one), let the clock jump
by minutes to months, and run the dispatcher (``Dispatcher.run_due``, the ``bompao
scheduler run --once`` path) with batches of 1, 3 or 500. Journeys are the bundled ones
with later versions made from them (``strategies.bundled_families``) and small
generated ones (``strategies.generated_journeys``); follow-ups are ``flag``,
``unflag``, ``transition`` and ``notify`` (its ``log`` channel is a real peer: the
test reads what it delivered).

A model in the machine predicts each call's outcome: the refusal it raises
(``GateRefused``, ``PermissionDenied``, ``InvalidValue``, ``NotFound``,
``ConflictError``; the exact class) or the stage, visit, time of entry, fields, flags,
evidence, approvals, assignments, version and number of events it leaves, the listener
calls it makes, the migration plan it returns and, for a scheduler run, each run's
outcome. After every step :meth:`EngineMachine.engine_is_consistent` checks, for every
project of the example:

1. its stage is a stage of the journey version it is pinned to;
2. the state replayed from its event log (``history.replay``) equals the stored
   project in every field: journey and version, stage, visit, time of entry, fields,
   flags, assignments, evidence, approvals, and seq = lock version (``look_back``
   checks ``Engine.state_at`` now and at past moments against the same replay);
3. every ``advanced`` event left the stage the replay was in, went where the journey
   version says, and recorded for each criterion the verdict the oracle gives on the
   state replayed just before it, at its own time: met, unless it is an
   override, which needs an unmet gate, the missing criteria, a reason and a role that
   may override (a follow-up only with ``force``); roles of the transition held;
4. its event seqs are 1..n with n its lock version, events are only ever appended,
   and their times never go back;
5. its pending follow-ups are of its current stage and visit, declared by the stage
   in its version, one per follow-up, due exactly when the oracle says (from the
   stage entry, the fields and the occurrence); and the other way round, every
   follow-up of its stage is pending or has run (recurring ones: the next is pending);
6. each follow-up run is one ``follow_up`` event and one ``done``/``failed`` row with
   the same key, spec, occurrence and stage, and the reverse; no row or key ran twice;
   no run before its due time; a run happens in its own stage visit; a scheduler run
   takes what was due oldest first and leaves nothing due behind; each notification
   the ``log`` channel delivered is one recorded ``done`` run, and the reverse.

Gates and due times are judged by ``tests/oracle.py``, written apart from the engine:
it never calls ``evaluate``, ``CompiledFollowUp.due``, ``Duration.add`` or CEL, but
evaluates the test journeys' expression forms, approvals, evidence and durations
(``dateutil.relativedelta`` on the local wall clock, ``holidays`` for business days)
itself. (A mutant engine whose days are a minute long fails it at once.)

A refused call must leave the project exactly as it was (row, follow-ups, events), and
every call must leave the other projects alone. ``bompao audit`` (``engine.audit``)
runs once late in an example and must find nothing either.

It found four engine bugs, each now fixed and pinned by a test of its own: a
recurring follow-up's next occurrence left pending when a later run of the same round
moved the project on; a notify due after a transition of the same round delivered
although the project had left; an override recorded under a role that may not
override; a follow-up dropped by a version and restored by migrating back never
planned again.

Each example starts from empty tables (rows are deleted; journeys are kept: published
versions never change, and generated keys are digests of their texts). ``--slow``
runs ten times the examples. At the end the test prints how far the examples went.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

import oracle
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from hypothesis import Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from strategies import (
    GOOD_VALUES,
    Family,
    bundled_families,
    field_values,
    generated_journeys,
)

from bompao.definitions import CompiledCriterion, CompiledJourney, CompiledTransition
from bompao.engine import Actor, Engine, Project
from bompao.engine.actor import SYSTEM
from bompao.engine.audit import audit
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.engine.history import Event, ProjectState, replay
from bompao.errors import (
    BompaoError,
    ConflictError,
    GateRefused,
    InvalidValue,
    NotFound,
    PermissionDenied,
    TriggerNotOffered,
)
from bompao.storage.tables import events, follow_ups, projects

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
ZONE_BANGKOK = ZoneInfo("Asia/Bangkok")
EXAMPLES = 500
"""Examples per backend in CI; ``--slow`` multiplies them."""
STEPS = 15
MAX_PROJECTS = 3
AUDIT_AFTER = 10
"""Steps into an example before ``bompao audit`` may run (once)."""
PEOPLE = ("Malee", "Anan", "Kanya", "Somchai")
FLAGS = ("at_risk", "late", "needs_mentor")
KEEP = frozenset({"journeys", "bompao_meta", "alembic_version"})
"""Tables not emptied between examples: published journeys never change."""

MONTHS = st.integers(min_value=1, max_value=4).map(lambda n: relativedelta(months=n))
JUMPS = st.one_of(
    st.just(timedelta(0)),
    st.integers(min_value=1, max_value=59).map(lambda n: timedelta(minutes=n)),
    st.integers(min_value=1, max_value=23).map(lambda n: timedelta(hours=n)),
    st.integers(min_value=1, max_value=30).map(lambda n: timedelta(days=n)),
    st.integers(min_value=1, max_value=8).map(lambda n: timedelta(weeks=n)),
    MONTHS,
)
"""How far the clock moves: minutes to months."""


T = TypeVar("T")


@functools.cache
def _sampled(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


def choose(data: st.DataObject, options: Iterable[T], label: str) -> T:
    """One of ``options``, drawn (strategies are cached: building them costs more than
    drawing)."""
    return data.draw(_sampled(tuple(options)), label=label)


@functools.cache
def role_sets(roles: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    """Some of ``roles`` (up to three), or all of them."""
    return st.frozensets(st.sampled_from(roles), max_size=3) | st.just(frozenset(roles))


@functools.cache
def subsets(names: tuple[str, ...], min_size: int) -> st.SearchStrategy[list[str]]:
    """Up to three of ``names``."""
    return st.lists(st.sampled_from(names), min_size=min_size, max_size=3, unique=True)


@functools.cache
def cohorts(ids: tuple[int, ...]) -> st.SearchStrategy[list[int]]:
    """One to four project ids, repeats allowed."""
    return st.lists(st.sampled_from(ids), min_size=1, max_size=4)


values_of = functools.cache(field_values)


class _Refused:
    """What :meth:`EngineMachine.attempt` returns when the call was refused as predicted."""


REFUSED = _Refused()


@dataclass
class Model:
    """What the machine expects of one project."""

    id: int
    key: str
    version: int
    name: str
    partner: str | None
    stage: str
    entered_at: datetime
    created_at: datetime
    fields: dict[str, Any]
    visit: int = 1
    flags: set[str] = field(default_factory=set)
    evidence: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    approvals: dict[str, list[str]] = field(default_factory=dict)
    assignments: dict[str, list[str]] = field(default_factory=dict)
    events: int = 1

    def enter(self, stage: str, now: datetime) -> None:
        """Move to ``stage`` (a new visit: approvals start again)."""
        self.stage, self.visit, self.entered_at, self.approvals = stage, self.visit + 1, now, {}


class World:
    """What the examples of one test (one backend) share: the engine, its clock, and what
    the listeners and the ``log`` notify channel reported."""

    def __init__(self, engine: Engine, clock: Any) -> None:
        self.engine = engine
        self.clock = clock
        self.heard: list[tuple[Any, ...]] = []
        self.tally: Counter[str] = Counter()
        self.published: set[tuple[str, int]] = set()
        self.reader: sa.Connection | None = None
        self.delivered: list[dict[str, Any]] = []
        reflected = sa.MetaData()
        reflected.reflect(engine.db.engine)
        self.tables = [t for t in reversed(reflected.sorted_tables) if t.name not in KEEP]
        engine.on("stage_entered", lambda *, project, stage, trigger, actor: self.heard.append(
            ("stage_entered", project.id, stage, trigger)))
        engine.on("stage_exited", lambda *, project, stage, trigger, actor: self.heard.append(
            ("stage_exited", project.id, stage, trigger)))
        engine.on("override", lambda *, project, trigger, reason, report, actor: self.heard.append(
            ("override", project.id, trigger)))
        engine.on("gate_refused", lambda *, project_id, report, actor: self.heard.append(
            ("gate_refused", project_id, report.trigger)))

    def reset(self) -> None:
        """Empty every table but the journeys; the clock back to :data:`T0`."""
        with self.engine.db.engine.begin() as conn:
            for table in self.tables:
                conn.execute(table.delete())
        self.clock.now = T0
        self.heard.clear()
        self.delivered.clear()

    @contextlib.contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A connection to read the tables with, as they are after the last call.

        On PostgreSQL one connection held for the whole test, in autocommit: a pooled
        connection is pinged at checkout and reset at checkin, and those round trips
        cost more than the reads. Nothing else writes while the test reads, so the
        reads agree with each other without a transaction.
        """
        if self.reader is not None:
            yield self.reader
            return
        with self.engine.db.begin(write=False) as conn:
            yield conn

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """While the test runs: hold the reading connection, and record what the ``log``
        notify channel delivers."""
        world = self

        class Deliveries(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                world.delivered.append(json.loads(record.getMessage()))

        logger = logging.getLogger("bompao.notify")
        handler = Deliveries()
        saved = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        if self.engine.db.dialect == "postgresql":
            self.reader = self.engine.db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            if self.reader is not None:
                self.reader.close()
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]


def stored(kind: str, value: Any) -> Any:
    """The stored form of a valid field value (what ``Project.fields`` holds)."""
    if value is None:
        return None
    if kind.startswith("list["):
        return [stored(kind[5:-1], item) for item in value]
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else date.fromisoformat(
            value).isoformat()
    if kind == "float":
        return float(value)
    return value


def wrong(kind: str) -> Any:
    """A value that is not of type ``kind``."""
    return 12 if kind == "string" else "zz"


def view(thing: Project | ProjectState) -> dict[str, Any]:
    """What a stored project and its replayed state must agree on: all of it."""
    return {
        "id": thing.id, "journey": thing.journey, "version": thing.version,
        "name": thing.name, "partner": thing.partner, "cohort": thing.cohort,
        "stage": thing.stage, "visit": thing.visit, "stage_entered_at": thing.stage_entered_at,
        "fields": thing.fields, "flags": list(thing.flags), "assignments": thing.assignments,
        "evidence": thing.evidence, "approvals": thing.approvals,
        "seq": thing.lock_version if isinstance(thing, Project) else thing.seq,
    }


def unavailable(journey: CompiledJourney, trigger: str) -> type[BompaoError]:
    """What firing or checking a trigger the stage does not offer raises: a refusal
    when the journey has the trigger elsewhere, bad input when it has it nowhere."""
    known = {t.trigger for t in journey.transitions}
    return TriggerNotOffered if trigger in known else NotFound


def _kinds(journey: CompiledJourney) -> dict[str, str]:
    return {name: spec.type for name, spec in journey.fields.items()}


def _facts(journey: CompiledJourney, fields: dict[str, Any], evidence: set[str],
           approvals: dict[str, int], entered_at: datetime, now: datetime) -> oracle.Facts:
    """What the oracle needs to judge a gate of ``journey``."""
    return oracle.Facts(fields=fields, kinds=_kinds(journey), evidence=frozenset(evidence),
                        approvals={r: n for r, n in approvals.items() if n},
                        entered_at=entered_at, now=now, timezone=journey.timezone,
                        calendar=journey.calendar)


def leaves(criterion: CompiledCriterion | None) -> Iterator[CompiledCriterion]:
    """The criteria a gate needs met (not those under a ``not``)."""
    if criterion is None:
        return
    if criterion.kind in ("all", "any"):
        for child in criterion.children:
            yield from leaves(child)
    elif criterion.kind != "not":
        yield criterion


def as_event(row: Any) -> Event:
    """An ``events`` row as the :class:`Event` the engine's history gives."""
    m = row._mapping
    return Event(m["project_id"], m["seq"], m["kind"], m["at"], m["actor"], m["role"],
                 m["from_stage"], m["to_stage"], m["trigger"], dict(m["payload"] or {}))


class EngineMachine(RuleBasedStateMachine):
    """Random library calls on one journey family; a model predicts each outcome."""

    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.world.reset()
        self.engine = self.world.engine
        self.clock = self.world.clock
        self.family: Family | None = None
        self.published: set[int] = set()
        self.models: dict[int, Model] = {}
        self.snapshot: dict[int, Project] = {}
        self.rows_seen: dict[int, list[Any]] = {}
        self.events_seen: dict[int, list[Event]] = {}
        self.touched: set[int] | None = set()
        """Projects the last step may have changed (None: any, a scheduler run)."""
        self.run_from: dict[int, int] | None = None
        """Event counts before the last step, when it was a scheduler run."""
        self.run_newest = 0
        """The newest follow-up id before the last scheduler run."""
        self.steps = 0
        self.audited = False

    # helpers ------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The key of the example's journey family."""
        assert self.family is not None
        return self.family.key

    def journey_of(self, model: Model) -> CompiledJourney:
        """The compiled version the model says the project follows."""
        return self.engine.journey(model.key, model.version)

    def pick(self, data: st.DataObject) -> tuple[Model, CompiledJourney]:
        """One project of the example, with its journey version."""
        model = self.models[choose(data, sorted(self.models), "project")]
        return model, self.journey_of(model)

    def draw_actor(self, data: st.DataObject, model: Model | None,
                   journey: CompiledJourney) -> tuple[Actor | None, bool]:
        """An actor (or None) with some of the journey's roles; whether the project is
        outside its partner scope."""
        if choose(data, range(5), "anonymous") == 0:
            return None, False
        roles = data.draw(role_sets(tuple(journey.roles)), label="roles")
        partner = choose(data, [None] * 8 + ["cmu", "pea"], "scope")
        actor = Actor(choose(data, PEOPLE, "actor"), roles, partner)
        hidden = model is not None and partner is not None and partner != model.partner
        return actor, hidden

    def draw_fields(self, data: st.DataObject, journey: CompiledJourney, min_size: int,
                    *, valid: bool = False) -> tuple[dict[str, Any], bool]:
        """Field values to set, and whether any is unknown or of the wrong type."""
        names = data.draw(subsets((*sorted(journey.fields), *["bogus"] * (not valid)),
                                  min_size), label="names")
        values: dict[str, Any] = {}
        bad = False
        for name in names:
            if name == "bogus":
                values[name], bad = 1, True
                continue
            kind = journey.fields[name].type
            how = choose(data, range(2 * valid, 20), f"{name}: how")
            if how == 0:
                values[name], bad = wrong(kind), True
            elif how == 1:
                values[name] = None
            else:
                values[name] = data.draw(values_of(kind), label=name)
        return values, bad

    def attempt(self, expected: type[BompaoError] | None, call: Callable[[], Any],
                what: str | None = None) -> Any:
        """Call; a refusal must be exactly the one predicted (None: success predicted).

        Args:
            expected: the refusal predicted, or None.
            call: the library call.
            what: what to count the outcome as, in the summary printed at the end.

        Returns:
            What the call returned, or :data:`REFUSED`.
        """
        if what is not None:
            self.world.tally[f"{what}: {expected.__name__ if expected else 'done'}"] += 1
        self.world.heard.clear()
        refusal: BompaoError | None = None
        try:
            result = call()
        except BompaoError as exc:
            refusal = exc
        if refusal is not None:
            assert expected is not None, f"predicted success, got {refusal!r}"
            assert type(refusal) is expected, f"predicted {expected.__name__}, got {refusal!r}"
            note(f"refused as predicted: {refusal!r}")
            return REFUSED
        assert expected is None, f"predicted {expected.__name__}, but it went through"
        return result

    def gate(self, model: Model, journey: CompiledJourney, trigger: str,
             now: datetime | None = None) -> bool:
        """Whether the gate of ``trigger`` is met on the model's state, as the oracle
        (``tests/oracle.py``, written apart from the engine) says."""
        facts = _facts(journey, model.fields, set(model.evidence),
                       {role: len(set(people)) for role, people in model.approvals.items()},
                       model.entered_at, now or self.clock.now)
        return oracle.gate_met(journey.transition(model.stage, trigger).gate, facts)

    def predict_move(self, model: Model, journey: CompiledJourney, trigger: str,
                     actor: Actor | None, role: str | None, override: bool
                     ) -> type[BompaoError] | None:
        """What ``advance`` must answer after scope and reason were found fine."""
        if trigger not in journey.triggers(model.stage):
            return unavailable(journey, trigger)
        transition = journey.transition(model.stage, trigger)
        roles = set(actor.roles) if actor is not None else set()
        if role is not None:
            if role not in roles:
                return PermissionDenied
            roles = {role}
        if transition.roles is not None and not roles & transition.roles:
            return PermissionDenied
        if not self.gate(model, journey, trigger):
            if not override:
                return GateRefused
            if not roles & transition.override_roles:
                return PermissionDenied
        return None

    def draw_trigger(self, data: st.DataObject, model: Model, journey: CompiledJourney) -> str:
        """Mostly a trigger the stage offers, sometimes any of the journey's."""
        offered = journey.triggers(model.stage)
        if offered and choose(data, range(8), "offered?"):
            return choose(data, offered, "trigger")
        return choose(data, sorted({t.trigger for t in journey.transitions}), "trigger")

    # setting up ---------------------------------------------------------------------------

    @initialize(family=st.one_of(st.sampled_from(bundled_families()), generated_journeys()),
                data=st.data())
    def start(self, family: Family, data: st.DataObject) -> None:
        """Publish version 1 of a journey family and create a first project."""
        self.family = family
        if family.key.startswith("gen-"):
            for version, text in sorted(family.versions.items()):
                note(f"--- {family.key}@{version}\n{text}")
        if (family.key, 1) not in self.world.published:  # published journeys stay
            assert self.engine.publish(family.versions[1]) == (family.key, 1)
            self.world.published.add((family.key, 1))
        self.published = {1}
        self.create_project(data, valid=True)

    @precondition(lambda self: len(self.models) < MAX_PROJECTS)
    @rule(data=st.data())
    def create_project(self, data: st.DataObject, *, valid: bool = False) -> None:
        """Create a project on a published version, sometimes with bad values."""
        version = choose(data, sorted(self.published), "version")
        journey = self.engine.journey(self.key, version)
        values, bad = self.draw_fields(data, journey, min_size=0, valid=valid)
        name = choose(data, ["Clean river", "  Night market ", "ตลาดน้ำ", *[" "] * (not valid)],
                      "name")
        partner = choose(data, [None, "cmu", "pea"], "partner")
        expected = InvalidValue if bad or not name.strip() else None
        project = self.attempt(expected, lambda: self.engine.create_project(
            f"{self.key}@{version}", name, partner=partner, cohort="2026", fields=values))
        if project is REFUSED:
            return
        assert (project.journey, project.version, project.stage) == (
            self.key, version, journey.initial)
        assert self.world.heard == [("stage_entered", project.id, journey.initial, None)]
        fields = {**journey.defaults(),
                  **{n: stored(journey.fields[n].type, v) for n, v in values.items()}}
        self.models[project.id] = Model(project.id, self.key, version, name.strip(), partner,
                                        journey.initial, self.clock.now, self.clock.now,
                                        fields)
        self.touched = {project.id}

    # changing a project -------------------------------------------------------------------

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def set_fields(self, data: st.DataObject) -> None:
        """Set one to three fields (an unknown one or a wrong type is refused)."""
        model, journey = self.pick(data)
        values, bad = self.draw_fields(data, journey, min_size=1)
        actor, hidden = self.draw_actor(data, model, journey)
        expected = NotFound if hidden else InvalidValue if bad else None
        if self.attempt(expected, lambda: self.engine.set_fields(
                model.id, values, actor=actor)) is REFUSED:
            return
        model.fields.update({n: stored(journey.fields[n].type, v) for n, v in values.items()})
        model.events += 1
        self.touched = {model.id}

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def add_evidence(self, data: st.DataObject) -> None:
        """Attach an evidence item (an undeclared one, or one with no url nor note, is
        refused)."""
        model, journey = self.pick(data)
        name = choose(data, [*sorted(journey.evidence), "bogus"], "item")
        url = choose(data, [None, f"https://example.org/{name}"], "url")
        text = choose(data, [None, "ดูแนบ", "see the attachment"], "note")
        actor, hidden = self.draw_actor(data, model, journey)
        expected = (InvalidValue if url is None and text is None else NotFound if hidden
                    else InvalidValue if name not in journey.evidence else None)
        if self.attempt(expected, lambda: self.engine.add_evidence(
                model.id, name, url=url, note=text, actor=actor)) is REFUSED:
            return
        model.evidence[name] = (url, text)
        model.events += 1
        self.touched = {model.id}

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        """Approve in a role (twice by one person in a visit is a conflict)."""
        model, journey = self.pick(data)
        role = choose(data, [*journey.roles, "bogus"], "role")
        by = choose(data, [*PEOPLE, " "], "by")
        actor, hidden = self.draw_actor(data, model, journey)
        # with an actor the approval is its own: by may only repeat its name
        who = actor.name if actor is not None else by
        expected = (PermissionDenied if actor is not None and by.strip() and by != actor.name
                    else InvalidValue if not who.strip() else NotFound if hidden
                    else InvalidValue if role not in journey.roles
                    else PermissionDenied if actor is not None and role not in actor.roles
                    else ConflictError if who in model.approvals.get(role, []) else None)
        if self.attempt(expected, lambda: self.engine.approve(
                model.id, role=role, by=by, actor=actor)) is REFUSED:
            return
        model.approvals.setdefault(role, []).append(who)
        model.events += 1
        self.touched = {model.id}

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def assign(self, data: st.DataObject) -> None:
        """Assign a person to a role (again is a no-op that is still recorded)."""
        model, journey = self.pick(data)
        role = choose(data, [*journey.roles, "bogus"], "role")
        person = choose(data, [*PEOPLE, ""], "person")
        actor, hidden = self.draw_actor(data, model, journey)
        expected = (InvalidValue if not person.strip() else NotFound if hidden
                    else InvalidValue if role not in journey.roles else None)
        if self.attempt(expected, lambda: self.engine.assign(
                model.id, role=role, person=person, actor=actor)) is REFUSED:
            return
        people = model.assignments.setdefault(role, [])
        if person not in people:
            people.append(person)
        model.events += 1
        self.touched = {model.id}

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def flag(self, data: st.DataObject) -> None:
        """Set or clear a flag."""
        model, journey = self.pick(data)
        name = choose(data, FLAGS, "flag")
        on = choose(data, (True, False), "on")
        actor, hidden = self.draw_actor(data, model, journey)
        if self.attempt(NotFound if hidden else None, lambda: self.engine.flag(
                model.id, name, on=on, actor=actor)) is REFUSED:
            return
        if on:
            model.flags.add(name)
        else:
            model.flags.discard(name)
        model.events += 1
        self.touched = {model.id}

    # gates and transitions ----------------------------------------------------------------

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def check(self, data: st.DataObject) -> None:
        """Check one gate, or all the stage offers; nothing is written."""
        model, journey = self.pick(data)
        offered = journey.triggers(model.stage)
        if choose(data, (False, True), "all?"):
            reports = self.attempt(None, lambda: self.engine.checks(model.id))
            assert [r.trigger for r in reports] == offered
            assert [r.passable for r in reports] == [
                self.gate(model, journey, t) for t in offered]
            return
        trigger = None if choose(data, (False, True), "first?") else self.draw_trigger(
            data, model, journey)
        actor, hidden = self.draw_actor(data, model, journey)
        wanted = trigger if trigger is not None else (offered[0] if offered else None)
        expected = (NotFound if hidden or wanted is None
                    else unavailable(journey, wanted) if wanted not in offered else None)
        report = self.attempt(expected, lambda: self.engine.check(model.id, trigger,
                                                                  actor=actor))
        if report is REFUSED:
            return
        assert (report.trigger, report.from_stage) == (wanted, model.stage)
        assert report.passable == self.gate(model, journey, str(wanted))
        assert report.passable == (not report.missing)

    def move(self, model: Model, journey: CompiledJourney, trigger: str,
             now: datetime) -> None:
        """The model of a project fired ``trigger``."""
        model.enter(journey.dest(model.stage, trigger), now)
        model.events += 1

    def advance_one(self, data: st.DataObject, *, override: bool) -> None:
        """Fire a drawn trigger of a drawn project as a drawn actor (an override when
        ``override``, with a reason or a blank one)."""
        model, journey = self.pick(data)
        trigger = self.draw_trigger(data, model, journey)
        actor, hidden = self.draw_actor(data, model, journey)
        role = choose(data, [None, None, *sorted({*actor.roles, "bogus"})] if actor else [None],
                      "as")
        reason = choose(data, ["the partner's demo day is next week"] * 5 + [" "],
                        "reason") if override else None
        expected = (InvalidValue if override and not (reason or "").strip()
                    else NotFound if hidden
                    else self.predict_move(model, journey, trigger, actor, role, override))
        self.fire(model, journey, trigger, actor, role, reason, expected,
                  "override" if override else "advance")

    def fire(self, model: Model, journey: CompiledJourney, trigger: str,
             actor: Actor | None, role: str | None, reason: str | None,
             expected: type[BompaoError] | None, what: str) -> None:
        """Call ``advance`` (an override when there is a reason) and check what it did."""
        gate_met = trigger in journey.triggers(model.stage) and self.gate(model, journey,
                                                                           trigger)
        source = model.stage
        moved = self.attempt(expected, lambda: self.engine.advance(
            model.id, trigger, actor, role=role, override=reason is not None, reason=reason),
            what)
        if moved is REFUSED:
            refused = [("gate_refused", model.id, trigger)] if expected is GateRefused else []
            assert self.world.heard == refused
            return
        self.move(model, journey, trigger, self.clock.now)
        assert moved.stage == model.stage
        assert self.world.heard == [("override", model.id, trigger)] * (not gate_met) + [
            ("stage_exited", model.id, source, trigger),
            ("stage_entered", model.id, model.stage, trigger)]
        self.touched = {model.id}

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def progress(self, data: st.DataObject) -> None:
        """Do what one gate of the stage asks, call by call (good field values, its
        evidence, enough approvals), then fire it as someone holding the roles it needs,
        overriding what calls cannot meet (time, ``<``, ``not``) when a role may: so that
        examples get past the first stages."""
        model, journey = self.pick(data)
        offered = journey.triggers(model.stage)
        onward = [t for t in offered if not journey.stages[journey.dest(model.stage, t)].final]
        if not offered:
            return
        trigger = choose(data, onward or offered, "trigger")  # finishing ends the example
        transition = journey.transition(model.stage, trigger)
        needed = list(leaves(transition.gate))
        values = {name: GOOD_VALUES[journey.fields[name].type]
                  for c in needed if c.kind == "expr" for name in c.names
                  if name in journey.fields}
        if values:
            self.attempt(None, lambda: self.engine.set_fields(model.id, values))
            model.fields.update({n: stored(journey.fields[n].type, v) for n, v in values.items()})
            model.events += 1
        for item in sorted({str(c.evidence) for c in needed if c.kind == "evidence"}):
            self.attempt(None, lambda item=item: self.engine.add_evidence(
                model.id, item, url=f"https://example.org/{item}"))
            model.evidence[item] = (f"https://example.org/{item}", None)
            model.events += 1
        for c in needed:
            role = str(c.role)
            for person in PEOPLE if c.kind == "approval" else ():
                if len(model.approvals.get(role, [])) >= c.count:
                    break
                if person not in model.approvals.get(role, []):
                    self.attempt(None, lambda role=role, person=person: self.engine.approve(
                        model.id, role=role, by=person))
                    model.approvals.setdefault(role, []).append(person)
                    model.events += 1
        self.touched = {model.id}
        if choose(data, range(4), "fire?") == 0:
            return  # prepared only: what it attached and approved stays for other rules
        roles = set(transition.roles or ())
        reason = None
        if not self.gate(model, journey, trigger) and transition.override_roles:
            roles.add(choose(data, sorted(transition.override_roles), "override as"))
            reason = "only time can meet the rest"
        actor = Actor(choose(data, PEOPLE, "actor"), roles)
        self.fire(model, journey, trigger, actor, None, reason,
                  self.predict_move(model, journey, trigger, actor, None, reason is not None),
                  "progress")

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Fire a trigger as some actor, maybe in one of its roles."""
        self.advance_one(data, override=False)

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def override(self, data: st.DataObject) -> None:
        """Fire a trigger past its gate, with or without a reason and an override role."""
        self.advance_one(data, override=True)

    @precondition(lambda self: len(self.models) > 1)
    @rule(data=st.data())
    def advance_cohort(self, data: st.DataObject) -> None:
        """Fire one trigger for several projects at once: all move or none does (they are
        taken in id order, the engine's one lock order)."""
        ids = data.draw(cohorts(tuple(sorted(self.models))), label="cohort")
        first, journey = self.models[ids[0]], self.journey_of(self.models[ids[0]])
        trigger = self.draw_trigger(data, first, journey)
        actor, _ = self.draw_actor(data, None, journey)
        expected: type[BompaoError] | None = None
        refused = []
        for pid in sorted(set(ids)):
            model = self.models[pid]
            if actor is not None and actor.partner not in (None, model.partner):
                expected = NotFound
                break
            found = self.predict_move(model, self.journey_of(model), trigger, actor, None,
                                      override=False)
            if found is GateRefused:
                refused.append(pid)
            elif found is not None:
                expected = found
                break
        if expected is None and refused:
            expected = GateRefused
        sources = {pid: self.models[pid].stage for pid in ids}
        moved = self.attempt(expected, lambda: self.engine.advance_many(ids, trigger, actor),
                             "advance_many")
        if moved is REFUSED:
            assert self.world.heard == [("gate_refused", pid, trigger) for pid in refused
                                        ] * (expected is GateRefused)
            return
        heard = []
        for pid in sorted(set(ids)):
            model = self.models[pid]
            self.move(model, self.journey_of(model), trigger, self.clock.now)
            heard += [("stage_exited", pid, sources[pid], trigger),
                      ("stage_entered", pid, model.stage, trigger)]
        assert [p.stage for p in moved] == [self.models[pid].stage for pid in dict.fromkeys(ids)]
        assert self.world.heard == heard
        self.touched = set(ids)

    # versions -----------------------------------------------------------------------------

    @precondition(lambda self: self.family is not None
                  and len(self.published) < len(self.family.versions))
    @rule(data=st.data())
    def publish(self, data: st.DataObject) -> None:
        """Publish a later version of the journey (the same content again is a no-op)."""
        assert self.family is not None
        version = choose(data, sorted(set(self.family.versions) - self.published), "version")
        text = self.family.versions[version]
        assert self.engine.publish(text) == (self.key, version)  # later: the same, a no-op
        if (self.key, version) not in self.world.published:
            self.world.published.add((self.key, version))
            changed = f"{text}# changed after publishing\n"  # other content, same version
            self.attempt(ConflictError, lambda: self.engine.publish(changed))
        self.published.add(version)

    @precondition(lambda self: self.models and len(self.published) > 1)
    @rule(data=st.data())
    def migrate(self, data: st.DataObject) -> None:
        """Migrate a project to another published version, with the mapping it needs,
        none, one that fills in its stage, one that moves it to any stage, or a wrong one;
        sometimes as a dry run."""
        assert self.family is not None
        model = self.models[choose(data, sorted(self.models), "project")]
        version = choose(data, [*sorted(self.published), 99], "to")
        if version == 99:
            self.attempt(NotFound, lambda: self.engine.migrate(model.id, 99))
            return
        target = self.engine.journey(self.key, version)
        how = choose(data, ["needed", "needed", "fill", "move", "none", "wrong"], "mapping")
        mapping = {} if how == "none" else self.family.mapping(model.version, version)
        if ((how == "fill" and mapping.get(model.stage, model.stage) not in target.stages)
                or how == "move"):
            mapping[model.stage] = choose(data, sorted(target.stages), "to stage")
        if how == "wrong":
            mapping[model.stage] = "nowhere"
        self.migrate_to(model, version, mapping, dry=choose(data, range(5), "dry run?") == 0)

    @precondition(lambda self: self.models and len(self.published) > 1)
    @rule(data=st.data())
    def migrate_and_back(self, data: st.DataObject) -> None:
        """Migrate a project to another version and straight back (a migration undone),
        with the mappings needed: what it keeps and plans must come back."""
        assert self.family is not None
        model = self.models[choose(data, sorted(self.models), "project")]
        home = model.version
        for version in (choose(data, sorted(self.published - {home}), "to"), home):
            target = self.engine.journey(self.key, version)
            mapping = self.family.mapping(model.version, version)
            if mapping.get(model.stage, model.stage) not in target.stages:
                mapping[model.stage] = choose(data, sorted(target.stages), "fill")
            self.migrate_to(model, version, mapping, dry=False)

    def migrate_to(self, model: Model, version: int, mapping: dict[str, str], *,
                   dry: bool) -> None:
        """Call ``migrate``; check the plan it returns against the model."""
        target = self.engine.journey(self.key, version)
        stage = mapping.get(model.stage, model.stage)
        problems = stage not in target.stages or any(
            new not in target.stages for new in mapping.values())
        plan = self.attempt(ConflictError if problems else None, lambda: self.engine.migrate(
            model.id, version, mapping, dry_run=dry), "migrate")
        if plan is REFUSED:
            return
        kept = {n: v for n, v in model.fields.items() if n in target.fields}
        fields = {**target.defaults(), **kept}
        assert plan == {"project": model.id, "from_version": model.version,
                        "to_version": version, "from_stage": model.stage, "to_stage": stage,
                        "dropped_fields": sorted(set(model.fields) - set(kept)),
                        "fields": fields, "dry_run": dry}
        if dry:
            return
        if stage != model.stage:
            model.enter(stage, self.clock.now)
        model.version, model.fields = version, fields
        model.events += 1
        self.touched = {model.id}

    # time and the scheduler ---------------------------------------------------------------

    @rule(jump=JUMPS)
    def time_passes(self, jump: timedelta | relativedelta) -> None:
        """The clock moves on; nothing runs."""
        self.clock.now += jump

    @precondition(lambda self: self.models)
    @rule(jump=JUMPS, batch=st.sampled_from([1, 3, 500]),
          limit=st.one_of(st.none(), st.none(), st.none(), st.integers(min_value=1, max_value=3)))
    def run_scheduler(self, jump: timedelta | relativedelta, batch: int,
                      limit: int | None) -> None:
        """The clock moves on and the dispatcher runs what is due (``run --once``)."""
        self.clock.now += jump
        now = self.clock.now
        seen = [r for rows in self.rows_seen.values() for r in rows]
        pending = {r.id for r in seen if r.status == "pending"}
        due = {r.id: r.project_id for r in seen if r.status == "pending" and r.due_at <= now}
        newest = max((r.id for r in seen), default=0)
        self.run_from = {pid: m.events for pid, m in self.models.items()}
        self.run_newest = newest
        config = Config(daemon_name="stateful", batch=batch)
        self.world.heard.clear()
        result = Dispatcher(self.engine, config).run_due(now, limit=limit)
        note("runs: " + ", ".join(f"{o['project']}:{o['spec']}#{o['occurrence']} {o['outcome']}"
                                  for o in result.outcomes))
        ran = [o["follow_up"] for o in result.outcomes]
        assert (result.failed, result.lost) == (0, 0), result.outcomes
        assert result.claimed == len(ran) == result.done + result.refused + result.cancelled
        assert len(set(ran)) == len(ran)
        assert all(i in pending or i > newest for i in ran), (ran, pending, newest)
        with self.world.reading() as conn:
            visits = dict(conn.execute(sa.select(follow_ups.c.id, follow_ups.c.visit).where(
                follow_ups.c.id.in_(ran))).all())
        moved: set[int] = set()
        self.expected_heard: list[tuple[Any, ...]] = []
        for outcome in result.outcomes:
            self.apply(outcome, visits[outcome["follow_up"]], moved, now)
        if limit is None:  # all that was due ran, or its project moved on first
            assert all(due[i] in moved for i in set(due) - set(ran)), set(due) - set(ran)
            assert self.engine.list_follow_ups(due_by=now) == []
        # follow-up transitions call the listeners too, after their commit (issue 10.5)
        assert sorted(self.world.heard, key=repr) == sorted(self.expected_heard, key=repr)
        self.touched = None

    @precondition(lambda self: self.models)
    @rule(jump=MONTHS)
    def catch_up(self, jump: relativedelta) -> None:
        """The daemon was down for months: it runs everything due since, oldest first."""
        self.run_scheduler(jump, 500, None)

    def apply(self, outcome: dict[str, Any], visit: int, moved: set[int],
              now: datetime) -> None:
        """What one follow-up run (of stage visit ``visit``) does to the model of its
        project; ``moved`` collects the projects a run moved."""
        model = self.models[outcome["project"]]
        if outcome["outcome"] == "cancelled":  # only when the project left that visit
            assert visit != model.visit, outcome
            return
        assert visit == model.visit, f"ran after its project left the stage: {outcome}"
        journey = self.journey_of(model)
        follow_up = next(f for f in journey.stages[model.stage].follow_ups
                         if f.name == outcome["spec"])
        spec = follow_up.spec
        if follow_up.action in ("flag", "unflag"):
            assert outcome["outcome"] == "done", outcome
            flags = model.flags | {spec.flag} if follow_up.action == "flag" else (
                model.flags - {spec.flag})
            if flags != model.flags:
                model.flags = {str(f) for f in flags}
                model.events += 1
        elif follow_up.action == "transition":
            met = self.gate(model, journey, str(spec.trigger), now)
            assert outcome["outcome"] == ("done" if met or spec.force else "refused"), outcome
            trigger = str(spec.trigger)
            if outcome["outcome"] == "done":
                left = model.stage
                self.move(model, journey, trigger, now)
                moved.add(model.id)
                self.expected_heard += [("stage_exited", model.id, left, trigger),
                                        ("stage_entered", model.id, model.stage, trigger)]
            else:
                self.expected_heard.append(("gate_refused", model.id, trigger))
        else:
            assert outcome["outcome"] == "done", outcome
        model.events += 1

    # looking back -------------------------------------------------------------------------

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def look_back(self, data: st.DataObject) -> None:
        """``state_at`` now is the stored project, and at a past moment the replay of the
        events up to it."""
        model = self.models[choose(data, sorted(self.models), "project")]
        assert view(self.engine.state_at(model.id, self.clock.now)) == view(
            self.snapshot[model.id])
        history = self.events_seen[model.id]
        seq = choose(data, range(1, len(history) + 1), "after event")
        later = choose(data, [timedelta(0), timedelta(minutes=1), timedelta(days=40)], "later")
        zone = choose(data, [UTC, ZONE_BANGKOK], "zone")
        when = (history[seq - 1].at + later).astimezone(zone)
        state = self.engine.state_at(model.id, when)
        assert view(state) == view(replay(e for e in history if e.at <= when))
        self.attempt(NotFound, lambda: self.engine.state_at(
            model.id, model.created_at - timedelta(seconds=1)))
        self.attempt(InvalidValue, lambda: self.engine.state_at(
            model.id, when.replace(tzinfo=None)))

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def list_projects(self, data: st.DataObject) -> None:
        """``list_projects`` finds the projects the model says match, in the actor's scope."""
        model = self.models[choose(data, sorted(self.models), "like project")]
        stage = choose(data, [None, model.stage], "stage")
        partner = choose(data, [None, model.partner, "pea"], "partner")
        scope = choose(data, [None, None, model.partner, "cmu"], "scope")
        actor = Actor("Ploy", partner=scope) if scope is not None else None
        found = self.engine.list_projects(journey=self.key, stage=stage, partner=partner,
                                          actor=actor)
        assert [p.id for p in found] == [
            m.id for m in sorted(self.models.values(), key=lambda m: m.id)
            if stage in (None, m.stage) and partner in (None, m.partner)
            and scope in (None, m.partner)]
        assert all(p == self.snapshot[p.id] for p in found)

    @precondition(lambda self: self.models and self.steps >= AUDIT_AFTER and not self.audited)
    @rule()
    def audit_agrees(self) -> None:
        """``bompao audit`` (``engine.audit``) finds no violation either: once an example,
        late in it (an audit costs as much as ten steps on PostgreSQL)."""
        report = audit(self.engine, now=self.clock.now)
        assert report.ok, report.summary()
        assert report.checked["projects"] == len(self.models)
        self.audited = True

    def teardown(self) -> None:
        """Count how far the example went, for the summary printed at the end."""
        visits = max((m.visit for m in self.models.values()), default=0)
        tally = self.world.tally
        tally[f"examples whose busiest project made {min(visits, 5)}{'+' * (visits >= 5)} "
              "stage visits"] += 1
        runs = sum(1 for h in self.events_seen.values() for e in h if e.kind == "follow_up")
        tally[f"examples with {'0' if not runs else '1-9' if runs < 10 else '10+'} "
              "follow-up runs"] += 1
        tally[f"examples on {'generated' if self.key.startswith('gen-') else self.key}"
              if self.family else "examples without a journey"] += 1

    # the invariants -----------------------------------------------------------------------

    @invariant()
    def engine_is_consistent(self) -> None:
        """Invariants 1-6 and the model, for every project, after every step."""
        with self.world.reading() as conn:
            stored_projects = {row.id: Project.from_row(row) for row in conn.execute(
                sa.select(projects).order_by(projects.c.id))}
            assert set(stored_projects) == set(self.models)
            history: dict[int, list[Event]] = {pid: [] for pid in self.models}
            for row in conn.execute(sa.select(events).order_by(events.c.project_id,
                                                               events.c.seq)):
                history[row.project_id].append(as_event(row))
            rows: dict[int, list[Any]] = {pid: [] for pid in self.models}
            for row in conn.execute(sa.select(follow_ups).order_by(follow_ups.c.id)):
                rows[row.project_id].append(row)
        for pid, project in stored_projects.items():
            if self.touched is not None and pid not in self.touched and pid in self.snapshot:
                assert project == self.snapshot[pid], "a project no step touched changed"
                assert rows[pid] == self.rows_seen[pid], "its follow-ups changed"
            self.check_project(project, history[pid], rows[pid])
        self.check_deliveries(history)
        self.snapshot, self.rows_seen, self.events_seen = stored_projects, rows, history
        self.touched, self.run_from = set(), None
        self.steps += 1

    def check_project(self, project: Project, history: list[Event], rows: list[Any]) -> None:
        """Invariants 1-6 for one project, and the model."""
        journey = self.engine.journey(project.journey, project.version)
        # (1) a stage of its pinned journey version
        assert project.stage in journey.stages
        # (4) gap-free, append-only, in time order
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert len(history) == project.lock_version
        assert history[0].kind == "created"
        before = self.events_seen.get(project.id, [])
        assert history[:len(before)] == before, "an event was rewritten"
        assert all(a.at <= b.at for a, b in pairwise(history))
        # (2) the replayed state is the stored one
        assert view(replay(history)) == view(project)
        # (3) every new transition went by the journey, through its gate
        for i in range(len(before), len(history)):
            if history[i].kind == "advanced":
                state = replay(history[:i])
                assert state is not None
                self.check_transition(state, history[i])
        # (5) follow-ups: pending ones are of this visit, due when the journey says
        self.check_follow_ups(project, journey, history, rows)
        # (6) each run is one event and one finished row
        self.check_runs(history, rows)
        # the model
        model = self.models[project.id]
        assert (project.journey, project.version, project.name, project.partner) == (
            model.key, model.version, model.name, model.partner)
        assert (project.stage, project.visit, project.stage_entered_at) == (
            model.stage, model.visit, model.entered_at)
        assert project.fields == model.fields
        assert project.flags == sorted(model.flags)
        assert {k: (v["url"], v["note"]) for k, v in project.evidence.items()} == model.evidence
        assert {r: [a["by"] for a in v] for r, v in project.approvals.items()} == model.approvals
        assert project.assignments == model.assignments
        assert project.lock_version == model.events
        assert project.created_at == model.created_at

    def check_transition(self, state: ProjectState, event: Event) -> None:
        """Invariant 3 for one ``advanced`` event, on the state replayed just before it."""
        journey = self.engine.journey(state.journey, state.version)
        assert event.from_stage == state.stage
        transition: CompiledTransition = journey.transition(state.stage, str(event.trigger))
        assert event.to_stage == transition.dest == journey.dest(state.stage,
                                                                 str(event.trigger))
        facts = _facts(journey, state.fields, set(state.evidence),
                       {role: len({a["by"] for a in v}) for role, v in state.approvals.items()},
                       state.stage_entered_at, event.at)
        passable = oracle.gate_met(transition.gate, facts)
        payload = event.payload
        assert [(c["kind"], c["met"]) for c in payload["gate"]] == oracle.gate_leaves(
            transition.gate, facts), (payload["gate"], event)
        assert payload["override"] is (not passable)
        if payload.get("follow_up"):
            assert (event.actor, event.role) == (SYSTEM.name, None)
            if payload["override"]:  # only a forced follow-up passes an unmet gate
                name = str(payload["reason"]).removeprefix("follow-up ").removesuffix(
                    " (force)")
                forced = [f for f in journey.stages[state.stage].follow_ups
                          if f.name == name and f.action == "transition"]
                assert forced, payload
                assert forced[0].spec.force, payload
        else:
            # the recorded role is the authority used: for an override, a role that may
            # override (one that may also fire the trigger, when there is such a role)
            if payload["override"]:
                assert str(payload["reason"]).strip()
                assert event.role in transition.override_roles, (
                    f"override recorded as {event.role!r}; may override: "
                    f"{sorted(transition.override_roles)}")
                both = transition.override_roles & (transition.roles or frozenset())
                if transition.roles is not None and both:
                    assert event.role in both
            elif transition.roles is not None:
                assert event.role in transition.roles
        if payload["override"]:  # what was missing: some of the unmet criteria, in order
            unmet = [c["says"] for c in payload["gate"] if not c["met"]]
            assert payload["missing"], payload
            assert [m for m in unmet if m in payload["missing"]] == payload["missing"], payload

    def check_follow_ups(self, project: Project, journey: CompiledJourney,
                         history: list[Event], rows: list[Any]) -> None:
        """Invariant 5: pending follow-ups belong to the current stage visit only."""
        versions = visit_versions(history)
        pending = [r for r in rows if r.status in ("pending", "running")]
        assert all(r.status == "pending" for r in pending), "a claim outlived its run"
        specs = {f.name: f for f in journey.stages[project.stage].follow_ups}
        for row in pending:
            assert (row.stage, row.visit) == (project.stage, project.visit), row
            assert row.spec in specs, row
            due = set()
            for version in versions:
                planned = self.engine.journey(project.journey, version)
                for f in planned.stages[project.stage].follow_ups:
                    if f.name == row.spec:
                        due.add(oracle.due(f.spec, project.stage_entered_at, project.fields,
                                           _kinds(planned), row.occurrence,
                                           timezone=planned.timezone,
                                           calendar=planned.calendar))
            assert row.due_at in due, (row, due)
        for name, follow_up in specs.items():
            mine = [r for r in rows if r.visit == project.visit and r.spec == name]
            waiting = [r for r in mine if r.status == "pending"]
            ran = [r for r in mine if r.status in ("done", "failed")]
            assert len(waiting) <= 1, mine
            if follow_up.spec.at is not None:
                if project.fields.get(follow_up.spec.at) is None:
                    assert not waiting, mine
                else:
                    assert waiting or ran, f"{name} is neither planned nor run: {mine}"
            elif follow_up.recurring:
                assert waiting, f"{name} recurs but its next run is not planned: {mine}"
            else:
                assert len(waiting) + len(ran) == 1, f"{name} planned or run {mine}"

    def check_runs(self, history: list[Event], rows: list[Any]) -> None:
        """Invariant 6: no follow-up occurrence ran twice; each run is one event."""
        runs = [e for e in history if e.kind == "follow_up"]
        ids = [e.payload["follow_up"] for e in runs]
        keys = [e.payload["idempotency_key"] for e in runs]
        assert len(set(ids)) == len(ids), f"a follow-up ran twice: {Counter(ids)}"
        assert len(set(keys)) == len(keys), f"a key ran twice: {Counter(keys)}"
        finished = {r.id: r for r in rows if r.status in ("done", "failed")}
        assert sorted(ids) == sorted(finished)
        where = dict(zip((e.seq for e in history), places(history), strict=True))
        for event in runs:
            row = finished[event.payload["follow_up"]]
            assert (event.payload["idempotency_key"], event.payload["spec"],
                    event.payload["occurrence"], event.from_stage) == (
                row.idempotency_key, row.spec, row.occurrence, row.stage)
            assert row.status == ("failed" if event.payload["outcome"] == "failed" else "done")
            assert datetime.fromisoformat(event.payload["due_at"]) == row.due_at <= event.at
            place = where[event.seq]
            if event.payload["action"] == "transition" and event.payload["outcome"] == "done":
                moved = history[event.seq - 2]  # the move it made is recorded just before it
                assert (moved.kind, moved.at, moved.payload.get("follow_up")) == (
                    "advanced", event.at, True), moved
                place = where[moved.seq]
            assert place == (row.stage, row.visit), (  # a run happens in its own visit
                f"{row.spec} of visit {row.visit} to {row.stage} ran in visit "
                f"{place[1]} to {place[0]}")
        if self.run_from is not None:  # a run catches up oldest first
            pid = history[0].project
            new = [datetime.fromisoformat(e.payload["due_at"]) for e in runs
                   if e.seq > self.run_from.get(pid, 0)
                   and e.payload["follow_up"] <= self.run_newest]  # not planned by the run
            assert new == sorted(new), new

    def check_deliveries(self, history: dict[int, list[Event]]) -> None:
        """Invariant 6 at the peer: each delivered notification is one ``done`` run."""
        delivered = [d["key"] for d in self.world.delivered]
        assert len(set(delivered)) == len(delivered), f"delivered twice: {Counter(delivered)}"
        recorded = {e.payload["idempotency_key"] for events_ in history.values()
                    for e in events_ if e.kind == "follow_up" and e.payload["action"] == "notify"
                    and e.payload["outcome"] == "done"}
        assert set(delivered) == recorded, (
            f"delivered, not recorded: {sorted(set(delivered) - recorded)}; "
            f"recorded, not delivered: {sorted(recorded - set(delivered))}")


def places(history: list[Event]) -> Iterator[tuple[str, int]]:
    """For each event, the (stage, visit) the project was in when it was written."""
    stage, visit = "", 0
    for event in history:
        if event.kind == "created":
            stage, visit = str(event.to_stage), 1
        yield stage, visit
        if event.kind == "advanced" or (event.kind == "migrated"
                                        and event.to_stage != event.from_stage):
            stage, visit = str(event.to_stage), visit + 1


def visit_versions(history: list[Event]) -> set[int]:
    """The journey versions the project has followed since it entered its stage."""
    versions: set[int] = set()
    current = 0
    for event in history:
        if event.kind == "created":
            current = int(event.payload["version"])
            versions = {current}
        elif event.kind == "advanced":
            versions = {current}
        elif event.kind == "migrated":
            current = int(event.payload["to_version"])
            versions = {current} if event.from_stage != event.to_stage else versions | {current}
    return versions


def test_random_sequences_keep_the_engine_consistent(engine: Engine, clock: Any,
                                                     example_multiplier: int) -> None:
    """500 random sequences per backend (5,000 with ``--slow``), every invariant after
    every step."""
    world = World(engine, clock)
    machine = type("Machine", (EngineMachine,), {"world": world})
    with world.session():
        try:
            # No health check is suppressed: none fires (drawing is cheap, the strategies
            # are cached; the slow part, the database, is the test, not data generation).
            run_state_machine_as_test(machine, settings=settings(
                max_examples=EXAMPLES * example_multiplier, stateful_step_count=STEPS,
                deadline=None, database=None,
                # no "explain" phase: tracing every line of a failing example costs minutes
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target,
                        Phase.shrink]))
        finally:
            print("\n".join(f"{n:6d}  {what}" for what, n in sorted(world.tally.items())))
