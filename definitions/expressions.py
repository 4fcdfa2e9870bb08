"""CEL gate expressions: the typed environment, compilation and error positions.

Expressions are compiled by cel-expr-python (Google's CEL, C++ core) against the
journey's declared fields plus ``evidence``, ``approvals``, ``days_in_stage`` and
``now``, so a typo or a type error is found when the journey loads, not when a
gate is checked. CEL cannot call Python or read anything outside the activation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel

from bompao.definitions.messages import Message, did_you_mean
from bompao.definitions.source import Mark

__all__ = [
    "BUILTIN_VARIABLES",
    "RESERVED",
    "CelProblem",
    "cel_message",
    "compile_expression",
    "make_env",
    "problem_mark",
]

BUILTIN_VARIABLES = ("evidence", "approvals", "days_in_stage", "now")
RESERVED = frozenset({
    *BUILTIN_VARIABLES, "in", "as", "break", "const", "continue", "else", "for", "function",
    "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
    "true", "false", "null", "project", "stage", "journey", "indicators",
    # CEL's type names: a variable named like one clashes with the type's declaration
    "int", "uint", "double", "bool", "string", "bytes", "list", "map", "type", "dyn",
    "null_type", "timestamp", "duration",
})

_SCALARS = {
    "string": cel.Type.STRING, "int": cel.Type.INT, "float": cel.Type.DOUBLE,
    "bool": cel.Type.BOOL, "date": cel.Type.TIMESTAMP, "datetime": cel.Type.TIMESTAMP,
}
_PROBLEM = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")
_UNDECLARED = re.compile(r"^undeclared reference to '([^']+)'")
_OVERLOAD = re.compile(r"^found no matching overload for '_(==|!=|<=|>=|<|>)_' applied to "
                       r"'\((.+), (.+)\)'$")
_OPERAND_END = re.compile(r"""("[^"]*"|'[^']*'|[\w.]+)$""")
_OPERAND_START = re.compile(r"""^("[^"]*"|'[^']*'|[\w.]+(\([^()]*\))?)""")
_KIND_KEYS = {"int": "kind.number", "uint": "kind.number", "double": "kind.decimal",
              "string": "kind.text", "bool": "kind.bool",
              "google.protobuf.Timestamp": "kind.date", "timestamp": "kind.date",
              "google.protobuf.Duration": "kind.duration", "duration": "kind.duration"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class CelProblem(Exception):
    """One CEL compile problem at a 1-based line and column inside the expression."""

    line: int
    column: int
    message: str


def cel_type(type_name: str) -> Any:
    """The CEL type of a journey field type such as ``"list[string]"``."""
    if type_name.startswith("list["):
        return cel.Type.List(_SCALARS[type_name[5:-1]])
    return _SCALARS[type_name]


def make_env(field_types: Mapping[str, str], functions: Sequence[Any] = (),
             indicators: Mapping[str, str] | None = None) -> Any:
    """A CEL environment that knows each field (name → journey type), the built-ins and
    any custom functions (:class:`~bompao.definitions.functions.CelFunction`).

    ``indicators`` are qualified names such as ``indicators.people_reached.total`` with
    their journey types (see :func:`~bompao.definitions.indicators.cel_declarations`):
    CEL resolves the dotted name as one variable, so an unknown indicator or view is an
    "undeclared reference" when the journey loads, and a type error too.

    Environments are cached by their declarations: the checks and the compile step
    of one journey (and every later load of it) share one environment, and
    :func:`compile_expression` caches each expression's program per environment.
    """
    return _env(tuple(sorted({**field_types, **(indicators or {})}.items())),
                tuple(functions))


@functools.lru_cache(maxsize=256)
def _env(field_types: tuple[tuple[str, str], ...], functions: tuple[Any, ...]) -> Any:
    variables = {name: cel_type(kind) for name, kind in field_types}
    variables.update({
        "evidence": cel.Type.Map(cel.Type.STRING, cel.Type.DYN),
        "approvals": cel.Type.Map(cel.Type.STRING, cel.Type.INT),
        "days_in_stage": cel.Type.INT,
        "now": cel.Type.TIMESTAMP,
    })
    if functions:
        return cel.NewEnv(variables=variables,
                          functions=[f.declaration() for f in functions])
    return cel.NewEnv(variables=variables)


@functools.lru_cache(maxsize=8192)
def compile_expression(env: Any, text: str) -> Any:
    """Compile ``text`` and require a bool result (cached per environment and text).

    Raises:
        CelProblem: the first syntax or type error, with its position in ``text``.
    """
    try:
        expression = env.compile(text)
    except RuntimeError as exc:
        raise _first_problem(str(exc)) from None
    result = str(expression.return_type())
    if result not in ("BOOL", "DYN", "bool", "dyn"):
        raise CelProblem(1, 1, f"the expression gives {result.lower()}, a gate needs bool")
    return expression


def _first_problem(text: str) -> CelProblem:
    match = _PROBLEM.search(text)
    if match is None:
        return CelProblem(1, 1, text.strip().splitlines()[0] if text.strip() else "invalid")
    return CelProblem(int(match.group(1)), int(match.group(2)), match.group(3).strip())


def _kind(cel_type: str) -> Message:
    key = _KIND_KEYS.get(cel_type)
    if key is not None:
        return Message(key)
    if cel_type.startswith("list("):
        return Message("kind.list")
    if cel_type.startswith("map("):
        return Message("kind.map")
    return Message("kind.other", name=cel_type)


def _operands(text: str, line: int, column: int, op: str) -> tuple[str, str] | None:
    """The operands around the operator CEL points at (1-based line and column)."""
    lines = text.split("\n")
    if line > len(lines):
        return None
    at = sum(len(row) + 1 for row in lines[:line - 1]) + column - 1
    if text[at:at + len(op)] != op:
        return None
    before, after = text[:at].rstrip(), text[at + len(op):].lstrip()
    if before.endswith(")"):
        depth, start = 0, len(before)
        for index in range(len(before) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(before[index], 0)
            if depth == 0:
                start = index
                break
        name = re.search(r"[\w.]*$", before[:start])
        left = before[(name.start() if name else start):]
    else:
        match = _OPERAND_END.search(before)
        if match is None:
            return None
        left = match.group(1)
    match = _OPERAND_START.match(after)
    return (left, match.group(1)) if match else None


def cel_message(path: str, problem: CelProblem, text: str,
                fields: Mapping[str, str]) -> str:
    """CEL's message for ``problem`` in plain words where it is a common mistake: an
    unknown name (with the closest declared one) or a comparison of values of different
    types (a number with a quoted number, say); CEL's own words otherwise."""
    undeclared = _UNDECLARED.match(problem.message)
    if undeclared and undeclared.group(1).startswith("indicators."):
        return _indicator_message(path, undeclared.group(1), fields)
    if undeclared and undeclared.group(1).split(".")[0] in ("score", "sessions"):
        return _intake_message(path, undeclared.group(1), fields)
    fields = {name: kind for name, kind in fields.items() if "." not in name}
    if undeclared:
        name = undeclared.group(1).split(".")[0]
        known = [*fields, *BUILTIN_VARIABLES]
        return Message("cel.undeclared", path=path, name=name, hint=did_you_mean(name, known),
                       fields=", ".join(sorted(fields)) or "none declared")
    overload = _OVERLOAD.match(problem.message)
    operands = overload and _operands(text, problem.line, problem.column, overload.group(1))
    if overload and operands:
        op, left_type, right_type = overload.groups()
        left, right = operands
        if left[:1] in "\"'" and right[:1] not in "\"'":  # put the literal second
            left, right, left_type, right_type = right, left, right_type, left_type
        if right_type == "string" and right[:1] in "\"'" and left_type in (
                "int", "uint", "double") and _NUMBER.match(right[1:-1].strip()):
            return Message("cel.compare_quoted", path=path, left=left,
                           left_kind=_kind(left_type), right=right, bare=right[1:-1].strip())
        return Message("cel.compare", path=path, op=op, left=left, left_kind=_kind(left_type),
                       right=right, right_kind=_kind(right_type))
    return f"{path}: CEL: {problem.message}"


def _indicator_message(path: str, name: str, fields: Mapping[str, str]) -> str:
    """An unknown ``indicators.NAME.VIEW``: which part is unknown, the closest known."""
    declared = sorted(n for n in fields if n.startswith("indicators."))
    names = sorted({n.split(".")[1] for n in declared})
    parts = name.split(".")
    if len(parts) < 3 or parts[1] not in names:
        wanted = parts[1] if len(parts) > 1 else ""
        return (f"{path}: unknown indicator {wanted!r}{did_you_mean(wanted, names)}; the "
                f"journey declares: {', '.join(names) or 'no indicators'}; CEL sees "
                "indicators.NAME.total|latest|periods|missing|progress")
    views = [n.split(".")[2] for n in declared if n.split(".")[1] == parts[1]]
    extra = "" if "progress" in views else " (progress needs a target)"
    return (f"{path}: indicator {parts[1]!r} has no {'.'.join(parts[2:])!r}"
            f"{did_you_mean(parts[2], views)}; it has: {', '.join(views)}{extra}")


def _intake_message(path: str, name: str, fields: Mapping[str, str]) -> str:
    """An unknown ``score.*`` or ``sessions.*``: what the journey declares of it."""
    head = name.split(".", maxsplit=1)[0]
    views = sorted(n.split(".", 1)[1] for n in fields if n.startswith(head + "."))
    if not views:
        needs = "scoring" if head == "score" else "coaching"
        return (f"{path}: {name!r}: CEL sees {head}.* only when the journey declares "
                f"{needs!r}")
    wanted = name.split(".", 1)[1] if "." in name else ""
    return (f"{path}: {head} has no {wanted!r}{did_you_mean(wanted, views)}; it has: "
            f"{', '.join(views)}")


def problem_mark(value: Mark, line: int, column: int, expression: str = "") -> tuple[int, int]:
    """Map a position inside an expression to the file, given where its scalar is.

    Walks the scalar's source text and the expression side by side, so escapes in
    quoted scalars, line folding and block indentation all land on the right column.
    """
    if value.source and expression:
        lines = expression.split("\n")
        target = sum(len(text) + 1 for text in lines[:line - 1]) + column - 1
        region = value.source[value.index:value.end]
        start = 0
        if value.style in ("|", ">"):
            start = region.find("\n") + 1  # skip the block header line
        at = -1
        for offset, char in enumerate(expression[:target + 1]):
            found = region.find(char, start) if not char.isspace() else start
            if found < 0:
                break
            at, start = found, found + (0 if char.isspace() else 1)
            if offset == target and char.isspace():
                at = found
        if at >= 0:
            absolute = value.index + at
            row = value.source.count("\n", 0, absolute) + 1
            return row, absolute - (value.source.rfind("\n", 0, absolute) + 1) + 1
    if value.style in ("|", ">"):
        return value.line + line, value.indent + column
    if line > 1:
        return value.line + line - 1, column
    quote = 1 if value.style in ('"', "'") else 0
    return value.line, value.column + quote + column - 1
