"""Hypothesis strategies for the journey language, in one module (attrs style).

Every strategy starts from a bundled journey and breaks it the way people and
tools do: a key dropped, a value of the wrong type, an unknown key, the text cut
short, random bytes or random characters spliced in. Properties then assert that
the pipeline answers each with either a compiled journey or a positioned
:class:`~bompao.errors.DefinitionError`, and never with any other exception.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from bompao.definitions import bundled_dir

__all__ = [
    "BUNDLED_FILES",
    "Mutant",
    "bundled_texts",
    "cut_texts",
    "data_mutants",
    "drop_key",
    "insert_unknown_key",
    "journey_mutants",
    "names",
    "random_bytes",
    "random_unicode",
    "retype_value",
    "scalars",
    "spliced_bytes",
    "spliced_texts",
    "yaml_values",
]

BUNDLED_FILES: tuple[Path, ...] = tuple(sorted(bundled_dir().glob("*.yaml")))

Step = str | int
Path_ = tuple[Step, ...]


@dataclass(frozen=True)
class Mutant:
    """A broken journey document and how it was made (shown when a property fails)."""

    origin: str
    how: str
    text: str | bytes

    def __repr__(self) -> str:
        shown = self.text if len(self.text) < 400 else self.text[:400]
        return f"Mutant({self.origin!r}, {self.how!r}, {shown!r}...)"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def bundled_texts() -> st.SearchStrategy[tuple[str, str]]:
    """``(file name, text)`` of a bundled journey."""
    return st.sampled_from([(p.name, _read(p)) for p in BUNDLED_FILES])


# --- values ---------------------------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789-ABZ ", min_size=1, max_size=12)
"""Key-like text: mostly valid names, sometimes with upper case, '-' or spaces."""

scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["yes", "no", "on", "off", "*", "14 days", "0 days", "6 months",
                     "999999 days", "size(x) >", "true", "2026-01-01", "@1", "x@0",
                     "social-incubator@1", "social-incubator@2", "idea", "coach",
                     "{{ project.name", "https://example.org/hook", "list[string]",
                     "date", "int"]),
)
"""Scalars of every YAML type, plus strings the journey language gives meaning to."""

yaml_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(names, children, max_size=3),
    ),
    max_leaves=6,
)
"""Any value YAML can dump: scalars, lists and mappings, nested a little."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# --- structural mutations on loaded data -----------------------------------------------

def _paths(data: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path to an entry of a mapping or a list, depth first."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _containers(data: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path to a mapping (the root included)."""
    if isinstance(data, dict):
        yield prefix
        for key, value in data.items():
            yield from _containers(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _containers(value, (*prefix, index))


def _parent(data: Any, path: Path_) -> Any:
    node = data
    for step in path[:-1]:
        node = node[step]
    return node


def _get(data: Any, path: Path_) -> Any:
    node = data
    for step in path:
        node = node[step]
    return node


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: faster
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LOADED: dict[str, Any] = {}


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def _load(text: str) -> Any:
    """The plain data of a bundled text, parsed once and copied for each mutation."""
    if text not in _LOADED:
        _LOADED[text] = yaml.load(text, Loader=_Loader)
    return copy.deepcopy(_LOADED[text])


@st.composite
def drop_key(draw: st.DrawFn, data: Any) -> tuple[str, Any]:
    """Remove one entry (a key of a mapping or an item of a list), anywhere."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(list(_paths(data))))
    del _parent(data, path)[path[-1]]
    return f"drop {path!r}", data


@st.composite
def retype_value(draw: st.DrawFn, data: Any) -> tuple[str, Any]:
    """Replace one value with a value of another type."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(list(_paths(data))))
    old = _get(data, path)
    new = draw(yaml_values.filter(lambda v: _kind(v) != _kind(old)))
    _parent(data, path)[path[-1]] = new
    return f"set {path!r} = {new!r}", data


@st.composite
def insert_unknown_key(draw: st.DrawFn, data: Any) -> tuple[str, Any]:
    """Add a key (usually unknown there) with any value to one mapping."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(list(_containers(data))))
    container = _get(data, path)
    key = draw(names | st.sampled_from(["initial", "final", "from", "to", "gate", "all",
                                        "extends", "remove", "expr", "at", "every"]))
    value = draw(yaml_values)
    container[key] = value
    return f"insert {key!r}: {value!r} at {path!r}", data


def data_mutants(data: Any) -> st.SearchStrategy[tuple[str, Any]]:
    """One structural mutation of loaded journey data."""
    return st.one_of(drop_key(data), retype_value(data), insert_unknown_key(data))


# --- text mutations --------------------------------------------------------------------

@st.composite
def cut_texts(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """The text cut at a random point (as a truncated upload would be)."""
    at = draw(st.integers(min_value=0, max_value=len(text)))
    return f"cut at {at}", text[:at]


@st.composite
def spliced_texts(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """Random characters (control, Thai, surrogate-free unicode) spliced into the text."""
    at = draw(st.integers(min_value=0, max_value=len(text)))
    length = draw(st.integers(min_value=0, max_value=8))
    junk = draw(st.text(min_size=1, max_size=12))
    return f"splice {junk!r} at {at} over {length}", text[:at] + junk + text[at + length:]


@st.composite
def spliced_bytes(draw: st.DrawFn, text: str) -> tuple[str, bytes]:
    """Random bytes (often invalid UTF-8) spliced into the encoded text."""
    raw = text.encode("utf-8")
    at = draw(st.integers(min_value=0, max_value=len(raw)))
    length = draw(st.integers(min_value=0, max_value=8))
    junk = draw(st.binary(min_size=1, max_size=12))
    return f"splice bytes {junk!r} at {at}", raw[:at] + junk + raw[at + length:]


random_bytes: st.SearchStrategy[bytes] = st.binary(max_size=300)
"""Arbitrary bytes, a whole document of them."""

random_unicode: st.SearchStrategy[str] = st.text(max_size=300)
"""Arbitrary characters, a whole document of them."""


# --- the combined strategy ---------------------------------------------------------------

@st.composite
def journey_mutants(draw: st.DrawFn, kind: str | None = None) -> Mutant:
    """A bundled journey broken in one of the ways above.

    Args:
        kind: ``"data"`` (drop, retype, insert), ``"text"`` (cut, splice characters or
            bytes) or ``"random"`` (random bytes or characters); None draws one.
    """
    name, text = draw(bundled_texts())
    kind = kind or draw(st.sampled_from(["data", "text", "random"]))
    if kind == "data":
        how, data = draw(data_mutants(_load(text)))
        return Mutant(name, how, _dump(data))
    if kind == "text":
        how, mutated = draw(st.one_of(cut_texts(text), spliced_texts(text),
                                      spliced_bytes(text)))
        return Mutant(name, how, mutated)
    document: str | bytes = draw(random_bytes | random_unicode)
    return Mutant(name, "random document", document)
