"""PostgreSQL ``LISTEN/NOTIFY``: a commit that appends events wakes the SSE streams.

The server runs with its event-log poll set to a minute (``BOMPAO_STREAM_POLL_SECONDS``),
so an event that reaches an open stream within seconds got there by the notification,
not by the poll. The change is made by another process's engine (this test process),
as the CLI or the scheduler daemon would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from pg_schemas import postgres_schema
from web_harness import Server, new_project, sign_in_session

from bompao.engine import Engine
from bompao.storage.notify import CHANNEL, Listener, channel_of
from bompao.web.stream import POLL_ENV

POSTGRES_ENV = "BOMPAO_TEST_POSTGRES_URL"
SLOW_POLL = 60.0
NOTIFIED_WITHIN = 5.0
"""Seconds: far below the poll (60 s) and the heartbeat wake-up (15 s)."""
JOURNEY = """
journey: notify-check
version: 1
fields: {n: {type: int, default: 1}}
stages:
  a: {initial: true}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""


def _base() -> str:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: LISTEN/NOTIFY needs PostgreSQL")
    return base


@pytest.fixture(scope="module")
def web_url() -> Iterator[str]:
    """This module's server database: PostgreSQL only, the server's poll a minute."""
    base = _base()
    before = os.environ.get(POLL_ENV)
    os.environ[POLL_ENV] = str(SLOW_POLL)  # the server fixture passes os.environ on
    try:
        with postgres_schema(base) as url:
            yield url
    finally:
        if before is None:
            os.environ.pop(POLL_ENV, None)
        else:
            os.environ[POLL_ENV] = before


@pytest.fixture(scope="module")
def listeners(server: Server) -> Server:
    server.add_user("n-a", "Notified A", "coach@cmu")
    return server


@pytest.mark.parametrize("by_cli", [False, True], ids=["engine", "cli"])
def test_a_change_by_another_process_reaches_an_open_stream_at_once(
        listeners: Server, by_cli: bool) -> None:
    """Another process's engine, or the CLI (a process that exits at once: its notifier
    sends before it does)."""
    with listeners.as_user("n-a") as a:
        project = new_project(a, "Notified")
    received: list[tuple[float, dict[str, object]]] = []
    written: list[float] = []

    def write() -> None:
        time.sleep(0.5)  # the stream is waiting on its (minute-long) poll by now
        if by_cli:
            env = {k: v for k, v in os.environ.items() if k != "BOMPAO_PARTNER"}
            subprocess.run([sys.executable, "-m", "bompao.cli", "--db", listeners.url,
                            "project", "set", str(project["id"]), "interviews_done=7"],
                           check=True, capture_output=True, timeout=60, env=env)
            written.append(time.monotonic())  # its start-up is not the stream's doing
        else:
            written.append(time.monotonic())
            listeners.engine.set_fields(project["id"], {"interviews_done": 7})

    writer = threading.Thread(target=write)
    with httpx.Client(base_url=listeners.base, headers={
            "Authorization": f"Bearer {listeners.tokens['n-a']}"}) as client, client.stream(
            "GET", "/api/v1/events/stream",
            timeout=httpx.Timeout(30, read=SLOW_POLL / 2)) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("retry:"):
                writer.start()
            elif line.startswith("data:"):
                received.append((time.monotonic(), json.loads(line[5:])))
                break
    writer.join(60)
    assert written, "the change was not made"
    at, event = received[0]
    assert (event["project"], event["kind"]) == (project["id"], "fields_set")
    assert at - written[0] < NOTIFIED_WITHIN, (
        f"the event took {at - written[0]:.1f} s: the stream waited for its poll, "
        "not for the notification")


