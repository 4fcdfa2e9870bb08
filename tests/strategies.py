"""Hypothesis strategies for the journey language, in one module (attrs style).

Most strategies start from a bundled journey and break it the way people and
tools do: a key dropped, a value of the wrong type, an unknown key, the text cut
short, random bytes or random characters spliced in. Properties then assert that
the pipeline answers each with either a compiled journey or a positioned
:class:`~bompao.errors.DefinitionError`, and never with any other exception.

The last section makes journeys that compile, for the stateful engine tests: later
versions of the bundled journeys (:func:`bundled_families`), small generated journeys
with a second version (:func:`generated_journeys`) and field values
(:func:`field_values`).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from bompao.definitions import bundled_dir

__all__ = [
    "BUNDLED_FILES",
    "GENERATED_EVIDENCE",
    "GENERATED_FIELDS",
    "GENERATED_FLAGS",
    "GOOD_VALUES",
    "STATEFUL_ROLES",
    "Family",
    "Mutant",
    "add_stage",
    "bundled_families",
    "bundled_texts",
    "cut_texts",
    "data_mutants",
    "drop_key",
    "field_values",
    "generated_journeys",
    "insert_unknown_key",
    "journey_data",
    "journey_mutants",
    "journey_text",
    "measurement_plans",
    "names",
    "random_bytes",
    "random_unicode",
    "referenced_fields",
    "rename_field",
    "rename_stage",
    "retype_value",
    "scalars",
    "spliced_bytes",
    "spliced_texts",
    "storable_values",
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


# --- journeys that compile: versions of the bundled ones, and generated ones -----------
#
# The stateful engine tests (tests/engine/test_stateful.py) need valid journeys with
# several versions to publish and migrate between. A :class:`Family` is one journey key
# with its versions; the changes between versions are made on the loaded data by the
# helpers below (add a stage, rename a stage or a field, retime or drop a follow-up).

STATEFUL_ROLES = ("coach", "boss", "helper")
"""The roles of generated journeys."""

GENERATED_FIELDS: dict[str, tuple[str, Any]] = {
    "n": ("int", 0), "score": ("float", 0.0), "note": ("string", ""), "ok": ("bool", False),
    "tags": ("list[string]", []), "day": ("date", None)}
"""Field name → (type, default) that generated journeys pick from (None: no default)."""

GENERATED_EVIDENCE = ("doc", "plan")
GENERATED_FLAGS = ("at_risk", "late")
GOOD_VALUES: dict[str, Any] = {
    "int": 40, "float": 10.5, "string": "Villagers downstream have no clean water",
    "bool": True, "list[string]": ["cmu", "a"], "date": "2025-12-01",
    "datetime": "2025-12-01T09:00:00+07:00", "list[int]": [40], "list[float]": [10.5]}
"""A value per field type that meets the usual thresholds of gates (``n >= 10``,
``size(problem_statement) >= 20``, ``size(partners_committed) >= 1``, ``ok``)."""


class Family:
    """One journey key with its versions, as a stateful test publishes and migrates them.

    Not a dataclass, so that Hypothesis shows it by its short ``repr``, not every text.

    Args:
        key: the journey key.
        versions: version → the YAML text of that version (version 1 always).
        renames: version → {stage name in version 1: its name in that version}.
        how: what each later version changed (shown when a test fails).
    """

    def __init__(self, key: str, versions: Mapping[int, str],
                 renames: Mapping[int, Mapping[str, str]], how: str) -> None:
        self.key = key
        self.versions = versions
        self.renames = renames
        self.how = how

    def mapping(self, source: int, target: int) -> dict[str, str]:
        """The stage renames a migration from version ``source`` to ``target`` needs."""
        old_names, new_names = self.renames.get(source, {}), self.renames.get(target, {})
        found = {}
        for name in {*old_names, *new_names}:
            old, new = old_names.get(name, name), new_names.get(name, name)
            if old != new:
                found[old] = new
        return found

    def __repr__(self) -> str:
        return f"Family({self.key!r}, versions={sorted(self.versions)}, how={self.how!r})"


def journey_data(text: str) -> dict[str, Any]:
    """The plain data of a journey text (a fresh copy each call)."""
    data = _load(text)
    assert isinstance(data, dict)
    return data


def journey_text(data: Mapping[str, Any]) -> str:
    """YAML text of journey data."""
    return _dump(dict(data))


def _criteria(node: Any) -> Iterator[dict[str, Any]]:
    """Every criterion of a gate, the gate itself included (lists mean ``all``)."""
    if isinstance(node, list):
        for child in node:
            yield from _criteria(child)
    elif isinstance(node, dict):
        yield node
        for key in ("all", "any"):
            yield from _criteria(node.get(key) or [])
        if node.get("not") is not None:
            yield from _criteria(node["not"])


def referenced_fields(data: Mapping[str, Any]) -> set[str]:
    """Fields some gate expression or ``at:`` follow-up of ``data`` names."""
    texts = [str(c["expr"]) for t in data.get("transitions") or []
             for c in _criteria(t.get("gate")) if "expr" in c]
    found = {str(f["at"]) for s in (data.get("stages") or {}).values()
             for f in (s or {}).get("follow_ups") or [] if "at" in f}
    words = {w for text in texts for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
    return found | (set(data.get("fields") or {}) & words)


def rename_stage(data: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """``data`` with stage ``old`` called ``new`` (its transitions follow it)."""
    result = copy.deepcopy(dict(data))
    result["stages"] = {new if name == old else name: spec
                        for name, spec in result["stages"].items()}
    for transition in result.get("transitions") or []:
        source = transition["from"]
        if isinstance(source, list):
            transition["from"] = [new if s == old else s for s in source]
        elif source == old:
            transition["from"] = new
        if transition["to"] == old:
            transition["to"] = new
    return result


def rename_field(data: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """``data`` with field ``old`` (named by no gate or ``at:``) called ``new``."""
    assert old not in referenced_fields(data), old
    result = copy.deepcopy(dict(data))
    result["fields"] = {new if name == old else name: spec
                        for name, spec in result["fields"].items()}
    return result


def add_stage(data: Mapping[str, Any], name: str, *, source: str, dest: str,
              follow_ups: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``data`` with a new stage ``name``, entered from ``source`` and left to ``dest``.

    Works for partner journeys too: their new stages and transitions are added to the
    base's.
    """
    result = copy.deepcopy(dict(data))
    result["stages"] = {**(result.get("stages") or {}),
                        name: {"follow_ups": follow_ups} if follow_ups else {}}
    result["transitions"] = [*(result.get("transitions") or []),
                             {"trigger": f"to_{name}", "from": source, "to": name},
                             {"trigger": f"leave_{name}", "from": name, "to": dest}]
    return result


