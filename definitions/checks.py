"""Checks step: every consistency problem of a journey, reported at once.

Runs on a schema-valid :class:`JourneyDoc` with its :class:`Source` (for positions):
initial stages, references to stages, roles, fields, evidence and triggers,
reachability, dead ends, ways out of final stages, duplicate ``(trigger, from)``,
CEL syntax and type errors (positioned inside the expression), durations that
cannot work, ``at:`` on a non-date field, templates that do not parse.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bompao.definitions.document import parse_document, path_text
from bompao.definitions.expressions import (
    RESERVED,
    CelProblem,
    cel_message,
    compile_expression,
    make_env,
    problem_mark,
)
from bompao.definitions.indicators import cel_declarations, number_problem
from bompao.definitions.intake import cel_declarations as intake_declarations
from bompao.definitions.intake import check_intake, reserved_names
from bompao.definitions.messages import Message, unknown_name
from bompao.definitions.model import (
    ACTIONS,
    Criterion,
    FollowUpSpec,
    JourneyDoc,
    TransitionSpec,
)
from bompao.definitions.source import Cause, Source
from bompao.definitions.templates import TemplateProblem, check_template
from bompao.definitions.values import coerce
from bompao.errors import DefinitionError, Diagnostic

__all__ = ["check_document", "expand_sources", "wildcard_sources"]

Path = tuple[str | int, ...]
Refers = tuple[tuple[str, str], ...]
"""What a problem refers to, as :attr:`Source.causes` keys: a problem in the base
journey that one of those explains is reported where the partner caused it."""
_ACTION_KEYS = {
    "notify": {"to", "message"},
    "email": {"to", "message", "subject"},
    "flag": {"flag"},
    "unflag": {"flag"},
    "transition": {"trigger", "force"},
    "webhook": {"endpoint", "message"},
}
_REQUIRED = {"notify": ("to",), "email": ("to",), "flag": ("flag",), "unflag": ("flag",),
             "transition": ("trigger",), "webhook": ("endpoint",)}
_COMMON_KEYS = {"id", "after", "every", "at", "action", "title", "params"}


def wildcard_sources(finals: Mapping[str, bool], dests: str | Iterable[str]) -> list[str]:
    """What ``from: "*"`` means: every non-final stage that is none of the destinations.

    ``finals`` maps each stage, in declaration order, to whether it is final; the
    compiled state machine's wildcard and the checks both use this one rule.
    """
    excluded = {dests} if isinstance(dests, str) else set(dests)
    return [name for name, final in finals.items() if not final and name not in excluded]


def expand_sources(doc: JourneyDoc, source: Any, to: str | Iterable[str]) -> list[str]:
    """The stages a transition's ``from`` names; ``"*"`` is every non-final stage but
    ``to`` (for a branched transition, but any branch's ``to``)."""
    if source == "*":
        return wildcard_sources({name: stage.final for name, stage in doc.stages.items()}, to)
    return [source] if isinstance(source, str) else list(source)


def _dests(transition: TransitionSpec) -> list[str]:
    return [target.to for target in transition.targets()]


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none declared"


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    return unknown_name(what, name, known)


class _Checker:
    def __init__(self, doc: JourneyDoc, source: Source, functions: Sequence[Any] = ()) -> None:
        self.doc = doc
        self.functions = functions
        self.source = source
        self.problems: list[Diagnostic] = []
        self.roles = set(doc.roles)
        self.env: Any = None
        self.unknown_stages = False
        """An unknown stage is named somewhere: unreachable and dead-end stages may be
        its consequences, reported only after the causes and only if they remain."""
        self.graph_findings: dict[int, tuple[str, str]] = {}
        self._base_marks: set[tuple[str, int, int]] | None = None
        self._known_graph: tuple[dict[str, set[str]], set[str], set[str]] | None = None
        self._triggers: dict[str, set[str]] | None = None
        self._base_valid = False

    def problem(self, path: Path, message: str, *, key: bool = False, refers: Refers = (),
                finding: tuple[str, str] | None = None) -> None:
        diagnostic = self.source.diagnostic(path, message, key=key)
        if self._caused_by_partner(diagnostic):
            diagnostic = self._attribute(diagnostic, path, refers)
        if finding is not None:
            self.graph_findings[len(self.problems)] = finding
        self.problems.append(diagnostic)

    def _caused_by_partner(self, diagnostic: Diagnostic) -> bool:
        """A problem inside the base that the base alone does not have."""
        if diagnostic.file == self.source.file or self.source.base_source is None:
            return False
        if self._base_marks is None:
            base = self.source.base_source
            try:
                own = check_document(parse_document(base), base, self.functions)
            except DefinitionError:
                own = None
            self._base_marks = {(d.file, d.line, d.column) for d in own} \
                if own is not None else set()
            self._base_valid = own is not None
        return self._base_valid and (
            diagnostic.file, diagnostic.line, diagnostic.column) not in self._base_marks

    def _attribute(self, diagnostic: Diagnostic, path: Path, refers: Refers) -> Diagnostic:
        """A problem inside the base journey, reported at what the partner did to cause it
        (a ``remove`` entry, a replacing transition, else its ``extends``), with the base
        location in the message."""
        where = f"{diagnostic.file}:{diagnostic.line}:{diagnostic.column}"
        cause = next((self.source.causes[ref] for ref in refers
                      if ref in self.source.causes), None)
        if cause is None:
            mark = self.source.extends_mark or self.source.mark(())
            return Diagnostic(mark.file, mark.line, mark.column, Message(
                "extends.base", ref=self.source.base, problem=diagnostic.message, where=where))
        if cause.kind == "replace" and cause.transition is not None:
            trigger, source, stage = cause.transition
            message = Message("extends.replaced", trigger=trigger, source=source, stage=stage,
                              problem=diagnostic.message, where=where)
        else:
            consequence: Message | str = ""
            if cause.transition is not None and refers[0][0] != cause.kind.removesuffix("s"):
                trigger, source, stage = cause.transition
                consequence = Message("consequence.transition", trigger=trigger,
                                      source=source, stage=stage)
            message = Message("extends.removed", kind=cause.kind, name=cause.name,
                              consequence=consequence, where=where,
                              problem=diagnostic.message, fix=self._fix(path, cause))
        return Diagnostic(cause.mark.file, cause.mark.line, cause.mark.column, message)

    def _fix(self, path: Path, cause: Cause) -> Message:
        """How a partner repairs the base where its change broke ``path``."""
        if len(path) >= 3 and path[0] == "stages":
            return Message("fix.override", path=path_text(path[:3]))
        if len(path) >= 2 and path[0] == "transitions" and isinstance(path[1], int):
            transition = self.doc.transitions[path[1]]
            source = transition.from_ if isinstance(transition.from_, str) \
                else ", ".join(transition.from_)
            return Message("fix.transition", trigger=transition.trigger, source=source)
        return Message("fix.keep", name=cause.name)

    def run(self) -> list[Diagnostic]:
        self.settings()
        self.fields()
        self.stages()
        self.indicators()
        check_intake(self.doc, self.problem, _unknown)
        self.check_ins()
        self.transitions()
        self.follow_ups()
        self.graph()
        return self._root_causes_first()

    def _root_causes_first(self) -> list[Diagnostic]:
        """Sort by position, with consequences after their causes or left out.

        When an unknown stage is named, the unreachable and dead-end stages that
        reading it as the closest known stage would mend are left out, and the rest
        come after the causes. A stage that cannot be reached only because another
        unreachable stage is its way in is named in that stage's message instead.
        """
        def order(d: Diagnostic) -> tuple[str, int, int]:
            return d.file, d.line, d.column

        outgoing, exits, reached = self._graph(mend=self.unknown_stages)
        mended = ({("unreachable", name) for name in reached}
                  | {("dead_end", name) for name in exits}) if self.unknown_stages else set()
        unreachable = [name for name in self.doc.stages if name not in reached]
        through = self._unreachable_roots(unreachable, outgoing)
        causes: list[Diagnostic] = []
        consequences: list[Diagnostic] = []
        for index, found in enumerate(self.problems):
            diagnostic = found
            finding = self.graph_findings.get(index)
            if finding is None:
                causes.append(diagnostic)
                continue
            if finding in mended:
                continue
            rule, stage = finding
            if rule == "unreachable":
                if stage not in through:
                    continue
                if through[stage] and isinstance(diagnostic.message, Message) \
                        and diagnostic.message.key == "unreachable":
                    diagnostic = Diagnostic(
                        diagnostic.file, diagnostic.line, diagnostic.column,
                        Message("unreachable_with", **diagnostic.message.params,
                                others=", ".join(map(repr, through[stage]))))
            (consequences if self.unknown_stages else causes).append(diagnostic)
        return sorted(causes, key=order) + sorted(consequences, key=order)

    @staticmethod
    def _unreachable_roots(unreachable: list[str],
                           outgoing: dict[str, set[str]]) -> dict[str, list[str]]:
        """Each unreachable stage that is not reached through another unreachable stage,
        with the unreachable stages only it leads to."""
        inside = set(unreachable)
        entered = {nxt for name in unreachable for nxt in outgoing.get(name, ()) if
                   nxt in inside and nxt != name}
        roots = [name for name in unreachable if name not in entered]
        covered: set[str] = set()
        result: dict[str, list[str]] = {}

        def cover(root: str) -> None:
            result[root] = []
            covered.add(root)
            frontier = [root]
            while frontier:
                for nxt in sorted(outgoing.get(frontier.pop(), ())):
                    if nxt in inside and nxt not in covered:
                        covered.add(nxt)
                        result[root].append(nxt)
                        frontier.append(nxt)

        for root in roots:
            cover(root)
        for name in unreachable:  # cycles of unreachable stages: the first one stands
            if name not in covered:
                cover(name)
        return result

    def _graph(self, *, mend: bool) -> tuple[dict[str, set[str]], set[str], set[str]]:
        """(outgoing edges, stages with some way out, stages reached from the initial),
        in one pass over the transitions (the one without ``mend`` is made once and
        serves both the graph checks and the ordering of their findings).

        ``from: "*"`` expands as the state machine expands it: every non-final stage
        that is none of the transition's destinations. With ``mend``, an unknown stage
        name reads as the closest known one, or, with none close, still counts as a
        way out of its source.
        """
        if not mend and self._known_graph is not None:
            return self._known_graph
        stages = self.doc.stages

        def known(name: str) -> str | None:
            if name in stages:
                return name
            close = difflib.get_close_matches(name, list(stages), n=1) if mend else []
            return close[0] if close else None

        outgoing: dict[str, set[str]] = {name: set() for name in stages}
        exits: set[str] = set()
        for transition in self.doc.transitions:
            dests = _dests(transition)
            targets = {target for target in map(known, dests) if target is not None}
            if not targets and not mend:
                continue
            for name in expand_sources(self.doc, transition.from_, dests):
                source = known(name)
                if source is not None:
                    exits.add(source)
                    outgoing[source].update(targets)
        initial = next((name for name, stage in stages.items() if stage.initial), None)
        reached = {initial} if initial else set()
        frontier = list(reached)
        while frontier:
            for nxt in outgoing[frontier.pop()]:
                if nxt not in reached:
                    reached.add(nxt)
                    frontier.append(nxt)
        if not mend:
            self._known_graph = outgoing, exits, reached
        return outgoing, exits, reached

    def settings(self) -> None:
        try:
            ZoneInfo(self.doc.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(("timezone",), f"unknown timezone {self.doc.timezone!r}; use an "
                         "IANA name such as 'Asia/Bangkok'")
        spec = self.doc.calendar
        calendar = spec if spec is None or isinstance(spec, str) else spec.country
        if calendar is not None and calendar != "TH":
            from holidays.utils import list_supported_countries  # noqa: PLC0415 - slow import

            supported = list_supported_countries()
            country, _, subdivision = calendar.partition("-")
            if country not in supported:
                self.problem(("calendar",), f"unknown holiday calendar {calendar!r}; use an "
                             "ISO 3166 country code the holidays package knows, such as 'TH'")
            elif subdivision and subdivision not in supported[country]:
                known = ", ".join(supported[country][:12]) or "none"
                self.problem(("calendar",), f"unknown subdivision {subdivision!r} of "
                             f"{country!r} in calendar {calendar!r}; subdivisions: {known}")
        categories = getattr(self.doc.calendar, "categories", None)
        if categories is not None:
            from holidays import country_holidays  # noqa: PLC0415 - slow import

            country = str(calendar).partition("-")[0]
            with contextlib.suppress(NotImplementedError):
                offered = country_holidays(country).supported_categories
                for index, category in enumerate(categories):
                    if category not in offered:
                        self.problem(("calendar", "categories", index),
                                     f"unknown holiday category {category!r} for {country!r}; "
                                     f"categories: {', '.join(sorted(offered))}")
        for kind in ("roles", "override_roles", "assign_roles"):
            seen: set[str] = set()
            for index, role in enumerate(getattr(self.doc, kind)):
                if kind == "roles" and role in seen:
                    self.problem(("roles", index), f"role {role!r} is declared twice")
                elif kind in ("override_roles", "assign_roles"):
                    self.role((kind, index), role)
                seen.add(role)

    def role(self, path: Path, role: str) -> None:
        if role not in self.roles:
            self.problem(path, _unknown("role", role, self.roles), refers=(("role", role),))

    def fields(self) -> None:
        for name, spec in self.doc.fields.items():
            if name in RESERVED:
                self.problem(("fields", name), f"field name {name!r} is reserved; reserved "
                             f"names: {', '.join(sorted(RESERVED))}", key=True)
            if spec.default is not None:
                try:
                    coerce(spec.type, spec.default)
                except ValueError as exc:
                    self.problem(("fields", name, "default"),
                                 f"fields.{name}.default: {exc}")
        taken = RESERVED | reserved_names(self.doc)
        self.env = make_env({name: spec.type for name, spec in self.doc.fields.items()
                             if name not in taken}, self.functions,
                            {**cel_declarations(self.doc.indicators),
                             **intake_declarations(self.doc)})

    def stages(self) -> None:
        initial = [name for name, stage in self.doc.stages.items() if stage.initial]
        if not initial:
            self.problem(("stages",), "no initial stage: mark exactly one stage "
                         "with 'initial: true'")
        for name in initial[1:]:
            self.problem(("stages", name, "initial"), f"several initial stages "
                         f"({_listing(initial)}); exactly one may be initial", key=True)
        for name, stage in self.doc.stages.items():
            if stage.after is not None and stage.after not in self.doc.stages:
                self.problem(("stages", name, "after"),
                             _unknown("stage", stage.after, self.doc.stages))
            elif stage.after == name:
                self.problem(("stages", name, "after"), Message("after_itself", stage=name))
            if stage.initial and stage.final:
                self.problem(("stages", name, "final"),
                             f"stage {name!r} cannot be both initial and final", key=True)

    def indicators(self) -> None:
        """Each indicator's stages and owner exist, its aggregate fits its type, its
        baseline and target are values of its type."""
        for name, spec in self.doc.indicators.items():
            path: Path = ("indicators", name)
            for offset, stage in enumerate(spec.during or []):
                if stage not in self.doc.stages:
                    self.problem((*path, "during", offset),
                                 _unknown("stage", stage, self.doc.stages),
                                 refers=(("stage", stage),))
            if spec.during is not None and not spec.during:
                self.problem((*path, "during"), Message("indicator.during_empty", name=name))
            if spec.owner is not None:
                self.role((*path, "owner"), spec.owner)
            if spec.type == "bool" and spec.aggregate not in ("last", "max"):
                self.problem((*path, "aggregate"), Message(
                    "indicator.bool_aggregate", name=name, aggregate=spec.aggregate))
            if spec.type == "percent" and spec.aggregate == "sum":
                self.problem((*path, "aggregate"), Message("indicator.percent_sum", name=name))
            for key in ("baseline", "target"):
                value = getattr(spec, key)
                problem = None if value is None else number_problem(spec.type, value)
                if problem is not None:
                    self.problem((*path, key), Message("indicator.bad_bound", name=name, key=key,
                                                       problem=problem, kind=spec.type))
            if spec.at_risk_after is not None and spec.remind_after is None:
                self.problem((*path, "at_risk_after"),
                             Message("indicator.at_risk_needs_reminder", name=name))
            if spec.remind_after is not None and spec.owner is None:
                self.problem((*path, "remind_after"),
                             Message("indicator.remind_needs_owner", name=name))

    def check_ins(self) -> None:
        """Check-ins sit on final stages, once per duration, and ask for a bool indicator."""
        from bompao.definitions.alumni import survival_of  # noqa: PLC0415 - compiled cycle

        for name, stage in self.doc.stages.items():
            if not stage.check_ins:
                continue
            path: Path = ("stages", name, "check_ins")
            if not stage.final:
                self.problem(path, Message("alumni.not_final", stage=name), key=True)
            elif survival_of(self.doc, name) is None:
                self.problem(path, Message("alumni.no_survival", stage=name), key=True)
            seen: set[str] = set()
            for offset, after in enumerate(stage.check_ins):
                if str(after) in seen:
                    self.problem((*path, offset), Message("alumni.twice", after=str(after)))
                seen.add(str(after))

    def transitions(self) -> None:
        stages = self.doc.stages
        first_seen: dict[tuple[str, str], int] = {}
        for index, transition in enumerate(self.doc.transitions):
            path: Path = ("transitions", index)
            self.branches(path, transition)
            sources = expand_sources(self.doc, transition.from_, _dests(transition))
            for offset, name in enumerate(sources):
                where: Path = (*path, "from", offset) if isinstance(transition.from_, list) \
                    else (*path, "from")
                if name not in stages:
                    self.unknown_stages = True
                    self.problem(where, _unknown("stage", name, stages),
                                 refers=(("stage", name),))
                    continue
                if stages[name].final:
                    self.problem(where, f"transition {transition.trigger!r} leaves the final "
                                 f"stage {name!r}; final stages have no way out")
                pair = (transition.trigger, name)
                if pair in first_seen:
                    first = self.source.mark(("transitions", first_seen[pair]))
                    here = self.source.mark(where)
                    at = f"line {first.line}" if first.file == here.file \
                        else f"{first.file}:{first.line}"
                    self.problem(where, f"duplicate transition: trigger {transition.trigger!r} "
                                 f"from {name!r} is already defined at {at}")
                else:
                    first_seen[pair] = index
            for kind in ("roles", "override_roles"):
                for offset, role in enumerate(getattr(transition, kind) or []):
                    if role not in self.roles:  # the path only for a problem
                        self.role((*path, kind, offset), role)
            if transition.gate is not None:
                self.criterion((*path, "gate"), transition.gate)

    def branches(self, path: Path, transition: TransitionSpec) -> None:
        """Each destination names a stage; no branch hides behind a gateless one."""
        stages = self.doc.stages
        if transition.branches is None:
            if transition.to is not None and transition.to not in stages:
                self.unknown_stages = True
                self.problem((*path, "to"), _unknown("stage", transition.to, stages),
                             refers=(("stage", transition.to),))
            return
        open_at: int | None = None
        for offset, branch in enumerate(transition.branches):
            where: Path = (*path, "branches", offset)
            if branch.to not in stages:
                self.unknown_stages = True
                self.problem((*where, "to"), _unknown("stage", branch.to, stages),
                             refers=(("stage", branch.to),))
            if open_at is not None:
                self.problem(where, f"branch {offset + 1} of {transition.trigger!r} (to "
                             f"{branch.to!r}) can never be taken: branch {open_at + 1} before "
                             "it has no gate and always wins; give that branch a gate or "
                             "move it last")
            elif branch.gate is None:
                open_at = offset
            if branch.gate is not None:
                self.criterion((*where, "gate"), branch.gate)

    def criterion(self, path: Path, criterion: Criterion) -> None:
        kind = criterion.kind
        if kind in ("all", "any"):
            children = criterion.all_ if kind == "all" else criterion.any_
            base = path if self._is_list_gate(path) else (*path, kind)
            for offset, child in enumerate(children or []):
                self.criterion((*base, offset), child)
        elif kind == "not" and criterion.not_ is not None:
            self.criterion((*path, "not"), criterion.not_)
        elif kind == "expr" and criterion.expr is not None:
            self.expression((*path, "expr"), criterion.expr)
        elif kind == "evidence" and criterion.evidence is not None:
            if criterion.evidence not in self.doc.evidence:
                self.problem((*path, "evidence"),
                             _unknown("evidence item", criterion.evidence, self.doc.evidence),
                             refers=(("evidence", criterion.evidence),))
        elif kind == "approval" and criterion.approval is not None \
                and criterion.approval.role not in self.roles:  # the path only for a problem
            self.role((*path, "approval", "role"), criterion.approval.role)

    def _is_list_gate(self, path: Path) -> bool:
        node: Any = self.source.data
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return False
        return isinstance(node, list)

    def expression(self, path: Path, text: str) -> None:
        try:
            compile_expression(self.env, text)
        except CelProblem as problem:
            mark = self.source.mark(path)
            line, column = problem_mark(mark, problem.line, problem.column, text)
            message = cel_message(path_text(path), problem, text,
                                  {**{name: spec.type for name, spec in
                                      self.doc.fields.items()},
                                   **cel_declarations(self.doc.indicators),
                                   **intake_declarations(self.doc)})
            diagnostic = Diagnostic(mark.file, line, column, message)
            if self._caused_by_partner(diagnostic):
                names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
                diagnostic = self._attribute(diagnostic, path,
                                             tuple(("field", name) for name in names))
            self.problems.append(diagnostic)

    def follow_ups(self) -> None:
        for name, stage in self.doc.stages.items():
            ids: dict[str, int] = {}
            for index, spec in enumerate(stage.follow_ups):
                path: Path = ("stages", name, "follow_ups", index)
                if spec.id is not None:
                    if spec.id in ids:
                        self.problem((*path, "id"), f"follow-up id {spec.id!r} is used twice "
                                     f"in stage {name!r}")
                    ids[spec.id] = index
                self.follow_up(path, name, spec)

    def follow_up(self, path: Path, stage: str, spec: FollowUpSpec) -> None:
        if spec.every is not None and spec.every.count == 0:
            self.problem((*path, "every"), f"every: {spec.every} would run without end; "
                         "use at least 1")
        if spec.at is not None:
            field = self.doc.fields.get(spec.at)
            if field is None:
                self.problem((*path, "at"), _unknown("field", spec.at, self.doc.fields),
                             refers=(("field", spec.at),))
            elif field.type not in ("date", "datetime"):
                self.problem((*path, "at"), f"at: field {spec.at!r} is {field.type}; "
                             "'at' needs a date or datetime field")
        if spec.action not in _ACTION_KEYS:
            close = difflib.get_close_matches(spec.action, list(_ACTION_KEYS), n=1, cutoff=0.75)
            if close:
                self.problem((*path, "action"), f"unknown action {spec.action!r} (did you mean "
                             f"{close[0]!r}?); built-in actions: {', '.join(ACTIONS)}; other "
                             "names are plugin actions")
        given = {key for key in spec.model_fields_set if key != "from_"}
        if spec.action in _ACTION_KEYS:
            for key in _REQUIRED[spec.action]:
                if not getattr(spec, key):
                    self.problem(path, f"action {spec.action!r} needs {key!r}")
            stray = sorted(given - _COMMON_KEYS - _ACTION_KEYS[spec.action])
            for key in stray:
                self.problem((*path, key), f"key {key!r} does not apply to action "
                             f"{spec.action!r}; it takes: "
                             f"{', '.join(sorted(_ACTION_KEYS[spec.action]))}", key=True)
        for offset, role in enumerate(spec.to):
            if role not in self.roles:
                self.role((*path, "to", offset), role)
        if spec.action == "transition" and spec.trigger is not None:
            offered = self._offered().get(stage, set())
            if spec.trigger not in offered:
                listing: str = ", ".join(sorted(offered)) if offered else Message(
                    "none_declared")
                self.problem((*path, "trigger"), Message(
                    "trigger_not_offered", stage=stage, trigger=spec.trigger, listing=listing),
                             refers=(("trigger", spec.trigger),))
        if spec.action == "webhook" and spec.endpoint and "/" in spec.endpoint:
            self.problem((*path, "endpoint"), f"endpoint {spec.endpoint!r} looks like a URL; "
                         "a journey names an endpoint and the operator's configuration "
                         "gives its URL")
        for key in ("message", "subject"):
            for lang, text in (getattr(spec, key) or {}).items():
                try:
                    check_template(text)
                except TemplateProblem as problem:
                    self.problem((*path, key, lang), f"{key} ({lang}): {problem.message} "
                                 f"(template line {problem.line})")

    def _offered(self) -> dict[str, set[str]]:
        """The triggers each stage offers, made in one pass over the transitions the first
        time a follow-up fires one (not once per such follow-up)."""
        if self._triggers is None:
            self._triggers = {}
            for transition in self.doc.transitions:
                for name in expand_sources(self.doc, transition.from_, _dests(transition)):
                    self._triggers.setdefault(name, set()).add(transition.trigger)
        return self._triggers

    def graph(self) -> None:
        stages = self.doc.stages
        initial = next((name for name, stage in stages.items() if stage.initial), None)
        if initial is None:
            return
        outgoing, _, reached = self._graph(mend=False)
        for name, stage in stages.items():
            if name not in reached:
                self.problem(("stages", name), Message("unreachable", stage=name,
                                                       initial=initial), key=True,
                             refers=(("into", name),), finding=("unreachable", name))
            if not stage.final and not outgoing[name]:
                self.problem(("stages", name), Message("dead_end", stage=name), key=True,
                             finding=("dead_end", name))


def check_document(doc: JourneyDoc, source: Source,
                   functions: Sequence[Any] = ()) -> list[Diagnostic]:
    """Every consistency problem of ``doc``, sorted by position (empty when valid).

    ``functions`` are the custom CEL functions expressions may call.
    """
    return _Checker(doc, source, functions).run()
