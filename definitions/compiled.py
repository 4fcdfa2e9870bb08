"""Compile step: a :class:`CompiledJourney` the engine runs, built once per journey version.

One ``transitions`` machine per journey version holds the stage graph and fires every
transition (no model per project: each firing passes its own per-call model; built on
first use; see :mod:`bompao.definitions.machine`),
gates become trees of :class:`CompiledCriterion` with compiled CEL programs, and
follow-ups get due-time functions. Nothing here touches a database or a clock:
callers pass ``now`` in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bompao.definitions.checks import expand_sources
from bompao.definitions.durations import Duration
from bompao.definitions.expressions import compile_expression, make_env
from bompao.definitions.indicators import VIEWS, cel_declarations
from bompao.definitions.intake import cel_declarations as intake_declarations
from bompao.definitions.messages import Localised, Message, did_you_mean
from bompao.definitions.model import (
    CalendarSpec,
    Criterion,
    EvidenceSpec,
    FieldSpec,
    FollowUpSpec,
    IndicatorSpec,
    JourneyDoc,
)
from bompao.definitions.texts import duration_text, pick
from bompao.definitions.values import check_bounds, coerce, from_text, to_cel
from bompao.errors import InvalidValue, NotFound, TriggerNotOffered

if TYPE_CHECKING:
    from bompao.definitions.machine import Firing

__all__ = [
    "CompiledBranch",
    "CompiledCriterion",
    "CompiledFollowUp",
    "CompiledJourney",
    "CompiledStage",
    "CompiledTransition",
    "CriterionResult",
    "GateContext",
    "compile_document",
]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTAKE = re.compile(r"\b(score\s*\.\s*(?:mean|weighted|count)|rank|"
                     r"sessions\s*\.\s*(?:count|minutes))\b")
_INDICATOR = re.compile(r"\bindicators\s*\.\s*([a-z_][a-z0-9_]*)\s*\.\s*(" + "|".join(VIEWS)
                        + r")\b")


@dataclass(frozen=True, slots=True)
class GateContext:
    """What a gate sees of a project at one moment."""

    fields: Mapping[str, Any]
    evidence: Mapping[str, Any]
    approvals: Mapping[str, int]
    entered_at: datetime
    now: datetime
    indicators: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: MappingProxyType({}))
    """Each indicator's summary (``total``, ``latest``, ...), read only for gates that
    name ``indicators.*`` (see :attr:`CompiledTransition.indicators`)."""
    intake: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """``score.mean``, ``rank``, ``sessions.count``...: the values of the intake keys,
    read only for gates that name them (see :mod:`bompao.engine.selection`)."""


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion's verdict, with the values it saw and its children's verdicts."""

    kind: str
    says: Mapping[str, str]
    met: bool
    seen: Mapping[str, Any]
    children: tuple[CriterionResult, ...] = ()

    def text(self, lang: str = "en") -> str:
        """The criterion's human text in ``lang``."""
        return pick(self.says, lang)

    def unmet(self) -> list[CriterionResult]:
        """The innermost unmet criteria (what is missing)."""
        if self.met:
            return []
        if self.kind in ("all", "any") and self.children:
            return [leaf for child in self.children for leaf in child.unmet()]
        return [self]

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready form."""
        result: dict[str, Any] = {"kind": self.kind, "says": self.text(lang), "met": self.met,
                                  "seen": dict(self.seen)}
        if self.children:
            result["criteria"] = [child.as_dict(lang) for child in self.children]
        return result


@dataclass(frozen=True)
class CompiledCriterion:
    """A gate criterion ready to evaluate."""

    kind: str
    says: Mapping[str, str]
    children: tuple[CompiledCriterion, ...] = ()
    expr: str | None = None
    program: Any = None
    names: tuple[str, ...] = ()
    evidence: str | None = None
    role: str | None = None
    count: int = 1
    duration: Duration | None = None
    reads: frozenset[str] | None = None
    """Every identifier in ``expr`` (a superset of the variables it reads): the
    activation built for it holds only these. None: all of them."""

    def evaluate(self, ctx: GateContext, journey: CompiledJourney) -> CriterionResult:
        """Evaluate against ``ctx``; never raises for missing data (it is simply unmet)."""
        if self.kind in ("all", "any", "not"):
            results = tuple(child.evaluate(ctx, journey) for child in self.children)
            if self.kind == "all":
                met = all(r.met for r in results)
            elif self.kind == "any":
                met = any(r.met for r in results)
            else:
                met = not results[0].met
            return CriterionResult(self.kind, self.says, met, {}, results)
        if self.kind == "expr":
            return self._expression(ctx, journey)
        if self.kind == "evidence":
            attached = self.evidence in ctx.evidence
            return CriterionResult(self.kind, self.says, attached,
                                   {"evidence": self.evidence, "attached": attached})
        if self.kind == "approval":
            have = int(ctx.approvals.get(self.role or "", 0))
            return CriterionResult(self.kind, self.says, have >= self.count,
                                   {"role": self.role, "approvals": have, "needed": self.count})
        assert self.duration is not None
        ready = self.duration.add(ctx.entered_at, timezone=journey.timezone,
                                  calendar=journey.calendar)
        return CriterionResult(self.kind, self.says, ctx.now >= ready, {
            "entered_at": ctx.entered_at.isoformat(), "passable_at": ready.isoformat()})

    def _expression(self, ctx: GateContext, journey: CompiledJourney) -> CriterionResult:
        activation = journey.activation(ctx, self.reads)
        seen = {}
        missing = []
        for name in self.names:
            if name in activation:
                value = activation[name]
                seen[name] = value if type(value) in _SCALARS else _plain(value)
            else:
                missing.append(name)
        try:
            value = self.program.eval(data=activation)
        except RuntimeError as exc:  # over CEL's iteration budget, for one
            seen["error"] = str(exc)
            return CriterionResult(self.kind, self.says, False, seen)
        if str(value.type()) == "ERROR":
            if missing:
                seen["missing"] = missing
            else:
                seen["error"] = str(value.value())
            return CriterionResult(self.kind, self.says, False, seen)
        return CriterionResult(self.kind, self.says, value.value() is True, seen)


_SCALARS = frozenset({int, str, float, bool})
"""Types a gate's ``seen`` holds as they are (:func:`_plain` is the identity on them)."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return sorted(value) if all(v is True or isinstance(v, Mapping) for v in
                                    value.values()) else dict(value)
    return value