def _versioned(data: dict[str, Any], version: int) -> dict[str, Any]:
    return {**data, "version": version}


def _bundled_family(file: str) -> Family:
    # the version 1 of a journey whose later versions are bundled too (social-incubator 2
    # added indicators, 3 the call; the partner journeys' 2 extend social-incubator@3)
    file = {"social-incubator.yaml": "earlier/social-incubator-1.yaml",
            "university-incubator.yaml": "earlier/university-incubator-1.yaml",
            "local-government-incubator.yaml": "earlier/local-government-incubator-1.yaml",
            }.get(file, file)
    text = (bundled_dir() / file).read_text(encoding="utf-8")
    v1 = journey_data(text)
    key = str(v1["journey"])
    if key == "social-incubator":
        v2 = add_stage(rename_field(v1, "people_reached", "beneficiaries"), "mentoring",
                       source="showcase", dest="handoff", follow_ups=[
                           {"id": "mentoring_check", "after": "2 weeks", "action": "flag",
                            "flag": "mentoring_due"}])
        v3 = rename_stage(v2, "stalled", "paused")
        v3["stages"]["validation"]["follow_ups"][1]["after"] = "60 days"
        return Family(key, {1: text, 2: journey_text(_versioned(v2, 2)),
                            3: journey_text(_versioned(v3, 3))},
                      {3: {"stalled": "paused"}},
                      "v2: + stage mentoring, people_reached -> beneficiaries; "
                      "v3: stalled -> paused, validation_at_risk after 60 days")
    if key == "incubator-builder":
        v2 = add_stage(v1, "peer_review", source="workshop_3", dest="withdrawn")
        v2["fields"]["budget_thb"] = {"type": "float", "default": 0.0}  # every field is read
        v3 = rename_stage(v2, "team_preparation", "team_prep")
        del v3["stages"]["trial_incubation"]["follow_ups"][2]  # quarterly_advice
        return Family(key, {1: text, 2: journey_text(_versioned(v2, 2)),
                            3: journey_text(_versioned(v3, 3))},
                      {3: {"team_preparation": "team_prep"}},
                      "v2: + stage peer_review, + field budget_thb; "
                      "v3: team_preparation -> team_prep, no quarterly_advice")
    source = "ethics_review" if key == "university-incubator" else "community_hearing"
    v2 = add_stage(v1, "extra_review", source=source, dest="withdrawn")
    return Family(key, {1: text, 2: journey_text(_versioned(v2, 2))}, {},
                  f"v2: + stage extra_review after {source}")


