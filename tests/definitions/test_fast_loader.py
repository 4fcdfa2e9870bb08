"""The event-stream loader (fast path) builds exactly what the composing loader builds.

``load_yaml`` first builds data and marks straight from libyaml's events and falls
back to composing a node graph for anything unusual. Both must agree on every
document the fast path accepts: the same data (types, key order, shared aliases)
and the same mark for every container and entry.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import bundled_texts, cut_texts, spliced_texts, yaml_values

from bompao.definitions.source import (
    Positions,
    _EventBuilder,
    _load_composed,
    as_mark,
    load_yaml,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((REPO / "tests" / "fixtures").rglob("*.yaml"))
BUNDLED = sorted((REPO / "journeys").glob("*.yaml"))


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN, keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _marks(data: Any, positions: Positions) -> Iterator[tuple[str, Any]]:
    """Every stored mark, by the path of what it marks, as the :class:`Mark` it reads as."""
    def walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict | list):
            yield path, as_mark(positions.container(node))
            keys = node if isinstance(node, dict) else range(len(node))
            for key in keys:
                entry = positions.entry(node, key)
                assert entry is not None
                yield f"{path}/{key!r}", tuple(as_mark(mark) for mark in entry)
                yield from walk(node[key], f"{path}/{key!r}")
    return walk(data, "")


def assert_agree(text: str) -> bool:
    """Compare both paths on ``text``; return whether the fast path took it."""
    fast = _EventBuilder("doc.yaml", text)
    data = fast.run()
    if data is None:
        return False
    slow = _load_composed(text, "doc.yaml")
    assert _same(data, slow.data)
    assert list(_marks(data, fast.positions)) == list(_marks(slow.data, slow.positions))
    return True


@pytest.mark.parametrize("path", BUNDLED + FIXTURES, ids=lambda p: p.name)
def test_every_bundled_journey_and_fixture_agrees(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    took = assert_agree(text)
    if path in BUNDLED:
        assert took, "a bundled journey should take the fast path"


def test_the_fast_path_keeps_aliases_shared_and_block_scalar_marks() -> None:
    text = ("base: &b {a: 1, b: [x, 'y']}\ncopy: *b\nnote: |\n  two\n  lines\nq: \"z\"\n"
            "nothing:\nflag: True\n")
    assert assert_agree(text)
    source = load_yaml(text, "doc.yaml")
    assert source.data["copy"] is source.data["base"]
    assert source.data["nothing"] is None
    assert source.data["flag"] is True
    note = source.mark(("note",))
    assert (note.line, note.style, note.indent) == (3, "|", 2)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",                       # duplicate key
    "base: &b {a: 1}\nm: {<<: *b, c: 2}\n",  # merge key
    "a: *nowhere\n",                      # undefined alias
    "a: &x 1\nb: &x 2\n",                 # duplicate anchor
    "a: &r [*r]\n",                       # recursive alias
    "1: one\n",                           # a key that is not text
    "- a\n",                              # root not a mapping
    "a: 1\n---\nb: 2\n",                  # two documents
    "a: [1\n",                            # invalid YAML
], ids=["duplicate", "merge", "undefined", "duplicate-anchor", "recursive", "int-key",
        "list-root", "two-docs", "invalid"])
def test_unusual_documents_fall_back_to_the_composing_loader(text: str) -> None:
    assert _EventBuilder("doc.yaml", text).run() is None


def test_a_merge_key_still_loads_through_the_fallback() -> None:
    source = load_yaml("base: &b {a: 1}\nm: {<<: *b, c: 2}\n", "doc.yaml")
    assert source.data["m"] == {"a": 1, "c": 2}


FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.dictionaries(st.text(min_size=1, max_size=8), yaml_values, max_size=6),
       st.sampled_from([None, True, False]), st.sampled_from([None, '"', "'", "|"]))
def test_dumped_documents_agree(data: dict[str, Any], flow: bool | None,
                                style: str | None) -> None:
    text = yaml.dump(data, default_flow_style=flow, default_style=style, allow_unicode=True)
    assert assert_agree(text), "a plain dumped mapping should take the fast path"


@FUZZ
@given(st.data())
def test_damaged_journeys_agree_or_fall_back(data: st.DataObject) -> None:
    _, text = data.draw(bundled_texts())
    _, damaged = data.draw(st.one_of(cut_texts(text), spliced_texts(text)))
    assert_agree(damaged)