@dataclass(frozen=True)
class CompiledFollowUp:
    """A follow-up of a stage with its due-time function."""

    name: str
    stage: str
    index: int
    spec: FollowUpSpec

    @property
    def action(self) -> str:
        """The action name."""
        return self.spec.action

    @property
    def recurring(self) -> bool:
        """Whether it runs again after each run."""
        return self.spec.every is not None

    def due(self, entered_at: datetime, fields: Mapping[str, Any], occurrence: int,
            journey: CompiledJourney) -> datetime | None:
        """When occurrence ``occurrence`` (0-based) is due, or None if it never is.

        ``at:`` follow-ups are due at local midnight of the date field (or at the
        datetime), once; they are None while the field is empty.
        """
        spec = self.spec
        tz, calendar = journey.timezone, journey.calendar
        if spec.at is not None:
            if occurrence > 0:
                return None
            value = fields.get(spec.at)
            if value is None:
                return None
            if journey.fields[spec.at].type == "date":
                return datetime.combine(datetime.fromisoformat(value).date(), time(0),
                                        ZoneInfo(tz))
            return datetime.fromisoformat(value)
        start = entered_at
        if spec.after is not None:
            start = spec.after.add(start, timezone=tz, calendar=calendar)
            if spec.every is None:
                return start if occurrence == 0 else None
            return spec.every.add(start, timezone=tz, calendar=calendar, times=occurrence) \
                if occurrence else start
        assert spec.every is not None
        return spec.every.add(start, timezone=tz, calendar=calendar, times=occurrence + 1)


