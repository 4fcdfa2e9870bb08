"""One compiled journey, with one ``transitions`` machine, per journey version.

However many projects move, the engine keeps one compiled journey per published
version and never builds a machine (or adds a model to one) per project.
"""

from __future__ import annotations

import gc
from typing import Any

from transitions import Machine

from bompao.engine import Engine

PROJECTS = 20
ADVANCES = 1_000


def _machines() -> int:
    """How many ``transitions`` machines are alive in this process."""
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, Machine))


def test_one_machine_per_journey_version_however_many_advances(engine: Engine,
                                                               toggle: str) -> None:
    compiled = engine.journey(toggle, 1)
    machine = compiled.machine
    assert isinstance(machine, Machine)
    models_before = list(machine.models)
    machines_before = _machines()
    ids = [engine.create_project(toggle, f"P{i}").id for i in range(PROJECTS)]
    for n in range(ADVANCES):
        project_id = ids[n % PROJECTS]
        engine.advance(project_id, "go" if (n // PROJECTS) % 2 == 0 else "back")
    assert all(engine.get(i).lock_version == 1 + ADVANCES // PROJECTS for i in ids)
    assert engine.journey(toggle, 1) is compiled
    assert id(engine.journey(toggle, 1).machine) == id(machine)
    assert list(machine.models) == models_before  # no project became a model of it
    assert _machines() == machines_before  # and no machine was built per project
    assert [key for key in engine._journeys if key[0] == toggle] == [(toggle, 1)]
    assert len(engine._journeys) == len(set(engine._journeys))


def test_each_version_gets_its_own_shared_machine(engine: Engine, toggle: str,
                                                  store_url: str) -> None:
    v2_text = engine.journey(toggle, 1).source.replace("version: 1", "version: 2")
    assert engine.publish(v2_text) == (toggle, 2)
    old = [engine.create_project(f"{toggle}@1", f"Old{i}").id for i in range(5)]
    new = [engine.create_project(toggle, f"New{i}").id for i in range(5)]
    for _ in range(10):
        for project_id in old + new:
            stage = engine.get(project_id).stage
            engine.advance(project_id, "go" if stage == "a" else "back")
    toggles = {key: compiled for key, compiled in engine._journeys.items() if key[0] == toggle}
    assert sorted(toggles) == [(toggle, 1), (toggle, 2)]
    machines = {id(compiled.machine) for compiled in toggles.values()}
    assert len(machines) == 2

    # a second engine (another process, say) compiles each version once, on first use
    other = Engine.from_url(store_url)
    try:
        seen: list[Any] = []
        for project_id in old + new:
            project = other.get(project_id)
            other.advance(project_id, "go" if project.stage == "a" else "back")
            seen.append(id(other.journey(project.journey, project.version).machine))
        assert len(set(seen)) == 2
        assert sorted(k for k in other._journeys if k[0] == toggle) == [(toggle, 1), (toggle, 2)]
    finally:
        other.close()
