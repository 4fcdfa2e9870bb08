"""Values a database can keep: NaN and infinity refused, every field type round-trips.

The round trip writes through the engine (create, set, evidence, approvals) and reads
back through every read path: ``Engine.get``, ``Engine.list_projects``, the
dispatcher's ``HotPath.read_many``, SQLAlchemy Core (reports, audit) and the replay of
the history (``Engine.state_at``), on a SQLite file and on PostgreSQL. The expected
stored form is written out here from the documented format, not taken from the code.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import storable_values

from bompao.engine import Engine
from bompao.engine.transfer import ImportRefused, import_projects
from bompao.errors import InvalidValue
from bompao.storage.records import Project
from bompao.storage.tables import projects

EVERY_TYPE = """\
journey: every-type
version: 1
title: {en: Every type}
roles: [coach, committee]
fields:
  s: {type: string}
  i: {type: int}
  f: {type: float}
  b: {type: bool}
  d: {type: date}
  t: {type: datetime}
  ls: {type: "list[string]"}
  li: {type: "list[int]"}
  lf: {type: "list[float]"}
evidence:
  doc: {title: {en: A document}}
  plan: {title: {en: A plan}}
stages:
  a: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: a, to: done}
"""
KINDS = {"s": "string", "i": "int", "f": "float", "b": "bool", "d": "date", "t": "datetime",
         "ls": "list[string]", "li": "list[int]", "lf": "list[float]"}
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
               min_size=1, max_size=60).filter(str.strip)


def stored(kind: str, value: Any) -> Any:
    """The documented stored form: dates as YYYY-MM-DD, times as ISO 8601 with their
    offset, floats as floats, the rest as given."""
    if kind.startswith("list["):
        return [stored(kind[5:-1], item) for item in value]
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else value
    if kind == "datetime":
        return value.isoformat() if isinstance(value, datetime) else value
    if kind == "float":
        return float(value)
    return value


@pytest.fixture
def every(engine: Engine) -> str:
    """Publish the journey with a field of every type; return its key."""
    return engine.publish(EVERY_TYPE)[0]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_naming_the_field(
        engine: Engine, every: str, bad: float) -> None:
    with pytest.raises(InvalidValue) as info:
        engine.create_project(every, "P", fields={"f": bad})
    assert str(info.value) == f"field 'f': expected a finite float, got {bad!r}"
    assert engine.project_ids() == []
    project = engine.create_project(every, "P")
    for values in ({"f": bad}, {"lf": [1.0, bad]}):
        with pytest.raises(InvalidValue, match=r"field '(f|lf)': expected a finite float"):
            engine.set_fields(project.id, values)
    assert engine.get(project.id) == project  # nothing written


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e400"])
def test_non_finite_floats_typed_as_text_are_refused(
        engine: Engine, every: str, text: str) -> None:
    project = engine.create_project(every, "P")
    compiled = engine.journey(every)
    with pytest.raises(InvalidValue, match="field 'f': expected a finite float"):
        compiled.fields_from_text({"f": text})
    with pytest.raises(ImportRefused, match="field 'f': expected a finite float"):
        import_projects(engine, [{"name": "Q", "fields": {"f": text}}], journey=every)
    assert engine.project_ids() == [project.id]
    engine.set_fields(project.id, {"f": 1.5})  # the project stays changeable
    assert engine.get(project.id).fields["f"] == 1.5


def _read_paths(engine: Engine, project_id: int, key: str) -> dict[str, Project]:
    with engine.hot.transaction(write=False) as cursor:
        dispatcher = engine.hot.read_many(cursor, [project_id])[project_id]
    with engine.db.begin(write=False) as conn:
        core = Project.from_row(conn.execute(
            sa.select(projects).where(projects.c.id == project_id)).one())
    listed = {p.id: p for p in engine.list_projects(journey=key)}
    return {"get": engine.get(project_id), "list_projects": listed[project_id],
            "read_many": dispatcher, "core": core,
            "state_at": engine.state_at(project_id, engine.now())}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_field_type_evidence_and_approvals_round_trip(
        engine: Engine, every: str, data: st.DataObject) -> None:
    chosen = data.draw(st.sets(st.sampled_from(sorted(KINDS)), min_size=1), label="fields")
    first = {name: data.draw(storable_values(KINDS[name]), label=name) for name in chosen}
    later = {name: data.draw(storable_values(KINDS[name]), label=f"later {name}")
             for name in data.draw(st.sets(st.sampled_from(sorted(KINDS))), label="set")}
    evidence = data.draw(st.dictionaries(st.sampled_from(["doc", "plan"]),
                                         st.tuples(st.none() | TEXT, TEXT)), label="evidence")
    # names as people write them once (normalising respelt names is tests/engine/test_actors.py's)
    names = TEXT.map(lambda t: " ".join(t.split())).filter(lambda n: bool(n) and (
        unicodedata.normalize("NFC", n) == n
        and not any(unicodedata.category(c) == "Cf" for c in n)))
    approvers = data.draw(st.lists(names, unique_by=str.casefold, max_size=3),
                          label="approvers")
    name = data.draw(TEXT, label="name")

    project = engine.create_project(every, name, fields=first)
    if later:
        engine.set_fields(project.id, later)
    for item, (url, note) in evidence.items():
        engine.add_evidence(project.id, item, url=url, note=note)
    for person in approvers:
        engine.approve(project.id, role="coach", by=person)

    expected = {n: stored(KINDS[n], v) for n, v in {**first, **later}.items()}
    for path, got in _read_paths(engine, project.id, every).items():
        assert got.name == name.strip(), path
        assert got.fields == expected, path
        for field in ("f", "lf"):  # PostgreSQL's jsonb may give 1e16 back as an int
            values = got.fields.get(field)
            assert all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in (values if isinstance(values, list) else [values])
                       if v is not None), path
        assert {item: (entry["url"], entry["note"]) for item, entry in got.evidence.items()} \
            == evidence, path
        assert [entry["by"] for entry in got.approvals.get("coach", [])] == approvers, path
        assert got.lock_version == 1 + bool(later) + len(evidence) + len(approvers), path
    report = engine.check(project.id, "finish")  # CEL sees every stored value
    assert report.passable
