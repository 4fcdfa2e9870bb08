"""Each effect recorded as it happens, and a lease that outlives any round.

- a daemon (a real ``bompao scheduler run`` process) delivering 500 webhooks to a slow
  receiver is SIGKILLed in the middle 10 times and restarted under the same name:
  every ``Idempotency-Key`` arrives, and each kill repeats at most the one delivery it
  interrupted (recording a batch at its end repeated up to a whole batch per kill);
- a round whose deliveries take longer than the lease keeps its claims: a second
  daemon polling meanwhile takes none of them over (without renewal it took them and
  delivered them a second time).
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from scheduler.daemons import Daemon, sink_journey, wait_for, write_config
from scheduler.peers import MutableClock, Sink, sleeping

from bompao.engine import Engine
from bompao.engine.actions import ActionContext, ActionFailed
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.storage.tables import follow_ups

PROJECTS = 100
WEBHOOKS = 5
KILLS = 10


@pytest.fixture
def started() -> Iterator[list[Daemon]]:
    """Daemons started by a test; any still running at the end are killed."""
    running: list[Daemon] = []
    yield running
    for daemon in running:
        daemon.kill()


def unfinished(engine: Engine) -> int:
    with engine.db.begin(write=False) as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(
            follow_ups.c.status.in_(("pending", "running")))).scalar_one())


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_daemon_killed_10_times_repeats_at_most_the_delivery_in_hand_per_kill(
        store_url: str, sink: Sink, tmp_path: Path, started: list[Daemon]) -> None:
    engine = Engine.from_url(store_url, clock=lambda: datetime.now(UTC) - timedelta(days=1))
    key = engine.publish(sink_journey("slowly", WEBHOOKS))[0]
    for i in range(PROJECTS):
        engine.create_project(f"{key}@1", f"P{i}")
    total = PROJECTS * WEBHOOKS
    sink.answers["/sink"] = sleeping(0.02)  # a slow receiver: 500 take at least 10 s
    # one batch holds all 500: recorded at the end of the batch, every kill would repeat
    # everything delivered since the daemon started
    config = write_config(tmp_path / "kill.toml", sink, name="killed", batch=500, lease=30,
                          poll=0.2)
    rng = random.Random(11)
    left = []
    for n in range(KILLS):
        daemon = Daemon(store_url, config, tmp_path, f"kill-{n}")
        started.append(daemon)
        daemon.wait_started()
        wait_for(lambda: len(sink.keys("/sink")) > 0, 30, "a first delivery", daemon)
        time.sleep(rng.uniform(0.2, 0.6))
        daemon.kill()
        assert daemon.process.returncode == -signal.SIGKILL
        left.append(unfinished(engine))
    assert all(n > 0 for n in left), f"the run ended before the kills did: {left}"
    # the same name again: the dead holder's name and claims are taken over at once
    final = Daemon(store_url, config, tmp_path, "final")
    started.append(final)
    sink.answers.pop("/sink")
    wait_for(lambda: unfinished(engine) == 0, 120, "the last daemon to finish", final)
    assert final.stop() == 0, final.stderr[-2000:]

    with engine.db.begin(write=False) as conn:
        rows = list(conn.execute(sa.select(follow_ups)))
    assert Counter(r.status for r in rows) == {"done": total}
    keys = sink.keys("/sink")
    assert set(keys) == {r.idempotency_key for r in rows}
    repeats = Counter(keys)
    extra = sum(n - 1 for n in repeats.values())
    print(f"\nleft at each kill: {left}; {extra} repeated deliveries after {KILLS} kills")
    assert extra <= KILLS, repeats.most_common(5)
    assert max(repeats.values()) <= 2
    engine.close()


def test_a_round_longer_than_its_lease_keeps_its_claims(
        engine: Engine, clock: MutableClock) -> None:
    engine.publish("journey: long\nversion: 1\nstages:\n  a:\n    initial: true\n"
                   "    follow_ups:\n" + "".join(
                       f"      - {{id: s{i}, after: 0 days, action: slow}}\n" for i in range(4))
                   + "  b: {final: true}\ntransitions: [{trigger: go, from: a, to: b}]\n")
    engine.create_project("long", "P")
    delivered: list[str] = []
    stolen: list[int] = []
    other = Dispatcher(engine, Config(daemon_name="other", lease=10))

    def slow(ctx: ActionContext) -> str:
        delivered.append(ctx.idempotency_key)
        clock.tick(seconds=7)  # each delivery takes most of the 10 s lease
        if len(delivered) == 3:  # by now the round has lasted twice its lease
            stolen.append(other.run_round(clock.now, 10).claimed)
        return "slowly done"

    engine.register_action("slow", slow)
    result = Dispatcher(engine, Config(daemon_name="first", lease=10)).run_due(clock.now)
    assert stolen == [0]
    assert (result.done, result.lost) == (4, 0)
    assert len(delivered) == len(set(delivered)) == 4


def test_each_delivery_is_committed_before_the_next_begins(
        engine: Engine, clock: MutableClock) -> None:
    engine.publish("journey: steps\nversion: 1\nstages:\n  a:\n    initial: true\n"
                   "    follow_ups:\n" + "".join(
                       f"      - {{id: s{i}, after: 0 days, action: look}}\n" for i in range(5))
                   + "  b: {final: true}\ntransitions: [{trigger: go, from: a, to: b}]\n")
    engine.create_project("steps", "P")
    seen: list[dict[str, Any]] = []

    def look(ctx: ActionContext) -> str:
        # another connection's view of the table while this delivery happens
        with engine.db.begin(write=False) as conn:
            seen.append(Counter(conn.execute(sa.select(follow_ups.c.status)).scalars()))
        time.sleep(0.03)  # longer than record_within: its own commit
        return "looked"

    engine.register_action("look", look)
    result = Dispatcher(engine, Config(daemon_name="d", record_within=0.01)).run_due(clock.now)
    assert result.done == 5
    assert [c["done"] for c in seen] == [0, 1, 2, 3, 4]


class Killed(BaseException):
    """A kill, as far as a round can tell: not an ``Exception``, nothing catches it."""


def local_journey(engine: Engine, key: str, action: str, count: int) -> list[int]:
    """``count`` projects of a journey whose one follow-up, due at once, runs ``action``."""
    engine.publish(f"journey: {key}\nversion: 1\nstages:\n  a:\n    initial: true\n"
                   f"    follow_ups: [{{id: s, after: 0 days, action: {action}}}]\n"
                   "  b: {final: true}\ntransitions: [{trigger: go, from: a, to: b}]\n")
    return [engine.create_project(key, f"{key}{i}").id for i in range(count)]


def runs(engine: Engine, project: int) -> list[Any]:
    """The project's ``follow_up`` events, oldest first."""
    return [e for e in engine.history(project) if e.kind == "follow_up"]


