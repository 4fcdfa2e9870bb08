"""An oracle for gates and due times, written apart from the engine's own evaluation.

The stateful property test (``tests/engine/test_stateful.py``) checks what the engine
decided — a gate met or not, each criterion's verdict, when a follow-up is due — against
this module, which never calls ``CompiledCriterion.evaluate``, ``CompiledTransition
.evaluate``, ``CompiledFollowUp.due``, ``Duration.add``, the journey's CEL activation or
CEL itself. It reads only the *shape* of a compiled journey (criterion kinds, an
expression's text, a role and count, a duration's text, a follow-up's ``after``/
``every``/``at``) and evaluates it from the documented rules:

- an expression is one of the forms the test journeys use (``tests/strategies.py``'s
  generated gates and the bundled journeys), joined by ``&&``; an unset field makes it
  unmet (CEL's missing variable), never an error;
- ``approval`` counts distinct people since stage entry, ``evidence`` is attached,
  ``min_time_in_stage`` is passed once ``now`` reaches the stage entry plus the duration;
- durations are calendar arithmetic on the local wall clock of the journey's timezone
  (``dateutil.relativedelta``), business days skip weekends and the ``holidays``
  package's public holidays of the journey's calendar.

An expression of another form raises :class:`Unsupported`, so a new kind of test gate
cannot silently pass unchecked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

__all__ = ["Facts", "Unsupported", "due", "gate_leaves", "gate_met", "plus"]


class Unsupported(Exception):
    """An expression or duration this oracle does not know how to evaluate."""


@dataclass(frozen=True)
class Facts:
    """What a gate looks at: the model's own record of a project, and the time."""

    fields: Mapping[str, Any]
    kinds: Mapping[str, str]
    """Each declared field's type (``int``, ``date``, ``list[string]``, ...)."""
    evidence: frozenset[str]
    approvals: Mapping[str, int]
    """Distinct approvers per role since stage entry."""
    entered_at: datetime
    now: datetime
    timezone: str
    calendar: str | None


_DURATION = re.compile(r"^(\d+) (business day|day|week|month|year)s?$")


@functools.cache
def _holidays(calendar: str, year: int) -> frozenset[date]:
    import holidays  # noqa: PLC0415 - slow to import

    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None,
                                               years=year))


def plus(start: datetime, duration: str, *, timezone: str, calendar: str | None,
         times: int = 1) -> datetime:
    """``start`` plus ``times`` the duration text (``"3 business days"``), on the local
    wall clock of ``timezone``.

    Raises:
        Unsupported: a duration text of another form.
    """
    found = _DURATION.match(str(duration))
    if found is None:
        raise Unsupported(f"duration {duration!r}")
    n, unit = int(found.group(1)) * times, found.group(2)
    zone = ZoneInfo(timezone)
    wall = start.astimezone(zone).replace(tzinfo=None)
    if unit == "business day":
        while n > 0:
            wall += timedelta(days=1)
            if wall.weekday() < 5 and (calendar is None
                                       or wall.date() not in _holidays(calendar, wall.year)):
                n -= 1
    else:
        wall += relativedelta(**{f"{unit}s": n})
    return wall.replace(tzinfo=zone).astimezone(start.tzinfo)


# expressions ----------------------------------------------------------------------------

_COMPARE = re.compile(r"^(\w+) (>=|>|<=|<|==|!=) (-?\d+(?:\.\d+)?)$")
_SIZE = re.compile(r"^size\((\w+)\) (>=|>|<=|<|==|!=) (\d+)$")
_NOT_EMPTY = re.compile(r'^(\w+) != ""$')
_STARTS = re.compile(r'^(\w+)\.startsWith\("([^"]*)"\)$')
_IN = re.compile(r'^"([^"]*)" in (\w+)$')
_NOW = re.compile(r"^(\w+) (<|>) now$")
_HAS = re.compile(r"^has\(approvals\.(\w+)\)$")
_APPROVALS = re.compile(r"^approvals\.(\w+) (>=|>|<=|<|==|!=) (\d+)$")
_BOOL = re.compile(r"^(!?)(\w+)$")
_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


class _Missing(Exception):
    """A variable the expression reads is unset: CEL answers an error, the gate unmet."""