_PASSES = CriterionResult("all", MappingProxyType({"en": "No gate", "th": "ไม่มีเงื่อนไข"}),
                          True, MappingProxyType({}))
"""The verdict of no gate (immutable, so one serves every call)."""


@dataclass(frozen=True)
class CompiledBranch:
    """One destination of a transition and the gate that leads there.

    A transition written with ``to``/``gate`` has one branch; one written with
    ``branches`` has one per entry, tried in order (``index`` 0 first).
    """

    index: int
    dest: str
    gate: CompiledCriterion | None
    title: Mapping[str, str] | None = None

    def evaluate(self, ctx: GateContext, journey: CompiledJourney) -> CriterionResult:
        """The gate's verdict (an empty ``all`` when there is no gate)."""
        if self.gate is None:
            return _PASSES
        return self.gate.evaluate(ctx, journey)


@dataclass(frozen=True)
class CompiledTransition:
    """One way out of one or more stages, with one or more branches (destinations)."""

    trigger: str
    sources: tuple[str, ...]
    branches: tuple[CompiledBranch, ...]
    roles: frozenset[str] | None
    override_roles: frozenset[str]
    title: Mapping[str, str] | None
    wildcard: bool = False
    """Declared ``from: "*"`` (the state machine's wildcard expands it)."""
    branched: bool = False
    """Declared with ``branches:`` (rather than one ``to``)."""
    indicators: frozenset[str] = frozenset()
    """The indicators its gates read: only for these does the engine read the
    project's measurements before evaluating them."""

    @property
    def dest(self) -> str:
        """The first branch's destination (the only one of a transition without branches)."""
        return self.branches[0].dest

    @property
    def dests(self) -> tuple[str, ...]:
        """Every branch's destination, in order."""
        return tuple(branch.dest for branch in self.branches)

    @property
    def gate(self) -> CompiledCriterion | None:
        """The first branch's gate (the only one of a transition without branches)."""
        return self.branches[0].gate

    def evaluate(self, ctx: GateContext, journey: CompiledJourney) -> CriterionResult:
        """The first branch's gate verdict (an empty ``all`` when it has no gate)."""
        return self.branches[0].evaluate(ctx, journey)


@dataclass(frozen=True)
class CompiledStage:
    """A stage and its follow-ups."""

    name: str
    title: Mapping[str, str] | None
    description: Mapping[str, str] | None
    initial: bool
    final: bool
    expected_duration: Duration | None
    follow_ups: tuple[CompiledFollowUp, ...]

    def label(self, lang: str = "en") -> str:
        """The stage's title in ``lang`` (its key if untitled)."""
        return pick(self.title, lang, self.name)


