"""Safe YAML loading that keeps where every key and value came from.

The loader builds plain Python data (dicts, lists, str, int, float, bool, None) and a
:class:`Positions` table on the side, so later stages can point at ``FILE:LINE:COL``
for any path into the document. Only ``true``/``false`` are booleans: ``yes``, ``no``,
``on`` and ``off`` stay strings, and timestamps stay strings. Documents over
:data:`MAX_BYTES`, documents that expand to more than :data:`MAX_NODES` nodes
(alias bombs) and documents whose root is not a mapping are refused before any
expensive work.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from bompao.definitions.messages import Message
from bompao.errors import Diagnostic, LoadError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "Cause", "Mark", "Positions", "Source",
           "collector_paused", "load_yaml"]

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a file; ``style`` is the YAML scalar style (``'"|>`` or None)."""

    file: str
    line: int
    column: int
    style: str | None = None
    indent: int = 0
    index: int = 0
    """Character offset of the node's start in ``source``."""
    end: int = 0
    """Character offset just past the node in ``source``."""
    source: str = field(default="", repr=False, compare=False)
    """The whole text of ``file`` (shared, not copied)."""


RawMark = tuple[Any, int, "str | None", tuple[str, str]]
"""A mark as the loader stores it, made with no work per node beyond the tuple: libyaml's
start mark (0-based line, column and index), the end index, the scalar style ('' or
None when plain) and the document's ``(file, text)``, shared by all its marks.
:func:`as_mark` works out the rest when a position is asked for."""


def as_mark(raw: Mark | RawMark) -> Mark:
    """A :class:`Mark` from a stored mark."""
    if isinstance(raw, Mark):
        return raw
    start, end, style, (file, text) = raw
    indent = 0
    if style in ("|", ">"):  # a block scalar's text starts on the next line
        lines = _lines_of(text)
        if start.line + 1 < len(lines):
            following = lines[start.line + 1]
            indent = len(following) - len(following.lstrip(" "))
    return Mark(file, start.line + 1, start.column + 1, style or None, indent, start.index,
                end, text)


@functools.lru_cache(maxsize=4)
def _lines_of(text: str) -> list[str]:
    """The lines of a document (for block scalars' indents; asked for per diagnostic)."""
    return text.splitlines()


class Positions:
    """Where each entry of each container came from, keyed by the container's identity.

    Keying by identity (not by path) lets ``extends`` move containers between
    documents without losing their positions. Marks are stored as :data:`RawMark`
    tuples and turned into :class:`Mark` objects only when a position is asked for.
    """

    def __init__(self) -> None:
        self._entries: dict[int, dict[Any, tuple[Any, Any]]] = {}
        self._self: dict[int, Any] = {}
        self._alive: list[Any] = []

    def add_container(self, container: Any, mark: Mark | RawMark) -> None:
        """Record the position of a container itself."""
        self._self[id(container)] = mark
        self._alive.append(container)

    def add_entry(self, container: Any, key: Any, key_mark: Mark | RawMark,
                  value_mark: Mark | RawMark) -> None:
        """Record the position of one key (or list index) and its value."""
        self._entries.setdefault(id(container), {})[key] = (key_mark, value_mark)

    def merge(self, other: Positions) -> None:
        """Take every position ``other`` knows."""
        self._entries.update(other._entries)
        self._self.update(other._self)
        self._alive.extend(other._alive)

    def entry(self, container: Any, key: Any) -> tuple[Any, Any] | None:
        """The stored (key, value) marks of one entry, or None."""
        return self._entries.get(id(container), {}).get(key)

    def container(self, container: Any) -> Any:
        """The stored mark of a container, or None."""
        return self._self.get(id(container))

    def locate(self, root: Any, path: Path, *, key: bool = False) -> Mark | None:
        """The mark of the deepest element of ``path`` that exists in ``root``.

        Args:
            root: the document data.
            path: keys and indices from the root.
            key: point at the last key itself rather than its value.
        """
        best = self.container(root)
        node = root
        for depth, step in enumerate(path):
            if (isinstance(node, dict) and step in node) or (
                isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
            ):
                marks = self.entry(node, step)
                if marks is not None:
                    last = depth == len(path) - 1
                    best = marks[0] if (key and last) else marks[1]
                node = node[step]  # type: ignore[index]
            else:
                break
        return None if best is None else as_mark(best)


