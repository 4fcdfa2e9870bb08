"""Approvals and assignments bound to the actor, and listeners for every change.

Hostile actors: claiming a role they lack, approving in someone else's name, counting
themselves twice in a quorum by respelling their name, reaching into another partner's
project. Each refusal writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bompao.definitions import JourneyCatalog
from bompao.engine import Actor, Engine
from bompao.engine.transfer import import_projects
from bompao.errors import ConflictError, GateRefused, NotFound, PermissionDenied
from bompao.storage.tables import projects

QUORUM = """\
journey: quorum
version: 1
title: {en: Quorum}
roles: [committee, coach, manager]
assign_roles: [manager]
stages:
  a: {initial: true}
  b: {}
  done: {final: true}
transitions:
  - trigger: go
    from: a
    to: b
    gate: {approval: {role: committee, count: 2}}
  - {trigger: finish, from: b, to: done}
"""

QUORUM_V2 = QUORUM.replace("version: 1", "version: 2").replace("  b: {}", "  b2: {}").replace(
    "to: b\n", "to: b2\n").replace("from: b, to: done", "from: b2, to: done")

OPEN = """\
journey: open
version: 1
title: {en: Open}
roles: [coach]
stages:
  a: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: a, to: done}
"""


def _state(engine: Engine, project_id: int) -> tuple[Any, ...]:
    found = engine.get(project_id)
    return found.lock_version, found.approvals, found.assignments, len(engine.history(
        project_id))


@pytest.fixture
def quorum(engine: Engine) -> str:
    engine.publish(QUORUM)
    return "quorum"


def test_an_actor_without_the_role_cannot_approve_and_nothing_is_written(
        engine: Engine, quorum: str) -> None:
    p = engine.create_project(quorum, "P")
    before = _state(engine, p.id)
    with pytest.raises(PermissionDenied) as caught:
        engine.approve(p.id, role="committee", actor=Actor("Mallory", roles={"coach"}))
    assert str(caught.value) == ("'Mallory' does not hold the role 'committee' and cannot "
                                 "approve as it; 'Mallory' holds: coach")
    with pytest.raises(PermissionDenied, match=r"'Nobody' holds: no role$"):
        engine.approve(p.id, role="committee", actor=Actor("Nobody"))
    assert _state(engine, p.id) == before


def test_an_actor_approves_as_itself_never_in_another_name(engine: Engine, quorum: str) -> None:
    p = engine.create_project(quorum, "P")
    anan = Actor("Anan", roles={"committee"})
    before = _state(engine, p.id)
    with pytest.raises(PermissionDenied) as caught:
        engine.approve(p.id, role="committee", by="Busaba", actor=anan)
    assert str(caught.value) == ("'Anan' cannot approve in the name of 'Busaba': an actor "
                                 "approves as itself (leave out by, or pass by=actor.name)")
    assert _state(engine, p.id) == before
    done = engine.approve(p.id, role="committee", actor=anan)
    assert [e["by"] for e in done.approvals["committee"]] == ["Anan"]
    event = engine.history(p.id)[-1]
    assert (event.kind, event.actor, event.role, event.payload["by"]) == (
        "approved", "Anan", "committee", "Anan")


def test_a_quorum_counts_distinct_people_however_they_spell_themselves(
        engine: Engine, quorum: str) -> None:
    p = engine.create_project(quorum, "P")
    engine.approve(p.id, role="committee", by="Anan")
    for respelt in (" anan ", "ANAN", "Anan\u00a0", "An\u200ban"):
        with pytest.raises(ConflictError, match="has already approved"):
            engine.approve(p.id, role="committee", by=respelt)
    with pytest.raises(ConflictError, match="has already approved"):
        engine.approve(p.id, role="committee", actor=Actor("anan", roles={"committee"}))
    assert not engine.check(p.id, "go").passable
    with pytest.raises(GateRefused):
        engine.advance(p.id, "go")
    engine.approve(p.id, role="committee", by="Busaba")
    assert engine.check(p.id, "go").passable


def test_a_row_holding_one_person_twice_counts_them_once(engine: Engine, quorum: str) -> None:
    """Rows written before names were compared this way still count people, not entries."""
    p = engine.create_project(quorum, "P")
    twice = {"committee": [{"by": "Anan", "at": "2026-01-05T03:00:00+00:00"},
                           {"by": "anan ", "at": "2026-01-05T03:00:00+00:00"}]}
    with engine.db.begin() as conn:
        conn.execute(sa.update(projects).where(projects.c.id == p.id).values(approvals=twice))
    report = engine.check(p.id, "go")
    assert not report.passable
    assert report.criteria[0].seen["approvals"] == 1


def test_a_partner_scoped_actor_approves_only_its_partners_projects(
        engine: Engine, quorum: str) -> None:
    ours = engine.create_project(quorum, "Ours", partner="kku")
    theirs = engine.create_project(quorum, "Theirs", partner="cmu")
    unowned = engine.create_project(quorum, "Nobody's")
    kku = Actor("Somchai", roles={"committee", "manager"}, partner="kku")
    for project_id in (theirs.id, unowned.id):
        before = _state(engine, project_id)
        with pytest.raises(NotFound, match=f"^no project with id {project_id}$"):
            engine.approve(project_id, role="committee", actor=kku)
        with pytest.raises(NotFound, match=f"^no project with id {project_id}$"):
            engine.assign(project_id, role="coach", person="Malee", actor=kku)
        assert _state(engine, project_id) == before
    assert engine.approve(ours.id, role="committee", actor=kku).approvals["committee"][0][
        "by"] == "Somchai"


def test_assigning_needs_an_assign_role_where_the_journey_declares_them(
        engine: Engine, quorum: str) -> None:
    engine.publish(OPEN)
    p = engine.create_project(quorum, "P")
    before = _state(engine, p.id)
    with pytest.raises(PermissionDenied) as caught:
        engine.assign(p.id, role="coach", person="Malee",
                      actor=Actor("Mallory", roles={"coach", "committee"}))
    assert str(caught.value) == ("assigning people in journey quorum@1 needs one of the roles "
                                 "manager; 'Mallory' holds: coach, committee")
    assert _state(engine, p.id) == before
    done = engine.assign(p.id, role="coach", person="Malee",
                         actor=Actor("Pranee", roles={"manager"}))
    assert done.assignments == {"coach": ["Malee"]}
    assert engine.assign(p.id, role="coach", person=" malee ").assignments == {
        "coach": ["Malee"]}, "the same person respelt is not assigned twice"
    free = engine.create_project("open", "Free")
    assert engine.assign(free.id, role="coach", person="Malee",
                         actor=Actor("Anyone")).assignments == {"coach": ["Malee"]}


def test_assign_roles_must_be_declared_roles(engine: Engine) -> None:
    from bompao.errors import DefinitionError  # noqa: PLC0415

    with pytest.raises(DefinitionError, match="unknown role 'boss'"):
        engine.publish(QUORUM.replace("assign_roles: [manager]", "assign_roles: [boss]"))


def test_listeners_hear_every_change_whoever_makes_it(store_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "quorum-1.yaml").write_text(QUORUM, encoding="utf-8")
    (folder / "quorum-2.yaml").write_text(QUORUM_V2, encoding="utf-8")
    engine = Engine.from_url(store_url, catalog=JourneyCatalog([folder], bundled=False))
    heard: list[tuple[Any, ...]] = []
    for kind in ("changed", "created", "migrated", "stage_entered", "stage_exited"):
        engine.on(kind, lambda heard_as=kind, **data: heard.append(
            (heard_as, data["project"].id, data.get("kind") or data.get("stage"))))
    try:
        manager = Actor("Pranee", roles={"manager", "committee"})
        p = engine.create_project("quorum@1", "P", actor=manager)
        engine.approve(p.id, role="committee", actor=manager)
        engine.approve(p.id, role="committee", by="Busaba")
        engine.assign(p.id, role="coach", person="Malee", actor=manager)
        engine.advance(p.id, "go", manager)
        heard.clear()
        engine.migrate(p.id, 2, {"b": "b2"}, actor=manager)
        assert heard == [("migrated", p.id, None), ("stage_exited", p.id, "b"),
                         ("stage_entered", p.id, "b2"), ("changed", p.id, "migrated")]
        heard.clear()
        engine.migrate(p.id, 2, {"b": "b2"}, dry_run=True)
        assert heard == [], "a dry run changes nothing, so nobody hears anything"
        [imported] = import_projects(engine, [{"journey": "quorum@2", "name": "Imported",
                                               "stage": "b2"}], actor=manager)
        assert heard == [("created", imported, None), ("stage_entered", imported, "b2"),
                         ("changed", imported, "created")]
        heard.clear()
        engine.advance_many([p.id, imported], "finish", manager)
        assert [h for h in heard if h[0] == "changed"] == [
            ("changed", p.id, "advanced"), ("changed", imported, "advanced")]
    finally:
        engine.close()


def test_every_kind_of_change_is_heard_once_as_changed(engine: Engine, quorum: str) -> None:
    kinds: list[str] = []
    engine.on("changed", lambda **data: kinds.append(data["kind"]))
    p = engine.create_project(quorum, "P")
    engine.approve(p.id, role="committee", by="Anan")
    engine.assign(p.id, role="coach", person="Malee")
    engine.flag(p.id, "at_risk")
    engine.flag(p.id, "at_risk", on=False)
    with pytest.raises(ConflictError):
        engine.approve(p.id, role="committee", by="Anan")
    assert kinds == ["created", "approved", "assigned", "flagged", "unflagged"]
    assert [e.kind for e in engine.history(p.id)] == kinds
