"""A small parser for the CEL subset deep checks reason about.

cel-expr-python exposes a compiled expression only as a serialized ``CheckedExpr``
protocol buffer (``Expression.serialize()``), not as a Python tree, so this module
parses the expression text itself. It runs only on expressions cel-expr-python has
already parsed and type-checked, so it need not explain syntax errors: anything it
does not know becomes :class:`OutsideSubset` naming the construct, and deep checks
say "not checked" rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bompao.definitions.messages import Message

__all__ = ["Node", "OutsideSubset", "parse"]


class OutsideSubset(Exception):
    """The expression uses something deep checks do not model; the message names it."""


@dataclass(frozen=True, slots=True)
class Node:
    """One node: ``kind`` is ``lit``, ``var``, ``op``, ``call``, ``select``, ``index``
    or ``list``; ``value`` the literal, name, operator or function; ``args`` the operands
    (for ``call`` with a receiver, the receiver first)."""

    kind: str
    value: Any = None
    args: tuple[Node, ...] = ()


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
  | (?P<hex>0[xX][0-9a-fA-F]+[uU]?)
  | (?P<int>\d+[uU]?)
  | (?P<string>[rR]?[bB]?[rR]?(?:'''(?:.|\n)*?'''|\"\"\"(?:.|\n)*?\"\"\"
                 |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`",
            "?": "?", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_RELATIONS = ("<", "<=", ">", ">=", "==", "!=", "in")


def _string(text: str) -> str:
    prefix = re.match(r"[rRbB]*", text)
    flags = prefix.group(0).lower() if prefix else ""
    if "b" in flags:
        raise OutsideSubset(Message("subset.bytes"))
    body = text[len(flags):]
    quote = 3 if body[:3] in ("'''", '"""') else 1
    body = body[quote:-quote]
    if "r" in flags or "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            raise OutsideSubset(Message("subset.escape", char=nxt))
        out.append(char)
        i += 1
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise OutsideSubset(Message("subset.character", char=text[at]))
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group(0)))
        at = match.end()
    tokens.append(("end", ""))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at]

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.at]
        if value is not None and token[1] != value:
            raise OutsideSubset(Message("subset.expected", found=token[1] or "end",
                                        wanted=value))
        self.at += 1
        return token

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] in ("op", "ident"):
            self.at += 1
            return True
        return False

    def expression(self) -> Node:
        condition = self.binary(0)
        if self.accept("?"):
            then = self.expression()
            self.take(":")
            return Node("op", "?:", (condition, then, self.expression()))
        return condition

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), _RELATIONS, ("+", "-"),
                                            ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[1] in self._LEVELS[level] and self.peek()[0] in ("op", "ident"):
            op = self.take()[1]
            left = Node("op", op, (left, self.binary(level + 1)))
        return left

    def unary(self) -> Node:
        if self.accept("!"):
            return Node("op", "!", (self.unary(),))
        if self.accept("-"):
            inner = self.unary()
            if inner.kind == "lit" and isinstance(inner.value, int | float) \
                    and not isinstance(inner.value, bool):
                return Node("lit", -inner.value)
            return Node("op", "neg", (inner,))
        return self.member()

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if not self.accept(")"):
            args.append(self.expression())
            while self.accept(","):
                args.append(self.expression())
            self.take(")")
        return tuple(args)

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                kind, name = self.take()
                if kind != "ident":
                    raise OutsideSubset(Message("subset.after_dot", name=name))
                if self.accept("("):
                    node = Node("call", name, (node, *self.arguments()))
                else:
                    node = Node("select", name, (node,))
            elif self.accept("["):
                key = self.expression()
                self.take("]")
                node = Node("index", None, (node, key))
            else:
                return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "int":
            if text[-1] in "uU":
                raise OutsideSubset(Message("subset.unsigned"))
            return Node("lit", int(text))
        if kind == "hex":
            if text[-1] in "uU":
                raise OutsideSubset(Message("subset.unsigned"))
            return Node("lit", int(text, 16))
        if kind == "float":
            return Node("lit", float(text))
        if kind == "string":
            return Node("lit", _string(text))
        if kind == "ident":
            if text in ("true", "false"):
                return Node("lit", text == "true")
            if text == "null":
                raise OutsideSubset(Message("subset.null"))
            if self.accept("("):
                return Node("call", text, self.arguments())
            return Node("var", text)
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if text == "[":
            items: list[Node] = []
            if not self.accept("]"):
                items.append(self.expression())
                while self.accept(","):
                    if self.peek()[1] == "]":
                        break
                    items.append(self.expression())
                self.take("]")
            return Node("list", None, tuple(items))
        if text == "{":
            raise OutsideSubset(Message("subset.map_literal"))
        raise OutsideSubset(Message("subset.unexpected", found=text or "end"))


def parse(text: str) -> Node:
    """The tree of a CEL expression.

    Raises:
        OutsideSubset: the text uses a construct this parser does not know.
    """
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek()[0] != "end":
        raise OutsideSubset(Message("subset.unexpected", found=parser.peek()[1]))
    return node