@dataclass(frozen=True, slots=True)
class Cause:
    """Something a partner journey did to its base that a problem may trace back to.

    ``mark`` is in the partner's own file: the ``remove`` entry, or the transition
    that replaced a base transition. ``transition`` is the base transition this
    dropped or replaced, as ``(trigger, from, to)``.
    """

    mark: Mark
    kind: str
    """``stages``, ``transitions``, ``fields`` or ``evidence`` for a removal;
    ``replace`` for a transition that replaced the base's."""
    name: str
    transition: tuple[str, str, str] | None = None


@dataclass
class Source:
    """A loaded document: its data, the file name used in messages, and positions.

    A merged partner journey also knows its ``base`` reference, where its
    ``extends`` key is, and the :class:`Cause` of each change it made to the base,
    keyed by ``("stage"|"trigger"|"field"|"evidence"|"into", name)``.
    """

    file: str
    data: dict[str, Any]
    positions: Positions = field(default_factory=Positions)
    text: str = ""
    base: str | None = None
    extends_mark: Mark | None = None
    causes: dict[tuple[str, str], Cause] = field(default_factory=dict)
    base_source: Source | None = field(default=None, repr=False)
    """The base as merged before this journey's changes (to tell its own problems)."""

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """The position of ``path`` (or of its nearest existing ancestor)."""
        found = self.positions.locate(self.data, path, key=key)
        return found or Mark(self.file, 1, 1)

    def diagnostic(self, path: Path, message: str, *, key: bool = False) -> Diagnostic:
        """A diagnostic at ``path``."""
        mark = self.mark(path, key=key)
        return Diagnostic(mark.file, mark.line, mark.column, message)


class _PyLoader(yaml.SafeLoader):
    """SafeLoader whose booleans are only true/false and whose timestamps stay strings."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same on libyaml (about 8x faster); its error messages are terser, so a
    document it refuses is parsed again by :class:`_PyLoader` to explain why."""


_STR = "tag:yaml.org,2002:str"


def _resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
    """Most scalars of a journey are plain words: skip the regex scan for those whose
    first character starts no implicit type (numbers, true/false, null)."""
    if (kind is yaml.ScalarNode and implicit[0] and value
            and value[0] not in self.yaml_implicit_resolvers):
        return _STR
    return yaml.resolver.Resolver.resolve(self, kind, value, implicit)  # type: ignore[no-untyped-call]


_Loader.resolve = _resolve

for _class in (_PyLoader, _Loader):
    _class.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _class.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"))


def _error(file: str, mark: yaml.Mark | None, message: str) -> LoadError:
    if mark is None:
        return LoadError.at(file, 1, 1, message)
    return LoadError.at(file, mark.line + 1, mark.column + 1, message)


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_of(line: str) -> str:
    return line.strip().removeprefix("- ").split(":", 1)[0].strip()


def _explain_indent(file: str, lines: list[str], row: int) -> LoadError | None:
    """A line indented like no key above it: name the indents that would fit."""
    if row >= len(lines) or not lines[row].strip():
        return None
    spaces = _indent_of(lines[row])
    levels: list[tuple[int, str]] = []  # (indent, key) of each enclosing level, inner first
    for above in reversed(lines[:row]):
        stripped = above.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = _indent_of(above)
        if not levels or indent < levels[-1][0]:
            levels.append((indent, _key_of(above)))
        if indent == 0:
            break
    options = [(indent, key) for indent, key in levels if indent != spaces]
    if not options or not _key_of(lines[row]):
        return None
    if len(options) == 1:
        message = Message("yaml.indent_one", key=_key_of(lines[row]), spaces=spaces,
                          deeper=options[0][0], beside=options[0][1])
    else:
        message = Message("yaml.indent", key=_key_of(lines[row]), spaces=spaces,
                          deeper=options[0][0], beside=options[0][1],
                          shallower=options[1][0], parent=options[1][1])
    return LoadError.at(file, row + 1, spaces + 1, message)