_FAMILIES: list[Family] = []


def bundled_families() -> list[Family]:
    """Each bundled journey with one or two later versions made from it."""
    if not _FAMILIES:
        _FAMILIES.extend(_bundled_family(p.name) for p in BUNDLED_FILES)
    return _FAMILIES


def field_values(kind: str) -> st.SearchStrategy[Any]:
    """Valid values of a field type, as a caller passes them to ``set_fields``."""
    days = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 12, 31))
    scalar: dict[str, st.SearchStrategy[Any]] = {
        "int": st.integers(min_value=-3, max_value=50),
        "float": st.floats(min_value=-3, max_value=50, allow_nan=False) | st.integers(0, 50),
        "string": st.text(alphabet="ab ลำน้ำ", max_size=30),
        "bool": st.booleans(),
        "date": days | days.map(date.isoformat),
        "datetime": st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 12, 31),
                                 timezones=st.just(UTC)).map(datetime.isoformat),
    }
    if kind.startswith("list["):
        return st.lists(scalar[kind[5:-1]] if kind != "list[string]"
                        else st.sampled_from(["a", "b", "cmu", "อบต"]), max_size=3)
    return st.just(GOOD_VALUES[kind]) | scalar[kind]


def _duration(draw: st.DrawFn, units: tuple[str, ...]) -> str:
    n = draw(st.integers(min_value=1, max_value=3))
    unit = draw(st.sampled_from(units))
    return f"{n} {unit if n > 1 else unit.removesuffix('s')}"


def _expression(draw: st.DrawFn, fields: Mapping[str, str]) -> str:
    name = draw(st.sampled_from([*sorted(fields), "days_in_stage", "evidence", "approvals"]))
    k = draw(st.integers(min_value=0, max_value=4))
    kind = fields.get(name, name)
    op = draw(st.sampled_from([">=", ">", "<", "==", "!="]))
    choices = {
        "int": [f"{name} {op} {k}"],
        "float": [f"{name} {op} {k}.5"],
        "string": [f"size({name}) >= {k * 5}", f'{name} != ""', f'{name}.startsWith("a")'],
        "bool": [name, f"!{name}"],
        "list[string]": [f"size({name}) >= {k}", f'"a" in {name}'],
        "date": [f"{name} < now", f"{name} > now"],
        "days_in_stage": [f"days_in_stage >= {k * 7}"],
        "evidence": [f'"{e}" in evidence' for e in GENERATED_EVIDENCE],
        "approvals": [f"has(approvals.{r}) && approvals.{r} >= {k}" for r in STATEFUL_ROLES],
    }[kind]
    return draw(st.sampled_from(choices))


def _leaf(draw: st.DrawFn, fields: Mapping[str, str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["expr", "expr", "evidence", "approval", "min_time_in_stage"]))
    if kind == "expr":
        return {"expr": _expression(draw, fields)}
    if kind == "evidence":
        return {"evidence": draw(st.sampled_from(GENERATED_EVIDENCE))}
    if kind == "approval":
        return {"approval": {"role": draw(st.sampled_from(STATEFUL_ROLES)),
                             "count": draw(st.integers(min_value=1, max_value=2))}}
    return {"min_time_in_stage": _duration(draw, ("days", "weeks", "months", "business days"))}


def _gate(draw: st.DrawFn, fields: Mapping[str, str]) -> Any:
    shape = draw(st.sampled_from(["none", "leaf", "all", "any", "not", "list"]))
    if shape == "none":
        return None
    if shape == "leaf":
        return _leaf(draw, fields)
    if shape == "not":
        return {"not": _leaf(draw, fields)}
    children = [_leaf(draw, fields) for _ in range(draw(st.integers(min_value=1, max_value=3)))]
    return children if shape == "list" else {shape: children}


def _roles(draw: st.DrawFn) -> list[str]:
    return draw(st.lists(st.sampled_from(STATEFUL_ROLES), min_size=1, max_size=2, unique=True))


