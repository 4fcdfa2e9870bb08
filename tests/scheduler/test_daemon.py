"""The scheduler daemon as real processes: several at once, killed, stopped, catching up.

Every daemon here is ``bompao --db URL --config FILE scheduler run`` in its own Python
process, delivering to a real HTTP sink (pytest-httpserver) that counts the
``Idempotency-Key`` headers it receives:

- three daemons on one PostgreSQL schema work through 20,000 due follow-ups, each
  delivered exactly once;
- one daemon on a SQLite file is killed with SIGKILL at random moments 20 times
  during a run and restarted: every follow-up ends done, internal effects happen once,
  every delivery arrives (repeats of one key allowed, none missing);
- SIGTERM and SIGINT finish the follow-up in hand and exit 0;
- ``scheduler run --once --now`` a year later runs everything missed once, oldest first.

Projects are created on an engine whose clock stands a day in the past, so that their
``after: 0 days`` follow-ups are due for the daemons, which use the real clock.
"""

from __future__ import annotations

import json
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
from scheduler.peers import MutableClock, Sink, bompao, sleeping
from sqlalchemy.engine import make_url

from bompao.engine import Engine
from bompao.storage.tables import events, follow_ups

DAY_AGO = timedelta(days=1)


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons started by a test; any still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def statuses(engine: Engine) -> Counter[str]:
    """How many follow-ups are in each status."""
    with engine.db.begin(write=False) as conn:
        return Counter({row[0]: int(row[1]) for row in conn.execute(
            sa.select(follow_ups.c.status, sa.func.count()).group_by(follow_ups.c.status))})


def unfinished(engine: Engine) -> int:
    counts = statuses(engine)
    return counts["pending"] + counts["running"]


def all_rows(engine: Engine) -> list[Any]:
    with engine.db.begin(write=False) as conn:
        return list(conn.execute(sa.select(follow_ups).order_by(follow_ups.c.id)))


def follow_up_events(engine: Engine) -> list[Any]:
    with engine.db.begin(write=False) as conn:
        return list(conn.execute(
            sa.select(events.c.project_id, events.c.seq, events.c.payload)
            .where(events.c.kind == "follow_up").order_by(events.c.project_id, events.c.seq)))


def fast_setup_url(url: str) -> str:
    """``url`` without waiting for each commit to reach the disk (PostgreSQL, setup only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    options = parsed.query.get("options", "")
    return parsed.update_query_dict(
        {"options": f"{options} -csynchronous_commit=off".strip()}).render_as_string(
            hide_password=False)


@pytest.fixture
def past_engine(store_url: str) -> Iterator[Engine]:
    """An engine whose clock stands a day ago, so ``after: 0 days`` is due for the daemons."""
    opened = Engine.from_url(fast_setup_url(store_url),
                             clock=lambda: datetime.now(UTC) - DAY_AGO)
    yield opened
    opened.close()


def done_count(summary: str) -> int:
    """``done N`` from a daemon's closing summary line."""
    parts = dict(item.strip().rsplit(" ", 1) for item in summary.strip().splitlines()[-1]
                 .split(","))
    return int(parts["done"])


# (a) three daemons, one PostgreSQL, 20,000 follow-ups -------------------------------------

PG_PROJECTS = 1_000
PG_PER_PROJECT = 20


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_three_daemons_on_postgresql_deliver_20000_follow_ups_exactly_once(
        past_engine: Engine, store_url: str, sink: Sink, tmp_path: Path,
        daemons: list[Daemon]) -> None:
    engine = past_engine
    key = engine.publish(sink_journey("fanout", PG_PER_PROJECT))[0]
    started = time.monotonic()
    for i in range(PG_PROJECTS):
        engine.create_project(f"{key}@1", f"P{i}")
    total = PG_PROJECTS * PG_PER_PROJECT
    assert statuses(engine) == {"pending": total}
    setup = time.monotonic() - started
    for n in range(3):
        config = write_config(tmp_path / f"d{n}.toml", sink, name=f"daemon-{n}")
        daemons.append(Daemon(store_url, config, tmp_path, f"daemon-{n}"))
    started = time.monotonic()
    wait_for(lambda: unfinished(engine) == 0, 480, "every follow-up to run", *daemons)
    elapsed = time.monotonic() - started
    codes = [daemon.stop(signal.SIGTERM) for daemon in daemons]
    assert codes == [0, 0, 0], [d.stderr[-2000:] for d in daemons]
    print(f"\n{total} follow-ups: setup {setup:.1f} s; three daemons ran them in "
          f"{elapsed:.1f} s ({total / elapsed:.0f}/s)")

    rows = all_rows(engine)
    assert len(rows) == total
    assert Counter(r.status for r in rows) == {"done": total}
    assert all(r.attempts == 1 and r.last_error is None for r in rows)
    keys = sink.keys("/sink")
    assert len(keys) == total
    duplicates = [k for k, n in Counter(keys).items() if n > 1]
    assert duplicates == []
    assert set(keys) == {r.idempotency_key for r in rows}
    # each ran once: one event per follow-up, and every project's history is gap-free
    runs = follow_up_events(engine)
    assert sorted(e.payload["follow_up"] for e in runs) == [r.id for r in rows]
    assert Counter(e.project_id for e in runs) == dict.fromkeys(
        range(1, PG_PROJECTS + 1), PG_PER_PROJECT)
    with engine.db.begin(write=False) as conn:
        gaps = conn.execute(sa.select(events.c.project_id).group_by(events.c.project_id)
                            .having(sa.func.max(events.c.seq) != sa.func.count())).all()
    assert gaps == []
    # the three shared the work, and their own tallies add up
    done = {d.label: done_count(d.stdout) for d in daemons}
    assert sum(done.values()) == total, done
    assert all(n > 0 for n in done.values()), done
    by_daemon = Counter(e.payload["daemon"] for e in runs)
    assert by_daemon == {f"daemon-{n}": done[f"daemon-{n}"] for n in range(3)}


