"""Extends step: a partner journey = its base journey, overridden by key, minus ``remove``.

Stages and indicators override by name (the keys a partner gives replace the base
entry's keys, so ``indicators: {people_reached: {target: 500}}`` changes one target),
transitions by ``(trigger, from)``, fields and evidence by name; roles add up.
``remove`` then drops stages (and the transitions into or out of them), transitions,
fields and evidence. Works on loaded data, before the schema step, so positions keep
pointing into whichever file each entry came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bompao.definitions.messages import Message
from bompao.definitions.source import Cause, Mark, Positions, Source
from bompao.errors import DefinitionError, Diagnostic, ExtendsError, NotFound

__all__ = ["Resolver", "order_stages", "parse_ref", "resolve_extends"]

Resolver = Callable[[str, int], Source]
"""Returns the loaded source of journey ``key`` at ``version``; raises NotFound."""

_REF = re.compile(r"^([a-z0-9][a-z0-9-]*)@([1-9][0-9]*)$")
_BY_NAME = ("fields", "evidence")
_INTAKE = ("application", "scoring", "coaching")
"""Intake keys merge key by key: a partner's ``scoring: {normalise: trimmed}`` keeps the
base's rubric (see :mod:`bompao.definitions.intake`)."""


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"key@3"`` → ``("key", 3)``; ``"key"`` → ``("key", None)``.

    Raises:
        NotFound: the reference is malformed.
    """
    match = _REF.match(ref)
    if match:
        return match.group(1), int(match.group(2))
    if re.match(r"^[a-z0-9][a-z0-9-]*$", ref):
        return ref, None
    raise NotFound(Message("journey.bad_ref", ref=ref))


def resolve_extends(source: Source, resolve: Resolver | None,
                    _chain: tuple[str, ...] = ()) -> Source:
    """Return ``source`` with its ``extends`` chain merged in (unchanged if none).

    Raises:
        ExtendsError: the base is unknown or malformed, the chain has a cycle, or
            ``remove`` names something the merged journey does not have.
    """
    ref = source.data.get("extends")
    if ref is None:
        if "remove" in source.data:
            raise ExtendsError([source.diagnostic(
                ("remove",), "remove: only a journey that extends another can remove from "
                "it; add 'extends: KEY@VERSION' or drop 'remove'", key=True)])
        order_stages(source.data.get("stages"))
        return source
    if not isinstance(ref, str) or not _REF.match(ref):
        raise ExtendsError([source.diagnostic(("extends",), f"extends: expected KEY@VERSION, "
                                              f"e.g. 'social-incubator@1', got {ref!r}")])
    me = f"{source.data.get('journey')}@{source.data.get('version')}"
    if ref in _chain or ref == me:
        cycle = " -> ".join((*_chain, me, ref)) if _chain else f"{me} -> {ref}"
        raise ExtendsError([source.diagnostic(("extends",), f"extends cycle: {cycle}")])
    if resolve is None:
        raise ExtendsError([source.diagnostic(
            ("extends",), f"cannot resolve extends {ref!r}: no journey catalog given")])
    key, version = parse_ref(ref)
    try:
        base = resolve(key, version or 1)
    except NotFound as exc:
        raise ExtendsError([source.diagnostic(("extends",), str(exc))]) from None
    except DefinitionError as exc:
        where = source.diagnostic(("extends",), f"the base journey {ref!r} is invalid")
        raise ExtendsError([where, *exc.diagnostics]) from None
    base = resolve_extends(base, resolve, (*_chain, me))
    return _Merger(base, source, ref).merge()


def order_stages(stages: Any) -> None:
    """Reorder a ``stages`` mapping in place so that each stage with ``after: OTHER``
    comes right after ``OTHER`` (several after one stage keep their declared order);
    the others keep theirs. An unknown or cyclic ``after`` leaves the stage where it
    was (the checks report it). In place, so recorded positions stay valid."""
    if not isinstance(stages, dict) or not any(
            isinstance(v, dict) and isinstance(v.get("after"), str) for v in stages.values()):
        return
    anchored: dict[str, list[str]] = {}
    roots: list[str] = []
    for name, spec in stages.items():
        anchor = spec.get("after") if isinstance(spec, dict) else None
        if isinstance(anchor, str) and anchor in stages and anchor != name:
            anchored.setdefault(anchor, []).append(name)
        else:
            roots.append(name)
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        ordered.append(name)
        for child in anchored.get(name, ()):
            place(child)

    for name in roots:
        place(name)
    ordered.extend(name for name in stages if name not in placed)  # a cycle of 'after'
    items = {name: stages[name] for name in ordered}
    stages.clear()
    stages.update(items)


class _Merger:
    def __init__(self, base: Source, child: Source, ref: str = "") -> None:
        self.base = base
        self.child = child
        self.ref = ref
        self.causes: dict[tuple[str, str], Cause] = dict(base.causes)
        self.positions = Positions()
        self.positions.merge(base.positions)
        self.positions.merge(child.positions)
        self.problems: list[Diagnostic] = []

    def merge(self) -> Source:
        base, child = self.base.data, self.child.data
        result: dict[str, Any] = {}
        self.positions.add_container(result, self.positions.container(child)
                                     or self.child.mark(()))
        for key in [*base, *(k for k in child if k not in base)]:
            if key == "remove":
                continue
            if key not in child:
                value, origin = base[key], base
            elif key not in base:
                value, origin = child[key], child
            else:
                value, origin = self._combine(key, base[key], child[key]), child
            result[key] = value
            marks = self.positions.entry(origin, key)
            if marks is not None:
                self.positions.add_entry(result, key, *marks)
        self._remove(result, child.get("remove"))
        order_stages(result.get("stages"))
        if self.problems:
            raise ExtendsError(sorted(self.problems, key=lambda d: (d.file, d.line, d.column)))
        return Source(file=self.child.file, data=result, positions=self.positions,
                      text=self.child.text, base=self.ref,
                      extends_mark=self.child.mark(("extends",)), causes=self.causes,
                      base_source=self.base)

    def _cause(self, keys: list[tuple[str, str]], mark: Mark, kind: str, name: str,
               transition: tuple[str, str, str] | None = None) -> None:
        """Remember what the partner did, for problems it causes in the base."""
        cause = Cause(mark, kind, name, transition)
        for key in keys:
            self.causes.setdefault(key, cause)

    def _dropped(self, item: Any, mark: Mark, kind: str, name: str) -> None:
        """A base transition was dropped by a removal at ``mark``."""
        if isinstance(item, dict) and isinstance(item.get("trigger"), str):
            source = item.get("from")
            text = source if isinstance(source, str) else ", ".join(map(str, source or []))
            transition = (item["trigger"], text, str(item.get("to")))
            keys = [("into", str(item.get("to")))]
            if kind != "replace":  # a replaced transition's trigger is still there
                keys.insert(0, ("trigger", item["trigger"]))
            self._cause(keys, mark, kind, name, transition)

    def _combine(self, key: str, base: Any, child: Any) -> Any:
        if key == "roles" and isinstance(base, list) and isinstance(child, list):
            return self._copy_list(base, [r for r in child if r not in base], child)
        if key in ("stages", "indicators") and isinstance(base, dict) \
                and isinstance(child, dict):
            return self._merge_stages(base, child)
        if key in _BY_NAME and isinstance(base, dict) and isinstance(child, dict):
            return self._overlay(base, child)
        if key in _INTAKE and isinstance(base, dict) and isinstance(child, dict):
            return self._overlay(base, child)  # a partner's keys replace the base's
        if key == "transitions" and isinstance(base, list) and isinstance(child, list):
            return self._merge_transitions(base, child)
        return child

    def _copy_list(self, base: list[Any], extra: list[Any], extra_from: list[Any]) -> list[Any]:
        result: list[Any] = []
        self.positions.add_container(result, self.positions.container(base)
                                     or self.base.mark(()))
        for items, origin in ((base, base), (extra, extra_from)):
            for item in items:
                index = origin.index(item) if origin is extra_from else len(result)
                marks = self.positions.entry(origin, index)
                result.append(item)
                if marks is not None:
                    self.positions.add_entry(result, len(result) - 1, *marks)
        return result

    def _overlay(self, base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.positions.add_container(result, self.positions.container(child)
                                     or self.child.mark(()))
        for key in [*base, *(k for k in child if k not in base)]:
            origin = child if key in child else base
            result[key] = origin[key]
            marks = self.positions.entry(origin, key)
            if marks is not None:
                self.positions.add_entry(result, key, *marks)
        return result

    def _merge_stages(self, base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
        result = self._overlay(base, child)
        for name, value in child.items():
            if name in base and isinstance(base[name], dict) and isinstance(value, dict):
                result[name] = self._overlay(base[name], value)
            elif name in base and value is None:
                result[name] = base[name]
        return result

    @staticmethod
    def _transition_key(item: Any) -> Any:
        """``(trigger, from)`` of a well-formed transition; None for anything else (the
        schema step reports malformed ones)."""
        if not isinstance(item, dict) or not isinstance(item.get("trigger"), str):
            return None
        source = item.get("from")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            return item["trigger"], tuple(source)
        return (item["trigger"], source) if isinstance(source, str) else None

    def _merge_transitions(self, base: list[Any], child: list[Any]) -> list[Any]:
        replaced = {self._transition_key(t): t for t in child if self._transition_key(t)}
        result: list[Any] = []
        self.positions.add_container(result, self.positions.container(child)
                                     or self.child.mark(()))
        used: set[int] = set()
        for origin_list in (base, child):
            for index, item in enumerate(origin_list):
                key = self._transition_key(item)
                if origin_list is base and key in replaced:
                    new = replaced[key]
                    if isinstance(item, dict) and new.get("to") != item.get("to"):
                        self._dropped(item, self.child.mark(("transitions", child.index(new))),
                                      "replace", str(new.get("trigger")))
                    item = new  # noqa: PLW2901 - the override takes the base's place
                    used.add(id(item))
                    origin, at = child, child.index(item)
                elif origin_list is child and id(item) in used:
                    continue
                else:
                    origin, at = origin_list, index
                result.append(item)
                marks = self.positions.entry(origin, at)
                if marks is not None:
                    self.positions.add_entry(result, len(result) - 1, *marks)
        return result

    def _remove(self, result: dict[str, Any], remove: Any) -> None:
        if remove is None:
            return
        if not isinstance(remove, dict):
            self._problem(("remove",), "remove: expected a mapping with stages, transitions, "
                          "fields, evidence or indicators")
            return
        # transitions first: removing a stage drops its transitions, and naming one of
        # those explicitly as well must not depend on the order of the keys
        for kind, names in sorted(remove.items(), key=lambda kv: kv[0] != "transitions"):
            path = ("remove", kind)
            if kind not in ("stages", "transitions", "fields", "evidence", "indicators"):
                self._problem(path, f"unknown key {kind!r} in remove; allowed: evidence, "
                              "fields, indicators, stages, transitions", key=True)
            elif not isinstance(names, list):
                self._problem(path, f"remove.{kind}: expected a list")
            elif kind == "transitions":
                self._remove_transitions(result, names)
            else:
                self._remove_named(result, kind, names)

    def _remove_named(self, result: dict[str, Any], kind: str, names: list[Any]) -> None:
        container = result.get(kind)
        if isinstance(container, dict):
            container = result[kind] = self._overlay(container, {})
        for index, name in enumerate(names):
            if not isinstance(name, str):
                self._problem(("remove", kind, index),
                              f"remove.{kind}[{index}]: expected a name, got {name!r}")
                continue
            if not isinstance(container, dict) or name not in container:
                known = ", ".join(sorted(container)) if isinstance(container, dict) else "none"
                self._problem(("remove", kind, index),
                              f"remove.{kind}: {name!r} is not in the base journey; "
                              f"it has: {known}")
                continue
            del container[name]
            mark = self.child.mark(("remove", kind, index))
            self._cause([(kind.removesuffix("s"), name)], mark, kind, name)
            if kind == "stages":
                self._drop_stage(result, name, mark)

    def _drop_stage(self, result: dict[str, Any], stage: str, mark: Mark) -> None:
        def keep(item: Any) -> Any:
            if not isinstance(item, dict) or item.get("to") == stage:
                self._dropped(item, mark, "stages", stage)
                return None
            source = item.get("from")
            if source == stage:
                self._dropped(item, mark, "stages", stage)
                return None
            branches = item.get("branches")
            if isinstance(branches, list) and any(
                    isinstance(b, dict) and b.get("to") == stage for b in branches):
                # a branch into the dropped stage goes; a transition left with none goes too
                rest = [b for b in branches if not (isinstance(b, dict) and b.get("to") == stage)]
                if not rest:
                    return None
                item = self._overlay(item, {"branches": rest})
            if isinstance(source, list) and stage in source:
                rest = [s for s in source if s != stage]
                return self._overlay(item, {"from": rest}) if rest else None
            return item

        self._filter_transitions(result, keep)

    def _remove_transitions(self, result: dict[str, Any], names: list[Any]) -> None:
        for index, entry in enumerate(names):
            transitions = result.get("transitions")
            if not isinstance(transitions, list):
                return
            if isinstance(entry, str):
                match = [t for t in transitions
                         if isinstance(t, dict) and t.get("trigger") == entry]
            elif isinstance(entry, dict):
                wanted = self._transition_key(entry)
                match = [t for t in transitions
                         if wanted is not None and self._transition_key(t) == wanted]
            else:
                match = []
            if not match:
                triggers = sorted({str(t.get("trigger")) for t in transitions
                                   if isinstance(t, dict)})
                self._problem(("remove", "transitions", index),
                              f"remove.transitions: {entry!r} matches no transition of the "
                              f"base journey; its triggers: {', '.join(triggers)}")
            doomed = {id(m) for m in match}
            for item in match:
                self._dropped(item, self.child.mark(("remove", "transitions", index)),
                              "transitions", str(item.get("trigger")))

            def drop(item: Any, doomed: set[int] = doomed) -> Any:
                return None if id(item) in doomed else item

            self._filter_transitions(result, drop)

    def _filter_transitions(self, result: dict[str, Any], keep: Callable[[Any], Any]) -> None:
        transitions = result.get("transitions")
        if not isinstance(transitions, list):
            return
        kept: list[Any] = []
        self.positions.add_container(kept, self.positions.container(transitions)
                                     or self.child.mark(()))
        for index, item in enumerate(transitions):
            new = keep(item)
            if new is None:
                continue
            kept.append(new)
            marks = self.positions.entry(transitions, index)
            if marks is not None:
                self.positions.add_entry(kept, len(kept) - 1, *marks)
        result["transitions"] = kept

    def _problem(self, path: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        self.problems.append(self.child.diagnostic(path, message, key=key))