def test_a_change_reaches_an_open_page_stream_at_once(listeners: Server) -> None:
    """The pages' own stream (``/events/stream``, the board and project pages) waits on
    the notification too, not on its poll (here a minute; its heartbeat wake-up 15 s)."""
    with listeners.as_user("n-a") as a:
        project = new_project(a, "Page notified")
    session = sign_in_session(listeners, "n-a")
    received: list[tuple[float, str]] = []
    written: list[float] = []

    idle: list[str] = []

    def write() -> None:
        time.sleep(4)  # long enough to see whether the stream polls meanwhile
        written.append(time.monotonic())
        listeners.engine.set_fields(project["id"], {"interviews_done": 3})

    writer = threading.Thread(target=write)
    with httpx.Client(base_url=listeners.base) as client, client.stream(
            "GET", "/events/stream", headers={"Cookie": f"bompao_session={session.cookie}"},
            timeout=httpx.Timeout(30, read=SLOW_POLL / 2)) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("retry:"):
                writer.start()
            elif line == ": idle":
                idle.append(line)
            elif line == f"event: project-{project['id']}":
                received.append((time.monotonic(), line))
                break
    writer.join(60)
    assert written, "the change was not made"
    assert received, "no event reached the page's stream"
    assert received[0][0] - written[0] < NOTIFIED_WITHIN, (
        f"the event took {received[0][0] - written[0]:.1f} s: the page's stream waited "
        "for its poll, not for the notification")
    # it did not poll meanwhile (a read a second would have been 4 idle rounds): only
    # the listener's wake-up on connecting
    assert len(idle) <= 2, idle


def _append_then_roll_back(engine: Engine, project_id: int) -> None:
    """An event appended in a transaction that then fails (so it rolls back)."""
    with engine.hot.transaction() as cursor:
        engine.hot.append_event(cursor, {
            "project_id": project_id, "seq": 99, "kind": "note", "at": engine.now(),
            "actor": None, "role": None, "from_stage": None, "to_stage": None,
            "trigger": None, "payload": {}})
        raise RuntimeError


def test_the_listener_is_woken_by_a_commit_that_appends_events_only() -> None:
    with postgres_schema(_base()) as url:
        engine = Engine.from_url(url)
        writer = Engine.from_url(url)
        woken = threading.Event()
        listener = Listener(engine.db, woken.set)
        try:
            engine.init()
            engine.publish(JOURNEY)
            project = writer.create_project("notify-check", "p")
            listener.start()
            assert listener.listening.wait(10)
            assert woken.wait(5)  # the wake-up after connecting
            for _ in range(10):  # and the notification of create_project's commit
                woken.clear()
                if not woken.wait(1.0):
                    break
            writer.get(project.id)  # a read appends nothing: nothing to notify
            with writer.db.begin() as conn:  # a write outside the event log neither
                conn.exec_driver_sql("SELECT 1")
            with pytest.raises(RuntimeError):
                _append_then_roll_back(writer, project.id)
            assert not woken.wait(1.5)
            writer.advance(project.id, "go")
            assert woken.wait(NOTIFIED_WITHIN)
            assert CHANNEL == "bompao_events"
        finally:
            listener.stop()
            writer.close()
            engine.close()


def _quiet(woken: threading.Event) -> None:
    """Wait until ``woken`` stops being set (the wake-ups of connecting and of setup)."""
    for _ in range(10):
        woken.clear()
        if not woken.wait(1.0):
            return
    raise AssertionError("the listener never went quiet")


def test_two_installs_in_two_schemas_of_one_database_do_not_wake_each_other() -> None:
    base = _base()
    with postgres_schema(base) as url_a, postgres_schema(base) as url_b:
        first, second = Engine.from_url(url_a), Engine.from_url(url_b)
        woken = {"first": threading.Event(), "second": threading.Event()}
        listeners = {"first": Listener(first.db, woken["first"].set),
                     "second": Listener(second.db, woken["second"].set)}
        try:
            projects = {}
            for name, engine in (("first", first), ("second", second)):
                engine.init()
                engine.publish(JOURNEY)
                projects[name] = engine.create_project("notify-check", name).id
                listeners[name].start()
                assert listeners[name].listening.wait(10)
            assert listeners["first"].channel != listeners["second"].channel
            for event in woken.values():
                _quiet(event)
            second.advance(projects["second"], "go")
            assert woken["second"].wait(NOTIFIED_WITHIN)
            assert not woken["first"].wait(1.5)
            woken["second"].clear()
            first.advance(projects["first"], "go")
            assert woken["first"].wait(NOTIFIED_WITHIN)
            assert not woken["second"].wait(1.5)
        finally:
            for listener in listeners.values():
                listener.stop()
            first.close()
            second.close()


def test_a_schemas_channel_is_its_own_and_fits_postgresqls_identifiers() -> None:
    assert channel_of("public") == channel_of(None) == CHANNEL
    assert channel_of("t_one") == "bompao_events.t_one" != channel_of("t_two")
    long_a, long_b = "s" * 63, "s" * 62 + "t"
    assert len(channel_of(long_a).encode()) <= 63
    assert channel_of(long_a) != channel_of(long_b)
    assert len(channel_of("ชื่อ" * 10).encode()) <= 63