# (b) SIGKILL at random moments, 20 times, on SQLite ----------------------------------------

KILL_PROJECTS = 1_000
KILL_WEBHOOKS = 5
KILLS = 20


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_daemon_killed_20_times_loses_nothing_and_doubles_no_effect(
        past_engine: Engine, store_url: str, sink: Sink, tmp_path: Path,
        daemons: list[Daemon]) -> None:
    engine = past_engine
    key = engine.publish(sink_journey("crashy", KILL_WEBHOOKS, flag=True))[0]
    for i in range(KILL_PROJECTS):
        engine.create_project(f"{key}@1", f"P{i}")
    webhooks = KILL_PROJECTS * KILL_WEBHOOKS
    total = KILL_PROJECTS * (KILL_WEBHOOKS + 1)
    # a peer that takes 2 ms to answer keeps the run going through all the kills, even on
    # a fast machine: at most 20 x 0.4 s of work happens between start and kill
    sink.answers["/sink"] = sleeping(0.002)
    config = write_config(tmp_path / "crash.toml", sink, poll=0.2, batch=20, lease=1)
    rng = random.Random(20)
    left_at_kill = []
    started = time.monotonic()
    for n in range(KILLS):
        daemon = Daemon(store_url, config, tmp_path, f"crash-{n}",
                        env={"BOMPAO_DAEMON_NAME": f"crash-{n}"})
        daemons.append(daemon)
        daemon.wait_started()
        time.sleep(rng.uniform(0.05, 0.4))
        daemon.kill()
        assert daemon.process.returncode == -signal.SIGKILL
        left_at_kill.append(unfinished(engine))
    print(f"\nfollow-ups left at each of the {KILLS} kills: {left_at_kill}")
    assert all(left > 0 for left in left_at_kill), "the run ended before the kills did"
    assert left_at_kill[-1] < total, "the killed daemons never got anything done"
    sink.answers.pop("/sink")  # the kills are over: let the last daemon go at full speed
    final = Daemon(store_url, config, tmp_path, "final",
                   env={"BOMPAO_DAEMON_NAME": "final"})
    daemons.append(final)
    wait_for(lambda: unfinished(engine) == 0, 300, "the restarted daemon to finish", final)
    assert final.stop(signal.SIGTERM) == 0, final.stderr[-2000:]
    elapsed = time.monotonic() - started

    rows = all_rows(engine)
    assert len(rows) == total
    assert Counter(r.status for r in rows) == {"done": total}, [
        (r.id, r.status, r.last_error) for r in rows if r.status != "done"][:5]
    # external: every delivery arrived, each under its one key (repeats allowed)
    expected = {r.idempotency_key for r in rows if r.action == "webhook"}
    keys = sink.keys("/sink")
    assert len(expected) == webhooks
    assert set(keys) == expected
    repeats = len(keys) - len(set(keys))
    print(f"{webhooks} deliveries, {repeats} repeated after kills; {elapsed:.1f} s in all")
    # internal: each follow-up recorded once, each flag set once, histories gap-free
    runs = follow_up_events(engine)
    assert sorted(e.payload["follow_up"] for e in runs) == [r.id for r in rows]
    for project in engine.list_projects():
        assert project.flags == ["seen"]
        history = engine.history(project.id)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        kinds = Counter(e.kind for e in history)
        assert kinds == {"created": 1, "flagged": 1, "follow_up": KILL_WEBHOOKS + 1}, project.id


# (c) SIGTERM and SIGINT finish the follow-up in hand ---------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_finishes_the_follow_up_in_hand_and_exits_0(
        past_engine: Engine, store_url: str, sink: Sink, tmp_path: Path,
        daemons: list[Daemon], signum: int) -> None:
    engine = past_engine
    key = engine.publish(sink_journey("stopping", 3, endpoint="slow"))[0]
    project = engine.create_project(key, "Slow")
    sink.answers["/slow"] = sleeping(1.5)
    config = write_config(tmp_path / "stop.toml", sink, name="stopper", endpoint="slow",
                          retries=0, batch=10)
    daemon = Daemon(store_url, config, tmp_path, "stopper")
    daemons.append(daemon)
    wait_for(lambda: len(sink.on("/slow")) == 1, 60, "the first delivery", daemon)
    assert daemon.stop(signum, timeout=30) == 0, daemon.stderr[-2000:]
    assert "Traceback" not in daemon.stderr
    assert "daemon stopper stopped" in daemon.stderr
    assert len(sink.on("/slow")) == 1
    rows = {r["spec"]: r for r in engine.list_follow_ups(project=project.id)}
    in_hand = rows.pop("w0")
    assert in_hand["status"] == "done"
    assert in_hand["idempotency_key"] == sink.on("/slow")[0].key
    # the rest of the round went back, unclaimed and with no attempt counted
    assert {spec: (r["status"], r["attempts"]) for spec, r in rows.items()} == {
        "w1": ("pending", 0), "w2": ("pending", 0)}
    [run] = [e for e in engine.history(project.id) if e.kind == "follow_up"]
    assert (run.payload["spec"], run.payload["outcome"]) == ("w0", "done")
    assert done_count(daemon.stdout) == 1