def _value(name: str, facts: Facts) -> Any:
    if name == "days_in_stage":
        return max(0, (facts.now - facts.entered_at) // timedelta(days=1))
    if name not in facts.kinds or facts.fields.get(name) is None:
        raise _Missing(name)
    return facts.fields[name]


def _term(text: str, facts: Facts) -> bool:
    if m := _COMPARE.match(text):
        return bool(_OPS[m.group(2)](_value(m.group(1), facts), float(m.group(3))))
    if m := _SIZE.match(text):
        return bool(_OPS[m.group(2)](len(_value(m.group(1), facts)), int(m.group(3))))
    if m := _NOT_EMPTY.match(text):
        return bool(_value(m.group(1), facts) != "")
    if m := _STARTS.match(text):
        return str(_value(m.group(1), facts)).startswith(m.group(2))
    if m := _IN.match(text):
        where = m.group(2)
        if where == "evidence":
            return m.group(1) in facts.evidence
        return m.group(1) in _value(where, facts)
    if m := _NOW.match(text):
        day = _value(m.group(1), facts)
        if facts.kinds[m.group(1)] == "date":
            moment = datetime.combine(date.fromisoformat(str(day)), time(0),
                                      ZoneInfo(facts.timezone))
        else:
            moment = datetime.fromisoformat(str(day))
        return moment < facts.now if m.group(2) == "<" else moment > facts.now
    if m := _HAS.match(text):
        return facts.approvals.get(m.group(1), 0) > 0
    if m := _APPROVALS.match(text):
        if facts.approvals.get(m.group(1), 0) == 0:
            raise _Missing(f"approvals.{m.group(1)}")
        return bool(_OPS[m.group(2)](facts.approvals[m.group(1)], int(m.group(3))))
    if m := _BOOL.match(text):
        value = _value(m.group(2), facts)
        if not isinstance(value, bool):
            raise Unsupported(f"{text!r} on a {type(value).__name__}")
        return value is not bool(m.group(1))
    raise Unsupported(f"expression {text!r}")


def expression_met(text: str, facts: Facts) -> bool:
    """Whether a gate expression holds: terms joined by ``&&``, evaluated left to right
    with CEL's short-circuit (a false term before an unset one is just false).

    Raises:
        Unsupported: a form this oracle does not know.
    """
    missing = False
    for term in (t.strip() for t in text.split("&&")):
        try:
            if not _term(term, facts):
                return False
        except _Missing:
            missing = True  # CEL: error && false is false; error && true is an error
    return not missing


# gates ----------------------------------------------------------------------------------

def _leaf_met(criterion: Any, facts: Facts) -> bool:
    kind = criterion.kind
    if kind == "expr":
        return expression_met(str(criterion.expr), facts)
    if kind == "evidence":
        return criterion.evidence in facts.evidence
    if kind == "approval":
        return facts.approvals.get(str(criterion.role), 0) >= int(criterion.count)
    if kind == "min_time_in_stage":
        return facts.now >= plus(facts.entered_at, str(criterion.duration),
                                 timezone=facts.timezone, calendar=facts.calendar)
    raise Unsupported(f"criterion kind {kind!r}")


def _met(criterion: Any, facts: Facts) -> bool:
    if criterion.kind == "all":
        return all(_met(child, facts) for child in criterion.children)
    if criterion.kind == "any":
        return any(_met(child, facts) for child in criterion.children)
    if criterion.kind == "not":
        return not _met(criterion.children[0], facts)
    return _leaf_met(criterion, facts)


def gate_met(gate: Any, facts: Facts) -> bool:
    """Whether a gate (a compiled criterion tree, or None for no gate) is met."""
    return gate is None or _met(gate, facts)


def gate_leaves(gate: Any, facts: Facts) -> list[tuple[str, bool]]:
    """``(kind, met)`` of each criterion a gate report lists, in order: ``all`` and
    ``any`` are flattened, a ``not`` stays whole; no gate is one met ``all``."""
    if gate is None:
        return [("all", True)]

    def walk(node: Any) -> Iterator[tuple[str, bool]]:
        if node.kind in ("all", "any"):
            for child in node.children:
                yield from walk(child)
        else:
            yield node.kind, _met(node, facts)

    return list(walk(gate))


# due times ------------------------------------------------------------------------------

def due(spec: Any, entered_at: datetime, fields: Mapping[str, Any], kinds: Mapping[str, str],
        occurrence: int, *, timezone: str, calendar: str | None) -> datetime | None:
    """When occurrence ``occurrence`` (0-based) of a follow-up is due, or None if never.

    ``after: D`` is due at entry + D; ``every: E`` at entry + (n+1)·E; both at entry + D +
    n·E; ``at: FIELD`` once, at local midnight of a date field (or at a datetime field),
    and never while the field is unset.
    """
    if spec.at is not None:
        value = fields.get(spec.at)
        if occurrence or value is None:
            return None
        if kinds[spec.at] == "date":
            return datetime.combine(date.fromisoformat(str(value)), time(0),
                                    ZoneInfo(timezone))
        return datetime.fromisoformat(str(value))
    where = {"timezone": timezone, "calendar": calendar}
    if spec.after is not None:
        first = plus(entered_at, str(spec.after), **where)
        if spec.every is None:
            return first if occurrence == 0 else None
        return plus(first, str(spec.every), times=occurrence, **where) if occurrence else first
    return plus(entered_at, str(spec.every), times=occurrence + 1, **where)