@pytest.mark.parametrize("in_process", [True, False])
def test_in_process_runs_are_claimed_run_and_recorded_in_one_transaction(
        engine: Engine, clock: MutableClock, in_process: bool) -> None:
    projects = local_journey(engine, "local", "tally", 30)
    calls: list[int] = []

    def tally(ctx: ActionContext) -> str | None:
        calls.append(ctx.project.id)
        if len(calls) == 20 and kill:
            raise Killed
        if ctx.project.id % 7 == 0:
            raise ActionFailed(f"no sevens ({ctx.project.id})")
        return None

    engine.register_action("tally", tally, in_process=in_process)  # the Engine method
    kill = True
    with pytest.raises(Killed):
        Dispatcher(engine, Config(daemon_name="d", lease=60)).run_due(clock.now)
    with engine.db.begin(write=False) as conn:
        rows = conn.execute(sa.select(follow_ups.c.status, follow_ups.c.attempts)).all()
    fused = in_process and engine.hot.sqlite
    if fused:
        # the kill took the claims back with the runs: nothing happened, nothing to wait for
        assert Counter(rows) == {("pending", 0): 30}
    else:
        # claimed (committed) before the first effect; the 19 effects before the kill
        # shared a commit still to come (record_within), so they are unrecorded
        assert Counter(rows) == {("running", 1): 30}
        clock.tick(seconds=61)
    assert all(e.kind != "follow_up" for p in projects for e in engine.history(p))
    kill, calls[:] = False, []
    result = Dispatcher(engine, Config(daemon_name="d2", lease=60)).run_due(clock.now)
    sevens = [p for p in projects if p % 7 == 0]
    assert (result.done, result.failed, result.lost) == (30 - len(sevens), len(sevens), 0)
    assert calls == projects  # in due order, each once
    for project in projects:
        (run,) = runs(engine, project)
        outcome = "failed" if project % 7 == 0 else "done"
        assert (run.payload["outcome"], run.payload["daemon"]) == (outcome, "d2")
        (row,) = engine.list_follow_ups(project=project, limit=None)
        assert row["status"] == outcome
        assert row["attempts"] == (1 if fused else 2)
        assert row["last_error"] == (f"no sevens ({project})" if outcome == "failed" else None)
        history = engine.history(project)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))