def _follow_up(draw: st.DrawFn, stage: str, index: int, triggers: list[str],
               fields: Mapping[str, str]) -> dict[str, Any]:
    timings = ["after", "every", "after+every"] + (["at"] if "day" in fields else [])
    timing = draw(st.sampled_from(timings))
    spec: dict[str, Any] = {"id": f"{stage}_{index}"}
    if timing == "at":
        spec["at"] = "day"
    if "after" in timing:
        spec["after"] = _duration(draw, ("days", "weeks", "months", "business days"))
    if "every" in timing:  # at least two weeks: months of clock jumps stay cheap to catch up
        spec["every"] = draw(st.sampled_from(["2 weeks", "3 weeks", "1 month", "2 months"]))
    actions = ["flag", "unflag", "notify"] + (["transition"] if triggers else [])
    action = draw(st.sampled_from(actions))
    spec["action"] = action
    if action in ("flag", "unflag"):
        spec["flag"] = draw(st.sampled_from(GENERATED_FLAGS))
    elif action == "notify":
        spec["to"] = ["coach"]
        spec["message"] = "{{ project.name }} is in " + stage
    else:
        spec["trigger"] = draw(st.sampled_from(triggers))
        if draw(st.booleans()):
            spec["force"] = True
    return spec


def _triggers_from(transitions: list[dict[str, Any]], stage: str) -> list[str]:
    return [t["trigger"] for t in transitions
            if t["from"] == stage or (t["from"] == "*" and t["to"] != stage)]


@st.composite
def generated_journeys(draw: st.DrawFn) -> Family:
    """A small valid journey and a second version of it.

    Version 1 has an initial stage, one to three middle stages and one or two final
    stages; typed fields; gates of expressions, evidence, approvals and times in stage
    (combined with all/any/not); roles and override roles; and flag, unflag, notify and
    transition follow-ups after, every and at durations. Version 2 makes one or two
    changes: a stage added or renamed, a field renamed, a follow-up retimed, dropped or
    added, a gate replaced. The key is a digest of both texts, so one key always means
    the same texts.
    """
    names = draw(st.lists(st.sampled_from(sorted(GENERATED_FIELDS)), min_size=1, max_size=4,
                          unique=True))
    fields = {name: GENERATED_FIELDS[name][0] for name in sorted(names)}
    middle = [f"s{i}" for i in range(1, draw(st.integers(min_value=1, max_value=3)) + 1)]
    order = ["start", *middle]
    chain = [*order, "done"]
    transitions: list[dict[str, Any]] = [
        {"trigger": "finish" if b == "done" else f"go{i}", "from": a, "to": b}
        for i, (a, b) in enumerate(itertools.pairwise(chain), start=1)]
    for i, stage in enumerate(middle, start=1):
        if draw(st.booleans()):
            transitions.append({"trigger": "back", "from": stage,
                                "to": draw(st.sampled_from(order[:i]))})
    dropped = draw(st.booleans())
    if dropped:
        transitions.append({"trigger": "drop", "from": "*", "to": "dropped"})
    for transition in transitions:
        gate = _gate(draw, fields)
        if gate is not None:
            transition["gate"] = gate
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            transition["roles"] = _roles(draw)
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            transition["override_roles"] = _roles(draw)
    stages: dict[str, Any] = {}
    for stage in order:
        triggers = _triggers_from(transitions, stage)
        spec: dict[str, Any] = {"initial": True} if stage == "start" else {}
        count = draw(st.integers(min_value=0, max_value=3))
        if count:
            spec["follow_ups"] = [_follow_up(draw, stage, i, triggers, fields)
                                  for i in range(count)]
        stages[stage] = spec
    stages["done"] = {"final": True}
    if dropped:
        stages["dropped"] = {"final": True}
    data: dict[str, Any] = {
        "journey": "gen", "version": 1,
        "timezone": draw(st.sampled_from(["Asia/Bangkok", "UTC", "Europe/Berlin"])),
        "calendar": draw(st.sampled_from(["TH", None])),
        "roles": list(STATEFUL_ROLES),
        "override_roles": draw(st.lists(st.sampled_from(STATEFUL_ROLES), max_size=1)),
        "fields": {name: {"type": kind} | (
            {"default": GENERATED_FIELDS[name][1]} if GENERATED_FIELDS[name][1] is not None
            else {}) for name, kind in fields.items()},
        "evidence": {name: {"title": name.title()} for name in GENERATED_EVIDENCE},
        "stages": stages,
        "transitions": transitions,
    }
    v2, renames, how = _second_version(draw, data, middle, fields)
    texts = (journey_text(data), journey_text(v2))
    key = "gen-" + hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    return Family(key, {1: journey_text({**data, "journey": key}),
                        2: journey_text({**v2, "journey": key})}, renames, how)