def _explain(file: str, text: str, exc: yaml.MarkedYAMLError) -> LoadError | None:
    """Plain words and the fix for the YAML mistakes people make most; None for others."""
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    mark = exc.problem_mark
    if mark is None:
        return None
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "'\\t'" in problem or (mark.column < len(line) and line[mark.column] == "\t"):
        return LoadError.at(file, mark.line + 1, mark.column + 1, Message("yaml.tab"))
    if context == "while scanning an alias" and exc.context_mark is not None:
        at = exc.context_mark
        return LoadError.at(file, at.line + 1, at.column + 1, Message("yaml.alias"))
    if problem.startswith("found undefined alias"):
        name = problem.removeprefix("found undefined alias").strip().strip("'")
        return LoadError.at(file, mark.line + 1, mark.column + 1,
                            Message("yaml.undefined_alias", name=name))
    if problem == "mapping values are not allowed here":
        head = line[:mark.column]
        if ": " in head.lstrip().removeprefix("- "):
            start = head.index(": ") + 2
            value = line[start:].strip()
            quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            return LoadError.at(file, mark.line + 1, start + 1,
                                Message("yaml.colon", quoted=quoted))
        for row in range(mark.line - 1, -1, -1):
            above = lines[row].strip()
            if above and not above.startswith("#"):
                if ":" not in above:
                    return LoadError.at(file, row + 1, _indent_of(lines[row]) + 1 + len(
                        above), Message("yaml.missing_colon", line=row + 1, text=above))
                break
        return None
    if problem.startswith("expected <block end>") and "block mapping" in context:
        return _explain_indent(file, lines, mark.line)
    closing = {"flow mapping": ("{", "}"), "flow sequence": ("[", "]")}
    for kind, (opening, close) in closing.items():
        if kind in context and exc.context_mark is not None and "stream end" in problem:
            at = exc.context_mark
            return LoadError.at(file, at.line + 1, at.column + 1,
                                Message("yaml.unclosed", open=opening, close=close,
                                        line=at.line + 1))
    return None


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character index."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


_BRACKETS = re.compile(r"""[\[\]{}"'\n]""")