def test_a_daemon_started_before_anything_is_due_wakes_when_it_falls_due(
        store_url: str, sink: Sink, tmp_path: Path, daemons: list[Daemon]) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=6)
    engine = Engine.from_url(store_url, clock=lambda: soon)
    try:
        key = engine.publish(sink_journey("later", 1))[0]
        project = engine.create_project(key, "Later")
        config = write_config(tmp_path / "wake.toml", sink, name="waker", poll=30)
        daemon = Daemon(store_url, config, tmp_path, "waker")
        daemons.append(daemon)
        daemon.wait_started()
        assert datetime.now(UTC) < soon, "the daemon took too long to start for this test"
        assert sink.on("/sink") == []
        wait_for(lambda: len(sink.on("/sink")) == 1, 30, "the delivery", daemon)
        arrived = datetime.now(UTC)
        # poll_interval is 30 s: the daemon woke at the due time, not at the next poll
        assert soon <= arrived < soon + timedelta(seconds=10)
        wait_for(lambda: engine.list_follow_ups(project=project.id)[0]["status"] == "done",
                 30, "the run to be recorded", daemon)
        assert daemon.stop() == 0
    finally:
        engine.close()


# (d) downtime: the clock jumps a year ------------------------------------------------------

CATCH_UP = """\
journey: catch-up
version: 1
timezone: Asia/Bangkok
roles: [coach]
fields:
  demo_day: {type: date}
stages:
  a:
    initial: true
    follow_ups:
      - {id: weekly, every: 1 week, action: notify, to: [coach]}
      - {id: monthly, after: 3 days, every: 1 month, action: notify, to: [coach]}
      - {id: risk, after: 100 days, action: flag, flag: at_risk}
      - {id: demo, at: demo_day, action: notify, to: [coach]}
      - {id: far, after: 400 days, action: notify, to: [coach]}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""


def test_catching_up_after_a_year_of_downtime_runs_everything_once_oldest_first(
        engine: Engine, store_url: str, clock: MutableClock) -> None:
    key = engine.publish(CATCH_UP)[0]
    start = clock.now
    projects = []
    entered = {}
    for n in range(3):
        clock.now = start + timedelta(days=10 * n, hours=n)
        projects.append(engine.create_project(
            key, f"P{n}", fields={"demo_day": f"2027-0{6 + n}-15"}).id)
        entered[projects[-1]] = clock.now
    now = start + timedelta(days=365)
    result = bompao("--json", "--db", store_url, "scheduler", "run", "--once", "--now",
                    now.isoformat())
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["failed"], summary["refused"], summary["cancelled"], summary["lost"]) == (
        0, 0, 0, 0)
    done = 0
    for project in projects:
        rows = engine.list_follow_ups(project=project, limit=None)
        ran = [r for r in rows if r["status"] == "done"]
        done += len(ran)
        for spec in ("weekly", "monthly"):
            occurrences = sorted(r["occurrence"] for r in ran if r["spec"] == spec)
            assert occurrences == list(range(len(occurrences))), (project, spec)
            assert all(datetime.fromisoformat(r["due_at"]) <= now
                       for r in ran if r["spec"] == spec)
            [upcoming] = [r for r in rows if r["spec"] == spec and r["status"] == "pending"]
            assert upcoming["occurrence"] == len(occurrences)
            assert datetime.fromisoformat(upcoming["due_at"]) > now
        counts = Counter(r["spec"] for r in ran)
        assert counts["monthly"] == 12
        assert counts["weekly"] == (now - entered[project]) // timedelta(weeks=1)
        assert (counts["risk"], counts["demo"], counts["far"]) == (1, 1, 0)
        assert engine.get(project).flags == ["at_risk"]
        # oldest first: the project's runs are recorded in due order
        history = [e for e in engine.history(project) if e.kind == "follow_up"]
        assert len(history) == len(ran)
        dues = [datetime.fromisoformat(e.payload["due_at"]) for e in history]
        assert dues == sorted(dues), project
        assert len({e.payload["follow_up"] for e in history}) == len(history)
    assert summary["done"] == done == len(summary["runs"])
    # the same jump again finds nothing left to do
    again = bompao("--json", "--db", store_url, "scheduler", "run", "--once", "--now",
                   now.isoformat())
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["done"] == 0