def _second_version(draw: st.DrawFn, data: dict[str, Any], middle: list[str],
                    fields: Mapping[str, str]
                    ) -> tuple[dict[str, Any], dict[int, dict[str, str]], str]:
    v2 = copy.deepcopy({**data, "version": 2})
    renames: dict[int, dict[str, str]] = {}
    done: list[str] = []
    with_follow_ups = [s for s, spec in v2["stages"].items() if spec.get("follow_ups")]
    changes = draw(st.lists(st.sampled_from(["add_stage", "rename_stage", "rename_field",
                                             "retime", "drop_follow_up", "add_follow_up",
                                             "regate"]), min_size=1, max_size=2, unique=True))
    for change in changes:
        if change == "add_stage":
            source = draw(st.sampled_from(["start", *middle]))
            source = renames.get(2, {}).get(source, source)
            v2 = add_stage(v2, "extra", source=source, dest="done", follow_ups=[
                {"id": "extra_0", "after": "1 week", "action": "flag", "flag": "late"}])
            done.append(f"+ stage extra after {source}")
        elif change == "rename_stage" and middle:
            old = draw(st.sampled_from(middle))
            v2 = rename_stage(v2, old, f"{old}_v2")
            renames[2] = {old: f"{old}_v2"}
            done.append(f"{old} -> {old}_v2")
        elif change == "rename_field" and set(fields) - referenced_fields(v2):
            old = draw(st.sampled_from(sorted(set(fields) - referenced_fields(v2))))
            v2 = rename_field(v2, old, f"{old}2")
            done.append(f"field {old} -> {old}2")
        elif change in ("retime", "drop_follow_up") and with_follow_ups:
            stage = draw(st.sampled_from(with_follow_ups))
            specs = v2["stages"][renames.get(2, {}).get(stage, stage)]["follow_ups"]
            if not specs:
                continue
            index = draw(st.integers(min_value=0, max_value=len(specs) - 1))
            if change == "drop_follow_up":
                done.append(f"- follow-up {specs[index]['id']}")
                del specs[index]
            elif "after" in specs[index]:
                specs[index]["after"] = _duration(draw, ("days", "weeks"))
                done.append(f"{specs[index]['id']} after {specs[index]['after']}")
        elif change == "add_follow_up":
            stage = draw(st.sampled_from(["start", *middle]))
            spec = v2["stages"][renames.get(2, {}).get(stage, stage)]
            spec["follow_ups"] = [*(spec.get("follow_ups") or []), {
                "id": "added", "after": "3 days", "action": "flag", "flag": "at_risk"}]
            done.append(f"+ follow-up added in {stage}")
        elif change == "regate":
            index = draw(st.integers(min_value=0, max_value=len(v2["transitions"]) - 1))
            gate = _gate(draw, {f: k for f, k in fields.items() if f in v2["fields"]})
            v2["transitions"][index].pop("gate", None)
            if gate is not None:
                v2["transitions"][index]["gate"] = gate
            done.append(f"new gate for {v2['transitions'][index]['trigger']}")
    return v2, renames, "v2: " + ("; ".join(done) or "same stages, new version")


# -- deep checks: expressions of the CEL subset, over fields x, y (int), f (float), s, b --
DEEP_FIELDS = {"x": "int", "y": "int", "f": "float", "s": "string", "b": "bool"}


def _deep_int(draw: st.DrawFn, depth: int) -> str:
    leaves = st.sampled_from(["x", "y", "size(s)", "0", "1", "-2", "3", "7",
                              "9223372036854775807", "4611686018427387904"])
    if depth <= 0 or draw(st.booleans()):
        return draw(leaves)
    op = draw(st.sampled_from(["+", "-", "*", "/", "%", "neg"]))
    if op == "neg":
        return f"-({_deep_int(draw, depth - 1)})"
    return f"({_deep_int(draw, depth - 1)} {op} {_deep_int(draw, depth - 1)})"


def _deep_float(draw: st.DrawFn, depth: int) -> str:
    if depth <= 0 or draw(st.booleans()):
        return draw(st.sampled_from(["f", "0.0", "1.5", "-2.0", "1e308"]))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    return f"({_deep_float(draw, depth - 1)} {op} {_deep_float(draw, depth - 1)})"


