"""Real processes racing on the same projects, and processes killed mid-advance.

The workers are separate Python processes (``_advance_worker.py``) on one database:
a SQLite file (WAL) and a PostgreSQL schema, through ``store_url``. Afterwards every
project's history must be gap-free, hold exactly the advances the workers report
(no lost update), and replay to the stored project.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bompao.engine import Engine
from bompao.engine.history import replay
from bompao.errors import ConflictError, GateRefused, NotFound

WORKER = Path(__file__).with_name("_advance_worker.py")
WORKERS = 8
ADVANCES_PER_WORKER = 30
PROJECTS = 3
KILLS = 4


def _spawn(url: str, ids: list[int], count: str, start: str, seed: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, ",".join(map(str, ids)), count, start, str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(worker: subprocess.Popen[str]) -> None:
    assert worker.stdout is not None
    line = worker.stdout.readline()
    if line.strip() != "ready":
        worker.kill()
        _, err = worker.communicate(timeout=30)
        raise AssertionError(f"worker did not start: {line!r} {err}")


def _assert_consistent(engine: Engine, project_id: int, context: str = "") -> int:
    """Check one project's row against its history; return its number of advances."""
    project = engine.get(project_id)
    events = engine.history(project_id)
    where = f"project {project_id} {context}"
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), where
    assert project.lock_version == len(events), where
    assert events[-1].to_stage == project.stage, where
    for before, after in itertools.pairwise(events):
        assert after.kind == "advanced", where
        assert after.from_stage == before.to_stage, where  # starts where the last one ended
        assert after.trigger == ("go" if after.from_stage == "a" else "back"), where
    state = replay(events)
    assert state is not None, where
    assert (state.stage, state.seq, state.visit, state.stage_entered_at) == (
        project.stage, project.lock_version, project.visit, project.stage_entered_at), where
    advanced = sum(1 for e in events if e.kind == "advanced")
    assert project.stage == ("a" if advanced % 2 == 0 else "b"), where
    return advanced


def test_eight_processes_advancing_the_same_projects_lose_no_update(
        engine: Engine, toggle: str, store_url: str, tmp_path: Path) -> None:
    ids = [engine.create_project(toggle, f"P{i}").id for i in range(PROJECTS)]
    start = tmp_path / "start"
    workers = [_spawn(store_url, ids, str(ADVANCES_PER_WORKER), str(start), seed)
               for seed in range(WORKERS)]
    try:
        for worker in workers:
            _wait_ready(worker)
        start.touch()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=150)
            assert worker.returncode == 0, err
            reports.append(json.loads(out.splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    reported = {i: sum(r["advanced"][str(i)] for r in reports) for i in ids}
    assert sum(reported.values()) == WORKERS * ADVANCES_PER_WORKER
    # the workers did overlap: some lost a race (a conflict, or a trigger gone meanwhile)
    assert sum(r["conflicts"] + r["raced"] for r in reports) > 0
    for project_id in ids:
        assert _assert_consistent(engine, project_id) == reported[project_id]


def test_a_process_killed_mid_advance_leaves_projects_before_or_after(
        engine: Engine, toggle: str, store_url: str) -> None:
    ids = [engine.create_project(toggle, f"P{i}").id for i in range(PROJECTS)]
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    totals = [0]
    for kill in range(KILLS):
        worker = _spawn(store_url, ids, "loop", "-", seed + kill)
        try:
            _wait_ready(worker)
            time.sleep(rng.uniform(0.05, 0.4))
            assert worker.poll() is None, worker.communicate()[1]
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.communicate(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        context = f"after kill {kill + 1} (seed {seed})"
        totals.append(sum(_assert_consistent(engine, i, context) for i in ids))
    assert totals[-1] > 0, f"the killed workers never advanced anything (seed {seed})"
    # the database stays usable: a fresh advance on every project still works
    for project_id in ids:
        stage = engine.get(project_id).stage
        engine.advance(project_id, "go" if stage == "a" else "back")
        _assert_consistent(engine, project_id, "after a final advance")


def test_cohorts_advanced_in_opposite_orders_at_once_never_deadlock(
        engine: Engine, toggle: str) -> None:
    # advance_many locks in id order whatever order it is given: two threads moving the
    # same cohort back and forth in opposite orders meet as conflicts at worst, never
    # as a database deadlock
    ids = [engine.create_project(toggle, f"P{i}").id for i in range(12)]
    unexpected: list[BaseException] = []
    conflicts = itertools.count()

    def churn(order: list[int]) -> None:
        for _ in range(40):
            for trigger in ("go", "back"):
                try:
                    engine.advance_many(order, trigger)
                except (ConflictError, GateRefused, NotFound):
                    next(conflicts)
                except BaseException as exc:
                    unexpected.append(exc)

    threads = [threading.Thread(target=churn, args=(order,))
               for order in (ids, list(reversed(ids)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    stages = {engine.get(i).stage for i in ids}
    assert len(stages) == 1  # every move was all or nothing
    for project_id in ids:
        _assert_consistent(engine, project_id)