def _compose(loader_class: type[Any], text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        return loader.get_single_node(), loader
    finally:
        loader.dispose()


def _flow_depth(text: str) -> tuple[int, int]:
    """The deepest ``[``/``{`` nesting outside quotes, and where it is first reached.

    A quick scan that keeps PyYAML from recursing through absurdly nested flow
    collections. A quote counts only where a quoted scalar can start; a misread
    can only under-count, and then the parser's own recursion guard still applies.
    """
    depth = deepest = where = 0
    quote = ""
    for match in _BRACKETS.finditer(text):
        char, at = match.group(), match.start()
        if quote:
            if char == quote and not (quote == '"' and text[at - 1] == "\\"):
                quote = ""
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if depth == MAX_DEPTH + 1:
                    where = at
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char in "\"'" and (at == 0 or text[at - 1] in " \t\n[{,:"):
            quote = char
    return deepest, where


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, unless it is disabled
    already (the block is nested in another, or the process turned it off: leave it be).

    Loading, checking and compiling a journey pause it (as the dispatcher pauses it
    while a round keeps its books): a 200-stage journey makes some 25,000 containers,
    tuples and models that live until the step after, the collector's thresholds are
    crossed dozens of times on the way, and each crossing scans them (every few runs a
    collection scans every object of the process) with nothing to free, since none of
    it forms a reference cycle. Whatever is left is collected as usual afterwards.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def load_yaml(text: str | bytes, file: str = "<journey>") -> Source:
    """Parse one YAML document into plain data with positions.

    Args:
        text: the document, as text or UTF-8 bytes.
        file: the name used in messages.

    Returns:
        The loaded :class:`Source`.

    Raises:
        LoadError: the text is too large, not UTF-8, not YAML, an alias bomb, too
            deep, has duplicate or non-string keys, or its root is not a mapping.
    """
    surrogate = -1  # a str's first lone surrogate: the one thing UTF-8 cannot encode
    if isinstance(text, str):
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            size, surrogate = len(text.encode("utf-8", "surrogatepass")), exc.start
    else:
        size = len(text)
    if size > MAX_BYTES:
        raise LoadError.at(file, 1, 1, f"the document is {size:,} bytes; "
                           f"the limit is {MAX_BYTES:,} bytes")
    if isinstance(text, bytes):
        try:  # decoding refuses encoded surrogates too
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LoadError.at(file, 1, 1, f"the document is not UTF-8 text "
                               f"(bad byte at offset {exc.start})") from None
    if surrogate >= 0:
        raise LoadError.at(file, *_position(text, surrogate),
                           "the document contains a lone surrogate "
                           f"(U+{ord(text[surrogate]):04X})")
    with collector_paused():
        fast = _EventBuilder(file, text)
        data = fast.run()
        if data is not None:
            return Source(file=file, data=data, positions=fast.positions, text=text)
        return _load_composed(text, file)


def _load_composed(text: str, file: str) -> Source:
    """Compose the node graph and build from it: every refusal is explained here.

    The event builder never recurses and stops at :data:`MAX_DEPTH` open containers,
    so only this path, whose composer recurses, needs the nesting scan first.

    Raises:
        LoadError: as :func:`load_yaml`.
    """
    # fewer brackets than the limit cannot nest deeper than it: skip the scan
    deepest, where = (_flow_depth(text) if text.count("[") + text.count("{") > MAX_DEPTH
                      else (0, 0))
    if deepest > MAX_DEPTH:
        raise LoadError.at(file, *_position(text, where),
                           f"the document nests deeper than {MAX_DEPTH} levels")
    try:
        node, loader = _compose(_Loader, text)
    except yaml.YAMLError:
        try:
            _compose(_PyLoader, text)
        except yaml.MarkedYAMLError as exc:
            explained = _explain(file, text, exc)
            if explained is not None:
                raise explained from None
            raise _error(file, exc.problem_mark or exc.context_mark,
                         f"invalid YAML: {exc.problem or exc.context}") from None
        except yaml.reader.ReaderError as exc:
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            raise LoadError.at(file, *_position(text, exc.position),
                               f"invalid YAML: character U+{code:04X} is not allowed "
                               "(control characters cannot appear in YAML)") from None
        except yaml.YAMLError as exc:
            raise LoadError.at(file, 1, 1, f"invalid YAML: {exc}") from None
        except RecursionError:
            raise LoadError.at(file, 1, 1, "the document nests too deeply") from None
        raise LoadError.at(file, 1, 1, "invalid YAML") from None
    except RecursionError:
        raise LoadError.at(file, 1, 1, "the document nests too deeply") from None
    if node is None:
        raise LoadError.at(file, 1, 1, "the document is empty; a journey is a mapping "
                           "with 'journey', 'version' and 'stages'")
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise _error(file, node.start_mark, f"the document must be a mapping with "
                     f"'journey', 'version' and 'stages', not {kind}")
    builder = _Builder(file, loader, text)
    data = builder.build(node, 0)
    return Source(file=file, data=data, positions=builder.positions, text=text)


class _Fallback(Exception):
    """The event builder met something only the composing builder handles."""


_EVENTS = yaml.events
_MERGE = "tag:yaml.org,2002:merge"


class _EventBuilder:
    """Builds plain data straight from libyaml's events: the fast path for valid documents.

    Composing a node graph first and walking it costs several times the parse. This
    builds the same data and marks from the event stream in one loop, and gives up
    (returns None) on anything unusual — a parse error, merge keys, undefined or
    duplicate anchors, duplicate or non-text keys, too many nodes, too deep, a root
    that is not a mapping, several documents — for :class:`_Builder`, whose
    composing path explains each of those precisely.

    The loop does per event only what differs per event: the open container, its
    positions table and its pending key are locals (not a stack frame looked up per
    event), positions go straight into the :class:`Positions` tables, and a plain
    scalar that may be a number, a boolean or null is resolved once per distinct text.
    """

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.positions = Positions()
        self._plain: dict[str, Any] = {}

    def run(self) -> dict[str, Any] | None:
        """The document's data, or None when the composing builder must take over."""
        loader = _Loader(self.text)
        try:
            return self._events(loader)
        except (_Fallback, yaml.YAMLError):
            return None
        finally:
            loader.dispose()

    def _implicit(self, loader: Any, value: str, implicit: Any) -> Any:
        """An untagged plain scalar that may be of an implicit type (number, true/false,
        null), resolved and built once per text (kept in ``_plain``: every such value
        is immutable)."""
        found = self._plain[value] = self._construct(
            loader, _resolve(loader, yaml.ScalarNode, value, implicit), value)
        return found

    @staticmethod
    def _construct(loader: Any, tag: str, value: str) -> Any:
        method = _Builder._SCALARS.get(tag)
        if method is None:
            if tag == _MERGE:
                raise _Fallback
            return value
        try:
            return getattr(loader, method)(yaml.ScalarNode(tag, value))
        except (ValueError, yaml.YAMLError):
            return value

    def _events(self, loader: Any) -> dict[str, Any] | None:  # noqa: PLR0915
        doc = (self.file, self.text)
        entries_of, marks_of = self.positions._entries, self.positions._self
        keep = self.positions._alive.append
        resolvers, plain = loader.yaml_implicit_resolvers, self._plain
        scalar_event, alias_event = _EVENTS.ScalarEvent, _EVENTS.AliasEvent
        mapping_start, sequence_start = _EVENTS.MappingStartEvent, _EVENTS.SequenceStartEvent
        mapping_end, sequence_end = _EVENTS.MappingEndEvent, _EVENTS.SequenceEndEvent
        anchors: dict[str, tuple[Any, int, RawMark]] = {}
        # the open container and what belongs to it; its parents' on ``stack``
        container: Any = None
        entries: dict[Any, tuple[RawMark, RawMark]] = {}
        is_mapping = False
        pending: Any = None  # a mapping's key waiting for its value
        pending_mark: Any = None
        start: Any = None  # the container's start mark, anchor, node count at its start
        anchor: Any = None
        began = 0
        stack: list[tuple[Any, ...]] = []
        root: Any = None
        count = 0
        documents = 0
        get_event = loader.get_event
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                count += 1
                value = event.value
                tag = event.tag
                if tag is None or tag == "!":
                    implicit = event.implicit
                    if implicit[0] and (not value or value[0] in resolvers):
                        found = plain.get(value, _Fallback)
                        value = self._implicit(loader, value, implicit) \
                            if found is _Fallback else found
                else:
                    value = self._construct(loader, tag, value)
                mark: Any = (event.start_mark, event.end_mark.index, event.style, doc)
                if event.anchor is not None:
                    if event.anchor in anchors:
                        raise _Fallback
                    anchors[event.anchor] = (value, 1, mark)
                if count > MAX_NODES or container is None:
                    raise _Fallback
            elif kind is mapping_start or kind is sequence_start:
                count += 1
                if count > MAX_NODES or len(stack) >= MAX_DEPTH:
                    raise _Fallback
                if event.anchor is not None and event.anchor in anchors:
                    raise _Fallback
                stack.append((container, entries, is_mapping, pending, pending_mark, start,
                              anchor, began))
                is_mapping = kind is mapping_start
                container = {} if is_mapping else []
                entries = entries_of[id(container)] = {}
                pending = pending_mark = None
                start, anchor, began = event.start_mark, event.anchor, count
                continue
            elif kind is mapping_end or kind is sequence_end:
                if pending is not None:
                    raise _Fallback
                value = container
                mark = (start, event.end_mark.index, None, doc)
                marks_of[id(value)] = mark
                keep(value)
                if anchor is not None:
                    anchors[anchor] = (value, count - began + 1, mark)
                (container, entries, is_mapping, pending, pending_mark, start, anchor,
                 began) = stack.pop()
                if container is None:
                    root = value
                    continue
            elif kind is alias_event:
                found = anchors.get(event.anchor)
                if found is None:
                    raise _Fallback
                value, size, mark = found
                count += size
                if count > MAX_NODES or container is None:
                    raise _Fallback
            elif kind is _EVENTS.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Fallback
                continue
            elif kind is _EVENTS.StreamEndEvent:
                break
            else:
                continue
            if not is_mapping:
                entries[len(container)] = (mark, mark)
                container.append(value)
            elif pending is None:
                if type(value) is not str or value in container:
                    raise _Fallback
                pending, pending_mark = value, mark
            else:
                container[pending] = value
                entries[pending] = (pending_mark, mark)
                pending = None
        return root if isinstance(root, dict) else None


class _Builder:
    """Turns composed YAML nodes into plain data, counting nodes to stop alias bombs."""

    _SCALARS: ClassVar[dict[str, str]] = {
        "tag:yaml.org,2002:int": "construct_yaml_int",
        "tag:yaml.org,2002:float": "construct_yaml_float",
        "tag:yaml.org,2002:bool": "construct_yaml_bool",
        "tag:yaml.org,2002:null": "construct_yaml_null",
    }

    def __init__(self, file: str, loader: _Loader, text: str) -> None:
        self.file = file
        self.text = text
        self.loader = loader
        self.positions = Positions()
        self.count = 0
        self.built: dict[int, tuple[Any, int]] = {}
        self._doc = (file, text)

    def mark(self, node: yaml.Node) -> RawMark:
        style = getattr(node, "style", None)
        return (node.start_mark, node.end_mark.index, style if isinstance(style, str) else None,
                self._doc)

    def build(self, node: yaml.Node, depth: int) -> Any:
        """Build ``node``; an alias to a node built before reuses it (so an alias bomb
        costs no more than its text) while counting its full expanded size."""
        seen = self.built.get(id(node))
        if seen is not None:
            self.count += seen[1]
            if self.count > MAX_NODES:
                raise _error(self.file, node.start_mark, f"the document expands to more than "
                             f"{MAX_NODES:,} nodes (aliases repeated too often?)")
            return seen[0]
        before = self.count
        self.count += 1
        if self.count > MAX_NODES:
            raise _error(self.file, node.start_mark, f"the document expands to more than "
                         f"{MAX_NODES:,} nodes (aliases repeated too often?)")
        if depth > MAX_DEPTH:
            raise _error(self.file, node.start_mark,
                         f"the document nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            value: Any = self.mapping(node, depth)
        elif isinstance(node, yaml.SequenceNode):
            value = []
            self.positions.add_container(value, self.mark(node))
            for index, child in enumerate(node.value):
                value.append(self.build(child, depth + 1))
                mark = self.mark(child)
                self.positions.add_entry(value, index, mark, mark)
        else:
            value = self.scalar(node)
        self.built[id(node)] = (value, self.count - before)
        return value

    def scalar(self, node: yaml.Node) -> Any:
        method = self._SCALARS.get(node.tag)
        if method is None:
            return str(node.value)
        try:
            return getattr(self.loader, method)(node)
        except (ValueError, yaml.YAMLError):
            return str(node.value)

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        own = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
        try:
            self.loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            raise _error(self.file, exc.problem_mark, f"invalid merge key: {exc.problem}") from None
        merged = len(node.value) - own
        result: dict[str, Any] = {}
        from_merge: set[str] = set()
        self.positions.add_container(result, self.mark(node))
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.build(key_node, depth + 1)
            if not isinstance(key, str):
                raise _error(self.file, key_node.start_mark,
                             f"keys must be text; got {key!r} ({type(key).__name__})")
            if key in result:
                if index < merged:
                    continue
                if key not in from_merge:
                    first = self.positions.entry(result, key)
                    where = f" (first at line {as_mark(first[0]).line})" if first else ""
                    raise _error(self.file, key_node.start_mark, f"duplicate key {key!r}{where}")
                from_merge.discard(key)
            elif index < merged:
                from_merge.add(key)
            result[key] = self.build(value_node, depth + 1)
            self.positions.add_entry(result, key, self.mark(key_node), self.mark(value_node))
        return result