@dataclass
class CompiledJourney:
    """A validated journey version, ready for the engine. Shared by all its projects.

    ``machine`` is the journey's one ``transitions`` machine (no model per project),
    built on first use so that validating a file does not pay for importing it. It is
    what resolves a trigger in a stage and fires it (see :mod:`bompao.definitions.machine`);
    nothing beside it maps ``(trigger, stage)`` to a destination.
    """

    key: str
    version: int
    doc: JourneyDoc
    stages: dict[str, CompiledStage]
    transitions: list[CompiledTransition]
    source: str = ""
    file: str = ""
    _machine: Any = None
    _building: Any = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def machine(self) -> Any:
        """The state machine of this journey version (one, however many projects and threads)."""
        machine = self._machine
        if machine is None:
            with self._building:  # two threads' first use still build one machine
                if self._machine is None:
                    from bompao.definitions.machine import build_machine  # noqa: PLC0415

                    self._machine = build_machine(self)
                machine = self._machine
        return machine

    @property
    def title(self) -> Mapping[str, str] | None:
        """The journey's title texts."""
        return self.doc.title

    @property
    def timezone(self) -> str:
        """The IANA timezone of the journey."""
        return self.doc.timezone

    @property
    def calendar(self) -> str | CalendarSpec | None:
        """The holiday calendar for business days (a country code or the long form)."""
        return self.doc.calendar

    @property
    def partner(self) -> str | None:
        """The partner the journey belongs to, if any."""
        return self.doc.partner

    @property
    def roles(self) -> list[str]:
        """The declared roles."""
        return list(self.doc.roles)

    @property
    def fields(self) -> dict[str, FieldSpec]:
        """The declared fields."""
        return dict(self.doc.fields)

    @property
    def indicators(self) -> dict[str, IndicatorSpec]:
        """The declared impact indicators."""
        return dict(self.doc.indicators)

    @property
    def evidence(self) -> dict[str, EvidenceSpec]:
        """The declared evidence items."""
        return dict(self.doc.evidence)

    @property
    def initial(self) -> str:
        """The initial stage."""
        return next(name for name, stage in self.stages.items() if stage.initial)

    @property
    def ref(self) -> str:
        """``key@version``."""
        return f"{self.key}@{self.version}"

    def label(self, lang: str = "en") -> str:
        """The journey's title in ``lang``."""
        return pick(self.doc.title, lang, self.key)

    def triggers(self, stage: str) -> list[str]:
        """The triggers the stage offers, in declaration order."""
        return list(self.machine.get_triggers(stage))

    def _offered(self, stage: str, trigger: str) -> list[Any]:
        """The machine's transitions (one per branch) for ``trigger`` in ``stage``.

        Raises:
            NotFound: the journey has no such trigger (bad input).
            TriggerNotOffered: the journey has it, but not from this stage (a refusal;
                the message lists the triggers the stage offers).
        """
        event = self.machine.events.get(trigger)
        found = event.transitions.get(stage) if event is not None else None
        if found:
            return list(found)
        triggers = self.triggers(stage)
        offered = ", ".join(triggers) if triggers else Message("trigger.none_final")
        if event is None:
            raise NotFound(Message("trigger.unknown", trigger=trigger, ref=self.ref,
                                   stage=stage, offered=offered))
        raise TriggerNotOffered(Message("trigger.not_offered", trigger=trigger, stage=stage,
                                        offered=offered))

    def transition(self, stage: str, trigger: str) -> CompiledTransition:
        """The transition ``trigger`` fires from ``stage``, as the state machine resolves it.

        Raises:
            NotFound: the trigger is unknown, or not offered from this stage (the
                message lists the triggers that are).
        """
        compiled: CompiledTransition = self._offered(stage, trigger)[0].compiled
        return compiled

    def branches(self, stage: str, trigger: str) -> tuple[CompiledBranch, ...]:
        """The branches ``trigger`` tries from ``stage``, in the machine's order.

        Raises:
            NotFound: as :meth:`transition`.
        """
        return tuple(found.branch for found in self._offered(stage, trigger))

    def dest(self, stage: str, trigger: str) -> str:
        """Where ``trigger`` leads from ``stage`` by its first branch, as the machine says.

        Raises:
            NotFound: as :meth:`transition`.
        """
        return str(self._offered(stage, trigger)[0].dest)

    def fire(self, stage: str, trigger: str, context: GateContext, *,
             force: bool = False) -> Firing:
        """Fire ``trigger`` from ``stage`` on a fresh per-call model; change nothing else.

        The machine tries the branches in order and takes the first whose gate passes
        (with ``force``, the first branch whatever its gate). The returned
        :class:`~bompao.definitions.machine.Firing` says which branch was taken (None:
        no gate passed, the stage is unchanged), what each tried gate said, and what the
        exit and entry callbacks collected for the change to write.

        Raises:
            NotFound: as :meth:`transition`.
        """
        machine = self._machine or self.machine
        event = machine.events.get(trigger)
        if event is None or stage not in event.transitions:
            self._offered(stage, trigger)  # raises the NotFound that says what is offered
        firing: Firing = machine.firing_cls(self, stage, context, force=force)
        event.trigger(firing)
        return firing

    def coerce_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check values against the declared field types; return their stored forms.

        Raises:
            InvalidValue: an unknown field, or a value of the wrong type.
        """
        return self._convert(values, text=False)

    def fields_from_text(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Like :meth:`coerce_fields`, but text values are parsed (``12``, ``a,b``,
        ``2027-01-31``, ``true``), as the CLI and imports receive them.

        Raises:
            InvalidValue: an unknown field, or a value that is not of its type.
        """
        return self._convert(values, text=True)

    def _convert(self, values: Mapping[str, Any], *, text: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in values.items():
            spec = self.doc.fields.get(name)
            if spec is None:
                known = ", ".join(sorted(self.doc.fields)) or "none"
                raise InvalidValue(Message("field.unknown", name=name, ref=self.ref,
                                           hint=did_you_mean(name, self.doc.fields),
                                           fields=known))
            try:
                result[name] = check_bounds(from_text(spec.type, value) if text and isinstance(
                    value, str) else coerce(spec.type, value), spec.min, spec.max)
            except ValueError as exc:
                raise InvalidValue(Message("field.bad_value", name=name, problem=_problem(exc))
                                   ) from None
        return result

    def defaults(self) -> dict[str, Any]:
        """The stored forms of the declared defaults."""
        return {name: coerce(spec.type, spec.default) for name, spec in self.doc.fields.items()
                if spec.default is not None}

    def activation(self, ctx: GateContext, reads: frozenset[str] | None = None
                   ) -> dict[str, Any]:
        """The variables CEL sees for ``ctx``; with ``reads`` (the identifiers of one
        expression), only the fields, ``evidence``, ``approvals``, ``days_in_stage`` and
        ``now`` it names: a gate's activation is built at every advance."""
        specs = self.doc.fields
        data: dict[str, Any] = {}
        for name, value in ctx.fields.items():
            if value is not None and (reads is None or name in reads):
                spec = specs.get(name)
                if spec is not None:
                    data[name] = to_cel(spec.type, value, self.doc.timezone)
        if reads is None or "evidence" in reads:
            data["evidence"] = dict.fromkeys(ctx.evidence, True)
        if reads is None or "approvals" in reads:
            data["approvals"] = {role: int(n) for role, n in ctx.approvals.items()}
        if reads is None or "days_in_stage" in reads:
            data["days_in_stage"] = max(0, (ctx.now - ctx.entered_at).days)
        if reads is None or "now" in reads:
            data["now"] = ctx.now
        if ctx.indicators:
            for name, summary in ctx.indicators.items():
                for view in VIEWS:
                    value = summary.get(view)
                    if value is not None:
                        data[f"indicators.{name}.{view}"] = value
        if ctx.intake:
            data.update({k: v for k, v in ctx.intake.items() if v is not None})
        return data


def _default_says(criterion: Criterion, doc: JourneyDoc) -> dict[str, str]:
    kind = criterion.kind
    if kind == "expr":
        return {"en": str(criterion.expr)}
    if kind == "evidence":
        spec = doc.evidence.get(criterion.evidence or "")
        title = spec.title if spec else None
        name = criterion.evidence or ""
        return {"en": f"Evidence: {pick(title, 'en', name)}",
                "th": f"หลักฐาน: {pick(title, 'th', name)}"}
    if kind == "approval" and criterion.approval is not None:
        n, role = criterion.approval.count, criterion.approval.role
        return {"en": f"{n} approval{'s' if n != 1 else ''} from {role}",
                "th": f"การอนุมัติจาก {role} {n} ครั้ง"}
    if kind == "min_time_in_stage" and criterion.min_time_in_stage is not None:
        return {"en": f"At least {duration_text(criterion.min_time_in_stage)} in this stage",
                "th": f"อยู่ในขั้นนี้อย่างน้อย {duration_text(criterion.min_time_in_stage, 'th')}"}
    if kind == "all":
        return {"en": "All of the following", "th": "ครบทุกข้อต่อไปนี้"}
    if kind == "any":
        return {"en": "At least one of the following", "th": "อย่างน้อยหนึ่งข้อต่อไปนี้"}
    return {"en": "None of the following", "th": "ต้องไม่เป็นไปตามข้อต่อไปนี้"}


def _compile_criterion(criterion: Criterion, doc: JourneyDoc, env: Any,
                       reads: set[str]) -> CompiledCriterion:
    """The compiled form of ``criterion``; ``reads`` collects the indicators its
    expressions read (so that the transition need not walk its gates again)."""
    says = dict(criterion.says) if criterion.says else _default_says(criterion, doc)
    kind = criterion.kind
    if kind in ("all", "any", "not"):
        children = criterion.all_ if kind == "all" else criterion.any_ if kind == "any" \
            else [criterion.not_]
        return CompiledCriterion(kind, says, tuple(
            _compile_criterion(c, doc, env, reads) for c in children or [] if c is not None))
    if kind == "expr":
        text = str(criterion.expr)
        fields = doc.fields
        names = [n for n in _IDENT.findall(text) if n in fields or n == "days_in_stage"]
        if "indicators" in text:
            for match in _INDICATOR.finditer(text):
                reads.add(match.group(1))
                names.append(f"indicators.{match.group(1)}.{match.group(2)}")
        if doc.scoring is not None or doc.coaching is not None:
            names.extend(re.sub(r"\s+", "", m.group(1)) for m in _INTAKE.finditer(text))
        return CompiledCriterion(kind, says, expr=text, program=compile_expression(env, text),
                                 names=tuple(dict.fromkeys(names)),
                                 reads=frozenset(_IDENT.findall(text)))
    if kind == "evidence":
        return CompiledCriterion(kind, says, evidence=criterion.evidence)
    if kind == "approval" and criterion.approval is not None:
        return CompiledCriterion(kind, says, role=criterion.approval.role,
                                 count=criterion.approval.count)
    return CompiledCriterion(kind, says, duration=criterion.min_time_in_stage)


def compile_document(doc: JourneyDoc, *, source: str = "", file: str = "",
                     functions: Sequence[Any] = ()) -> CompiledJourney:
    """Compile a checked document. Call only after the checks found no problem.

    Raises:
        CelProblem: an expression does not compile (the checks report it first).
    """
    env = make_env({name: spec.type for name, spec in doc.fields.items()}, functions,
                   {**cel_declarations(doc.indicators), **intake_declarations(doc)})
    stages: dict[str, CompiledStage] = {}
    for name, spec in doc.stages.items():
        follow_ups = tuple(
            CompiledFollowUp(f.id or f"{f.action}_{index}", name, index, f)
            for index, f in enumerate(spec.follow_ups))
        if doc.indicators:  # reminders and check-ins are follow-ups too (issue 13)
            from bompao.definitions.alumni import check_ins_of  # noqa: PLC0415 - cycle
            from bompao.definitions.reminders import reminders_of  # noqa: PLC0415 - cycle

            follow_ups += reminders_of(doc, name, len(follow_ups))
            follow_ups += check_ins_of(doc, name, len(follow_ups))
        stages[name] = CompiledStage(name, spec.title, spec.description, spec.initial,
                                     spec.final, spec.expected_duration, follow_ups)
    transitions: list[CompiledTransition] = []
    override_default = frozenset(doc.override_roles)
    for item in doc.transitions:
        targets = item.targets()
        sources = tuple(expand_sources(doc, item.from_, [t.to for t in targets]))
        reads: set[str] = set()
        branches = tuple(
            CompiledBranch(index, target.to, _compile_criterion(target.gate, doc, env, reads)
                           if target.gate is not None else None, target.title)
            for index, target in enumerate(targets))
        transitions.append(CompiledTransition(
            item.trigger, sources, branches,
            frozenset(item.roles) if item.roles is not None else None,
            frozenset(item.override_roles) if item.override_roles is not None
            else override_default,
            item.title, wildcard=item.from_ == "*", branched=item.branches is not None,
            indicators=frozenset(reads)))
    return CompiledJourney(doc.journey, doc.version, doc, stages, transitions,
                           source=source, file=file)


def _problem(error: ValueError) -> str:
    """What a value error says: its message (still able to render in Thai), else text."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, Localised) else str(error)
