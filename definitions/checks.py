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
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bompao.definitions.document import path_text
from bompao.definitions.expressions import (
    RESERVED,
    CelProblem,
    compile_expression,
    make_env,
    problem_mark,
)
from bompao.definitions.model import ACTIONS, Criterion, FollowUpSpec, JourneyDoc
from bompao.definitions.source import Source
from bompao.definitions.templates import TemplateProblem, check_template
from bompao.definitions.values import coerce
from bompao.errors import Diagnostic

__all__ = ["check_document", "expand_sources"]

Path = tuple[str | int, ...]
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


def expand_sources(doc: JourneyDoc, source: Any, to: str) -> list[str]:
    """The stages a transition's ``from`` names; ``"*"`` is every non-final stage but ``to``."""
    if source == "*":
        return [name for name, stage in doc.stages.items() if not stage.final and name != to]
    return [source] if isinstance(source, str) else list(source)


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none declared"


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {name!r}{hint}; {what}s: {_listing(known)}"


class _Checker:
    def __init__(self, doc: JourneyDoc, source: Source, functions: Sequence[Any] = ()) -> None:
        self.doc = doc
        self.functions = functions
        self.source = source
        self.problems: list[Diagnostic] = []
        self.roles = set(doc.roles)
        self.env: Any = None

    def problem(self, path: Path, message: str, *, key: bool = False) -> None:
        self.problems.append(self.source.diagnostic(path, message, key=key))

    def run(self) -> list[Diagnostic]:
        self.settings()
        self.fields()
        self.stages()
        self.transitions()
        self.follow_ups()
        self.graph()
        self.problems.sort(key=lambda d: (d.file, d.line, d.column))
        return self.problems

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
        for kind in ("roles", "override_roles"):
            seen: set[str] = set()
            for index, role in enumerate(getattr(self.doc, kind)):
                if kind == "roles" and role in seen:
                    self.problem(("roles", index), f"role {role!r} is declared twice")
                elif kind == "override_roles":
                    self.role((kind, index), role)
                seen.add(role)

    def role(self, path: Path, role: str) -> None:
        if role not in self.roles:
            self.problem(path, _unknown("role", role, self.roles))

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
        self.env = make_env({name: spec.type for name, spec in self.doc.fields.items()
                             if name not in RESERVED}, self.functions)

    def stages(self) -> None:
        initial = [name for name, stage in self.doc.stages.items() if stage.initial]
        if not initial:
            self.problem(("stages",), "no initial stage: mark exactly one stage "
                         "with 'initial: true'")
        for name in initial[1:]:
            self.problem(("stages", name, "initial"), f"several initial stages "
                         f"({_listing(initial)}); exactly one may be initial", key=True)
        for name, stage in self.doc.stages.items():
            if stage.initial and stage.final:
                self.problem(("stages", name, "final"),
                             f"stage {name!r} cannot be both initial and final", key=True)

    def transitions(self) -> None:
        stages = self.doc.stages
        first_seen: dict[tuple[str, str], int] = {}
        for index, transition in enumerate(self.doc.transitions):
            path: Path = ("transitions", index)
            if transition.to not in stages:
                self.problem((*path, "to"), _unknown("stage", transition.to, stages))
            sources = expand_sources(self.doc, transition.from_, transition.to)
            for offset, name in enumerate(sources):
                where: Path = (*path, "from", offset) if isinstance(transition.from_, list) \
                    else (*path, "from")
                if name not in stages:
                    self.problem(where, _unknown("stage", name, stages))
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
                    self.role((*path, kind, offset), role)
            if transition.gate is not None:
                self.criterion((*path, "gate"), transition.gate)

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
                             _unknown("evidence item", criterion.evidence, self.doc.evidence))
        elif kind == "approval" and criterion.approval is not None:
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
            self.problems.append(Diagnostic(
                mark.file, line, column, f"{path_text(path)}: CEL: {problem.message}"))

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
                self.problem((*path, "at"), _unknown("field", spec.at, self.doc.fields))
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
            self.role((*path, "to", offset), role)
        if spec.action == "transition" and spec.trigger is not None:
            offered = {t.trigger for t in self.doc.transitions
                       if stage in expand_sources(self.doc, t.from_, t.to)}
            if spec.trigger not in offered:
                self.problem((*path, "trigger"), f"no transition from stage {stage!r} offers "
                             f"trigger {spec.trigger!r}; it offers: {_listing(offered)}")
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

    def graph(self) -> None:
        stages = self.doc.stages
        outgoing: dict[str, set[str]] = {name: set() for name in stages}
        for transition in self.doc.transitions:
            for name in expand_sources(self.doc, transition.from_, transition.to):
                if name in outgoing and transition.to in stages:
                    outgoing[name].add(transition.to)
        initial = next((name for name, stage in stages.items() if stage.initial), None)
        if initial is None:
            return
        reached = {initial}
        frontier = [initial]
        while frontier:
            for nxt in outgoing[frontier.pop()]:
                if nxt not in reached:
                    reached.add(nxt)
                    frontier.append(nxt)
        for name, stage in stages.items():
            if name not in reached:
                self.problem(("stages", name), f"stage {name!r} cannot be reached from the "
                             f"initial stage {initial!r}", key=True)
            if not stage.final and not outgoing[name]:
                self.problem(("stages", name), f"stage {name!r} is not final and has no way "
                             "out: add a transition from it or mark it 'final: true'", key=True)


def check_document(doc: JourneyDoc, source: Source,
                   functions: Sequence[Any] = ()) -> list[Diagnostic]:
    """Every consistency problem of ``doc``, sorted by position (empty when valid).

    ``functions`` are the custom CEL functions expressions may call.
    """
    return _Checker(doc, source, functions).run()