@st.composite
def deep_expressions(draw: st.DrawFn, depth: int = 3) -> str:
    """A bool CEL expression inside the deep checks' subset."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(["int", "float", "string", "bool"]))
        rel = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        if kind == "int":
            return f"{_deep_int(draw, 2)} {rel} {_deep_int(draw, 2)}"
        if kind == "float":
            return f"{_deep_float(draw, 2)} {rel} {_deep_float(draw, 2)}"
        if kind == "string":
            text = draw(st.sampled_from(["''", "'ab'", "s + 'b'", "s"]))
            return f"s {draw(st.sampled_from(['==', '!=']))} {text}"
        return draw(st.sampled_from(["b", "!b", "b == true", "x in [1, 2, 3]"]))
    op = draw(st.sampled_from(["&&", "||", "!", "?:"]))
    if op == "!":
        return f"!({draw(deep_expressions(depth - 1))})"
    if op == "?:":
        return (f"({draw(deep_expressions(depth - 1))}) ? ({draw(deep_expressions(depth - 1))})"
                f" : ({draw(deep_expressions(depth - 1))})")
    return f"({draw(deep_expressions(depth - 1))}) {op} ({draw(deep_expressions(depth - 1))})"


def deep_values() -> st.SearchStrategy[dict[str, Any]]:
    """Values of the deep fields; a missing key is a field that is not set."""
    return st.fixed_dictionaries({}, optional={
        "x": st.sampled_from([0, 1, -1, 2, -7, 3, 2**62, -(2**63), 2**63 - 1]),
        "y": st.integers(-10, 10),
        "f": st.sampled_from([0.0, -0.0, 1.5, -2.0, float("nan"), float("inf"), float("-inf"),
                              1e308]),
        "s": st.sampled_from(["", "a", "ab", "abc"]),
        "b": st.booleans(),
    })


@st.composite
def deep_gates(draw: st.DrawFn, depth: int = 2) -> Any:
    """A gate over the deep fields, evidence ``e1``/``e2``, approvals by ``coach`` and the
    time in stage, as YAML-ready data."""
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(["expr", "days", "evidence", "approval", "time"]))
        if kind == "expr":
            return {"expr": draw(deep_expressions(depth=1))}
        if kind == "days":
            return {"expr": f"days_in_stage {draw(st.sampled_from(['<', '>=']))} "
                            f"{draw(st.integers(0, 70))}"}
        if kind == "evidence":
            return {"evidence": draw(st.sampled_from(["e1", "e2"]))}
        if kind == "approval":
            return {"approval": {"role": "coach", "count": draw(st.integers(1, 3))}}
        unit = draw(st.sampled_from(["days", "weeks", "months", "business days"]))
        return {"min_time_in_stage": f"{draw(st.integers(1, 3 if unit == 'months' else 40))} "
                                     f"{unit}"}
    kind = draw(st.sampled_from(["all", "any", "not"]))
    if kind == "not":
        return {"not": draw(deep_gates(depth - 1))}
    return {kind: draw(st.lists(deep_gates(depth - 1), min_size=1, max_size=3))}


def storable_values(kind: str) -> st.SearchStrategy[Any]:
    """Any value of a field type that bompao accepts, edges included: the whole finite
    float range (subnormals, -0.0), 64-bit integers, any text without NUL or lone
    surrogates up to 200 characters, times with any offset."""
    offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes)))
    scalar: dict[str, st.SearchStrategy[Any]] = {
        "int": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "float": st.floats(allow_nan=False, allow_infinity=False),
        "string": st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                          max_size=200),
        "bool": st.booleans(),
        "date": st.dates(),
        "datetime": st.datetimes(min_value=datetime(1900, 1, 1),
                                 max_value=datetime(2200, 1, 1), timezones=offsets),
    }
    if kind.startswith("list["):
        return st.lists(scalar[kind[5:-1]], max_size=5)
    return scalar[kind]


@st.composite
def measurement_plans(draw: st.DrawFn, projects: int = 4, months: int = 6
                      ) -> list[tuple[int, int, int]]:
    """Measurements to record, in order: ``(project index, month 1..months, value)``;
    the same project and month drawn twice is a correction."""
    return draw(st.lists(st.tuples(st.integers(0, projects - 1), st.integers(1, months),
                                   st.integers(0, 10_000)), max_size=30))
