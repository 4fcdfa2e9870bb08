"""``expected_version``: a change names the lock version its caller read, and the engine
refuses it (``StaleError``) when the project is at another, inside its own transaction."""

from __future__ import annotations

from typing import Any

import pytest

from bompao.engine import Engine
from bompao.errors import ConflictError, StaleError


def _ready(engine: Engine) -> int:
    project = engine.create_project("social-incubator", "Ready")
    engine.set_fields(project.id, {"problem_statement": "Plastic in the Ping river, daily"})
    engine.add_evidence(project.id, "stakeholder_map", note="map")
    engine.approve(project.id, "coach", by="Malee")
    return project.id


def test_the_expected_version_lets_a_change_through(engine: Engine) -> None:
    project_id = _ready(engine)
    moved = engine.advance(project_id, "validate", expected_version=4)
    assert (moved.stage, moved.lock_version) == ("validation", 5)


@pytest.mark.parametrize("change", ["set_fields", "add_evidence", "approve", "assign",
                                    "advance"])
def test_another_version_is_refused_and_nothing_is_written(engine: Engine, change: str
                                                           ) -> None:
    project_id = _ready(engine)
    calls: dict[str, Any] = {
        "set_fields": lambda v: engine.set_fields(project_id, {"interviews_done": 3},
                                                  expected_version=v),
        "add_evidence": lambda v: engine.add_evidence(project_id, "test_plan", note="p",
                                                      expected_version=v),
        "approve": lambda v: engine.approve(project_id, "coach", by="Anan",
                                            expected_version=v),
        "assign": lambda v: engine.assign(project_id, "coach", "Anan", expected_version=v),
        "advance": lambda v: engine.advance(project_id, "validate", expected_version=v),
    }
    with pytest.raises(StaleError) as refused:
        calls[change](3)
    assert str(refused.value) == (
        f"project {project_id} has changed: it is at version 4, not 3 (the ETag or expected "
        "version given); nothing was written: read it again and retry")
    assert isinstance(refused.value, ConflictError)
    after = engine.get(project_id)
    assert (after.lock_version, after.stage) == (4, "idea")
    assert len(engine.history(project_id)) == 4


def test_a_writer_committing_between_read_and_write_is_stale_not_applied(
        postgres_url: str) -> None:
    """PostgreSQL reads without a row lock: another engine commits after this change read
    version 1 and before it writes. The optimistic update then finds version 2 and the
    change is refused as stale (on SQLite the write lock is taken first, so the gap does
    not exist)."""
    engine = Engine.from_url(postgres_url)
    other = Engine.from_url(postgres_url)
    try:
        project = engine.create_project("social-incubator", "Raced")
        real = engine.hot.update
        raced: list[int] = []

        def update_after_a_rival(cursor: Any, project_id: int, expected: int,
                                 values: Any, new_lock: int | None = None) -> bool:
            if not raced:
                raced.append(other.set_fields(project_id, {"interviews_done": 7}).lock_version)
            return real(cursor, project_id, expected, values, new_lock)

        engine.hot.update = update_after_a_rival  # type: ignore[method-assign]
        with pytest.raises(StaleError) as refused:
            engine.set_fields(project.id, {"interviews_done": 1}, expected_version=1)
        assert raced == [2]
        assert "it is at version 2, not 1" in str(refused.value)
        assert other.get(project.id).fields["interviews_done"] == 7
        raced.clear()  # the same race without a version named: a plain lost race
        with pytest.raises(ConflictError) as unnamed:
            engine.set_fields(project.id, {"interviews_done": 1})
        assert raced == [3]
        assert type(unnamed.value) is ConflictError
        assert other.get(project.id).lock_version == 3
    finally:
        engine.close()
        other.close()