def test_in_process_runs_ahead_of_an_external_one_are_committed_before_it_happens(
        engine: Engine, clock: MutableClock) -> None:
    local = local_journey(engine, "local", "tally", 10)
    outside = local_journey(engine, "outside", "look", 3)
    calls: list[int] = []
    seen: list[Counter[str]] = []

    def look(ctx: ActionContext) -> str:
        calls.append(ctx.project.id)
        with engine.db.begin(write=False) as conn:  # another connection's view
            seen.append(Counter(conn.execute(sa.select(follow_ups.c.status)).scalars()))
        return "looked"

    engine.actions.register("tally", lambda ctx: calls.append(ctx.project.id) and None,
                            in_process=True)
    engine.actions.register("look", look)
    result = Dispatcher(engine, Config(daemon_name="d")).run_due(clock.now)
    assert (result.done, result.claimed) == (13, 13)
    assert calls == local + outside
    assert all(len(runs(engine, p)) == 1 for p in local + outside)
    if engine.hot.sqlite:
        # the ten in-process runs were recorded with the claim, before the first webhook
        assert seen[0]["done"] == 10
        assert seen[0]["running"] == 3


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_on_sqlite_in_process_runs_go_straight_from_pending_to_done(
        engine: Engine, clock: MutableClock, store_url: str) -> None:
    """Each in-process run changes its row once (pending → done, or failed), never passing
    through running; the external one after them is claimed, then finished."""
    import sqlite3  # noqa: PLC0415

    local = local_journey(engine, "local", "tally", 6)
    outside = local_journey(engine, "outside", "look", 1)

    def tally(ctx: ActionContext) -> None:
        if ctx.project.id == local[2]:
            raise ActionFailed("not this one")

    engine.register_action("tally", tally, in_process=True)
    engine.register_action("look", lambda ctx: "looked")
    # a trigger, on the real file, writes down every status change the dispatcher makes
    path = engine.db.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as raw:
        raw.executescript(
            "CREATE TABLE status_log (seq INTEGER PRIMARY KEY, follow_up INTEGER, "
            "old TEXT, new TEXT); CREATE TRIGGER log_status AFTER UPDATE OF status ON "
            "follow_ups WHEN OLD.status IS NOT NEW.status BEGIN INSERT INTO status_log "
            "(follow_up, old, new) VALUES (OLD.id, OLD.status, NEW.status); END;")
    raw.close()
    result = Dispatcher(engine, Config(daemon_name="d")).run_due(clock.now)
    assert (result.claimed, result.done, result.failed) == (7, 6, 1)
    ids = {p: row["id"] for p in local + outside
           for row in engine.list_follow_ups(project=p, limit=None)}
    with sqlite3.connect(path) as raw:
        changes = raw.execute("SELECT follow_up, old, new FROM status_log "
                              "ORDER BY seq").fetchall()
    raw.close()
    by_row: dict[int, list[tuple[str, str]]] = {}
    for follow_up, old, new in changes:
        by_row.setdefault(follow_up, []).append((old, new))
    expected = {ids[p]: [("pending", "failed" if p == local[2] else "done")] for p in local}
    expected[ids[outside[0]]] = [("pending", "running"), ("running", "done")]
    assert by_row == expected
    with engine.db.begin(write=False) as conn:
        rows = {r.id: r for r in conn.execute(sa.select(follow_ups))}
    assert {r.attempts for r in rows.values()} == {1}
    assert all(r.lease_owner is None and r.lease_until is None for r in rows.values())
    assert rows[ids[local[2]]].last_error == "not this one"
