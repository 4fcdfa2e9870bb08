"""CEL subset → Z3: a term's value and whether CEL would give a value at all.

Every term is a pair (value, defined): CEL gives an error, not a value, for a field
that is not set, a division by zero, an int overflow or a missing map key, and its
``&&``/``||`` absorb an error when the other side decides the result. A gate
criterion ``expr`` is met when its expression is defined and true, so modelling
both halves keeps ``not:`` of an expression exact as well.

Sorts: ``int`` is a Z3 integer kept within 64 bits (overflow is an error, as in
CEL), ``float`` is IEEE binary64 (NaN and infinities included unless the field
declares ``min``/``max``), strings are Z3 strings of at most
:data:`~bompao.definitions.values.MAX_TEXT` characters, a list is seen only through
its size. ``days_in_stage`` is the whole days of the time in stage ``T`` (days, real).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import z3

from bompao.definitions.deep.cel import Node, OutsideSubset
from bompao.definitions.messages import Message
from bompao.definitions.model import FieldSpec
from bompao.definitions.values import MAX_ITEMS, MAX_TEXT

__all__ = ["Term", "Vocabulary", "translate"]

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_F64 = z3.Float64()
_RNE = z3.RNE()


@dataclass(frozen=True)
class Term:
    """A translated sub-expression: its Z3 value, when CEL defines it, and its type."""

    value: Any
    defined: Any
    type: str


class Vocabulary:
    """The Z3 variables of one journey: each field's value and whether it is set, each
    evidence item, each role's approval count, and the time in stage.

    ``constraints`` holds what is always true of them (types, 64-bit ints, string and
    list limits, the fields' ``min``/``max``).
    """

    def __init__(self, fields: Mapping[str, FieldSpec]) -> None:
        self.fields = fields
        self.constraints: list[Any] = []
        self._terms: dict[str, Term] = {}
        self._evidence: dict[str, Any] = {}
        self._approvals: dict[str, tuple[Any, Any]] = {}
        self._lengths: dict[str, Any] = {}
        self.time = z3.Real("T")
        self.days = z3.Int("days_in_stage")
        self.constraints += [self.time >= 0, self.days == z3.ToInt(self.time)]

    def field(self, name: str) -> Term:
        """The term of field ``name`` (its value while set).

        Raises:
            OutsideSubset: a date or datetime field.
        """
        if name in self._terms:
            return self._terms[name]
        spec = self.fields[name]
        kind: str = spec.type
        present = z3.Bool(f"set:{name}")
        if kind == "int":
            value: Any = z3.Int(name)
            bounds = [value >= _INT_MIN, value <= _INT_MAX]
            if spec.min is not None:
                bounds.append(value >= int(spec.min))
            if spec.max is not None:
                bounds.append(value <= int(spec.max))
            self.constraints.append(z3.And(*bounds))
        elif kind == "float":
            value = z3.FP(name, _F64)
            if spec.min is not None:
                self.constraints.append(z3.fpGEQ(value, _fp(float(spec.min))))
            if spec.max is not None:
                self.constraints.append(z3.fpLEQ(value, _fp(float(spec.max))))
        elif kind == "bool":
            value = z3.Bool(name)
        elif kind == "string":
            value = z3.String(name)
            self.constraints.append(z3.Length(value) <= MAX_TEXT)
            if name in self._lengths:
                self.constraints.append(z3.Length(value) == self._lengths[name])
        elif kind.startswith("list["):
            value = z3.Int(f"size:{name}")
            self.constraints.append(z3.And(value >= 0, value <= MAX_ITEMS))
            kind = "list"
        else:
            raise OutsideSubset(Message("subset.dates", name=name, kind=kind))
        term = Term(value, present, kind)
        self._terms[name] = term
        return term

    def length(self, name: str) -> Term:
        """``size()`` of string field ``name``: an integer, so that a journey whose
        strings are only measured never needs the (slow) theory of strings."""
        if name not in self._lengths:
            length = z3.Int(f"size:{name}")
            self.constraints.append(z3.And(length >= 0, length <= MAX_TEXT))
            self._lengths[name] = length
            if name in self._terms:
                self.constraints.append(z3.Length(self._terms[name].value) == length)
        return Term(self._lengths[name], z3.Bool(f"set:{name}"), "int")

    def evidence(self, name: str) -> Any:
        """Whether evidence ``name`` is attached."""
        if name not in self._evidence:
            self._evidence[name] = z3.Bool(f"evidence:{name}")
        return self._evidence[name]

    def approvals(self, role: str) -> tuple[Any, Any]:
        """The approvals in ``role`` since stage entry, and whether the role is a key of
        ``approvals`` (it is whenever someone approved)."""
        if role not in self._approvals:
            count, present = z3.Int(f"approvals:{role}"), z3.Bool(f"approved:{role}")
            self.constraints += [count >= 0, z3.Implies(count >= 1, present)]
            self._approvals[role] = (count, present)
        return self._approvals[role]


def _fp(value: float) -> Any:
    return z3.FPVal(value, _F64)


def _int_ok(value: Any) -> Any:
    return z3.And(value >= _INT_MIN, value <= _INT_MAX)


def _trunc_div(a: Any, b: Any) -> Any:
    return z3.If(a >= 0, z3.If(b > 0, a / b, -(a / -b)), z3.If(b > 0, -(-a / b), -a / -b))


_COMPARE_FP = {"<": z3.fpLT, "<=": z3.fpLEQ, ">": z3.fpGT, ">=": z3.fpGEQ, "==": z3.fpEQ}


class _Translator:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.v = vocabulary

    def term(self, node: Node) -> Term:
        if node.kind == "lit":
            value = node.value
            if isinstance(value, bool):
                return Term(z3.BoolVal(value), z3.BoolVal(True), "bool")
            if isinstance(value, int):
                return Term(z3.IntVal(value), z3.BoolVal(True), "int")
            if isinstance(value, float):
                return Term(_fp(value), z3.BoolVal(True), "float")
            return Term(z3.StringVal(value), z3.BoolVal(True), "string")
        if node.kind == "var":
            return self.variable(node.value)
        if node.kind == "op":
            return self.operator(node)
        if node.kind == "call":
            return self.call(node)
        if node.kind in ("select", "index"):
            return self.member(node)
        raise OutsideSubset(Message("subset.list_literal"))

    def variable(self, name: str) -> Term:
        if name == "days_in_stage":
            return Term(self.v.days, z3.BoolVal(True), "int")
        if name == "now":
            raise OutsideSubset(Message("subset.now"))
        if name in ("evidence", "approvals"):
            raise OutsideSubset(Message("subset.whole_map", name=name))
        if name not in self.v.fields:
            raise OutsideSubset(Message("subset.name", name=name))
        return self.v.field(name)

    def key(self, node: Node) -> str:
        if node.kind == "lit" and isinstance(node.value, str):
            return str(node.value)
        raise OutsideSubset(Message("subset.map_key"))

    def map_entry(self, map_name: str, key: str) -> Term:
        if map_name == "evidence":
            return Term(z3.BoolVal(True), self.v.evidence(key), "bool")
        count, present = self.v.approvals(key)
        return Term(count, present, "int")

    def member(self, node: Node) -> Term:
        target = node.args[0]
        if target.kind == "var" and target.value in ("evidence", "approvals"):
            key = node.value if node.kind == "select" else self.key(node.args[1])
            return self.map_entry(target.value, key)
        raise OutsideSubset(Message("subset.select" if node.kind == "select"
                                    else "subset.index"))

    def call(self, node: Node) -> Term:
        name, args = node.value, node.args
        if name == "has" and len(args) == 1 and args[0].kind == "select":
            entry = self.member(args[0])
            return Term(entry.defined, z3.BoolVal(True), "bool")
        if name == "size" and len(args) == 1:
            target = args[0]
            if target.kind == "var" and self.v.fields.get(target.value) is not None \
                    and self.v.fields[target.value].type == "string":
                return self.v.length(target.value)
            inner = self.term(target)
            if inner.type == "string":
                return Term(z3.Length(inner.value), inner.defined, "int")
            if inner.type == "list":
                return Term(inner.value, inner.defined, "int")
            raise OutsideSubset(Message("subset.size_of", type=inner.type))
        if name in ("contains", "startsWith", "endsWith") and len(args) == 2:
            text, part = self.term(args[0]), self.term(args[1])
            if text.type == part.type == "string":
                value = {"contains": lambda: z3.Contains(text.value, part.value),
                         "startsWith": lambda: z3.PrefixOf(part.value, text.value),
                         "endsWith": lambda: z3.SuffixOf(part.value, text.value)}[name]()
                return Term(value, z3.And(text.defined, part.defined), "bool")
        raise OutsideSubset(Message("subset.function", name=name))

    def operator(self, node: Node) -> Term:
        op, args = node.value, node.args
        if op == "in":
            return self.membership(args[0], args[1])
        terms = [self.term(arg) for arg in args]
        if op == "!":
            return Term(z3.Not(terms[0].value), terms[0].defined, "bool")
        if op in ("&&", "||"):
            a, b = terms
            if op == "&&":
                value = z3.And(a.value, b.value)
                decided = z3.Or(z3.And(a.defined, z3.Not(a.value)),
                                z3.And(b.defined, z3.Not(b.value)))
            else:
                value = z3.Or(a.value, b.value)
                decided = z3.Or(z3.And(a.defined, a.value), z3.And(b.defined, b.value))
            return Term(value, z3.Or(z3.And(a.defined, b.defined), decided), "bool")
        if op == "?:":
            c, a, b = terms
            return Term(z3.If(c.value, a.value, b.value),
                        z3.And(c.defined, z3.If(c.value, a.defined, b.defined)), a.type)
        if op == "neg":
            (a,) = terms
            if a.type == "float":
                return Term(z3.fpNeg(a.value), a.defined, "float")
            return Term(-a.value, z3.And(a.defined, _int_ok(-a.value)), "int")
        a, b = terms
        both = z3.And(a.defined, b.defined)
        if op in ("<", "<=", ">", ">=", "==", "!="):
            return Term(self.compare(op, a, b), both, "bool")
        return self.arithmetic(op, a, b, both)

    def membership(self, item: Node, container: Node) -> Term:
        if container.kind == "var" and container.value in ("evidence", "approvals"):
            entry = self.map_entry(container.value, self.key(item))
            return Term(entry.defined, z3.BoolVal(True), "bool")
        if container.kind == "list":
            left = self.term(item)
            options = [self.term(option) for option in container.args]
            value = z3.Or(*[self.compare("==", left, option) for option in options]) \
                if options else z3.BoolVal(False)
            return Term(value, z3.And(left.defined, *[o.defined for o in options]), "bool")
        raise OutsideSubset(Message("subset.in_list_field"))

    def compare(self, op: str, a: Term, b: Term) -> Any:
        if a.type != b.type:
            raise OutsideSubset(Message("subset.compare_types", left=a.type, right=b.type))
        if a.type == "float":
            if op == "!=":
                return z3.Not(z3.fpEQ(a.value, b.value))
            return _COMPARE_FP[op](a.value, b.value)
        if a.type in ("bool", "string", "list") and op not in ("==", "!="):
            raise OutsideSubset(Message("subset.ordering", type=a.type, op=op))
        if a.type == "list":
            raise OutsideSubset(Message("subset.compare_lists"))
        return {"<": lambda: a.value < b.value, "<=": lambda: a.value <= b.value,
                ">": lambda: a.value > b.value, ">=": lambda: a.value >= b.value,
                "==": lambda: a.value == b.value, "!=": lambda: a.value != b.value}[op]()

    def arithmetic(self, op: str, a: Term, b: Term, both: Any) -> Term:
        if a.type != b.type:
            raise OutsideSubset(Message("subset.arithmetic", left=a.type, right=b.type))
        if a.type == "string" and op == "+":
            return Term(z3.Concat(a.value, b.value), both, "string")
        if a.type == "float":
            if op == "%":
                raise OutsideSubset(Message("subset.modulo_floats"))
            function = {"+": z3.fpAdd, "-": z3.fpSub, "*": z3.fpMul, "/": z3.fpDiv}[op]
            return Term(function(_RNE, a.value, b.value), both, "float")
        if a.type != "int":
            raise OutsideSubset(Message("subset.operator_on", op=op, type=a.type))
        x, y = a.value, b.value
        if op in ("/", "%"):
            quotient = _trunc_div(x, y)
            value = quotient if op == "/" else x - y * quotient
            return Term(value, z3.And(both, y != 0, _int_ok(value)), "int")
        value = {"+": x + y, "-": x - y, "*": x * y}[op]
        return Term(value, z3.And(both, _int_ok(value)), "int")


def translate(node: Node, vocabulary: Vocabulary) -> Any:
    """The Z3 condition under which the expression ``node`` is true (defined and true).

    Raises:
        OutsideSubset: the expression uses something outside the subset.
    """
    term = _Translator(vocabulary).term(node)
    if term.type != "bool":
        raise OutsideSubset(Message("subset.gives", type=term.type))
    return z3.And(term.defined, term.value)
