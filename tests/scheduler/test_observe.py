"""The observable daemon: heartbeats, ``bompao scheduler status`` and Prometheus metrics."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from scheduler.peers import T0, MutableClock, bompao, free_port

from bompao.engine import Engine
from bompao.engine.observe import Heartbeat, status

NOOP = """
journey: ticks
version: 1
stages:
  a:
    initial: true
    follow_ups:
      - {after: 0 days, action: flag, flag: seen}
      - {after: 1 day, action: webhook, endpoint: nowhere}
  b: {final: true}
transitions: [{trigger: go, from: a, to: b}]
"""


def _wait_for(check: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_status_reports_daemons_lag_and_failures(engine: Engine, clock: MutableClock) -> None:
    engine.publish(NOOP)
    project = engine.create_project("ticks", "P")
    clock.now = T0 + timedelta(days=2)
    before = status(engine)
    assert before["due"] == 2
    assert before["lag_seconds"] == 2 * 24 * 3600.0
    assert before["daemons"] == []
    heartbeat = Heartbeat(engine, "d1", T0)
    heartbeat.claim()
    clock.now += timedelta(seconds=30)
    found = status(engine, alive_within=60)
    assert [(d["name"], d["alive"]) for d in found["daemons"]] == [("d1", True)]
    clock.now += timedelta(seconds=120)
    assert [d["alive"] for d in status(engine, alive_within=60)["daemons"]] == [False]
    from bompao.engine.dispatch import Dispatcher  # noqa: PLC0415

    Dispatcher(engine).run_due(clock.now)
    after = status(engine)
    assert after["due"] == 0
    assert after["failed"] == 1
    assert after["failed_recent"][0]["project"] == project.id
    assert "unknown webhook endpoint 'nowhere'" in after["failed_recent"][0]["error"]
    heartbeat.drop()
    assert status(engine)["daemons"] == []


def test_a_running_daemon_beats_serves_metrics_and_leaves_cleanly(
        store_url: str, tmp_path: Path) -> None:
    engine = Engine.from_url(store_url)
    engine.publish(NOOP)
    for index in range(5):
        engine.create_project("ticks", f"P{index}")
    port = free_port()
    config = tmp_path / "daemon.toml"
    config.write_text('[scheduler]\nname = "watched"\npoll_interval = 0.3\n', encoding="utf-8")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bompao.cli", "--db", store_url, "--config", str(config),
         "scheduler", "run", "--metrics-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def flagged() -> bool:
            return all("seen" in p.flags for p in engine.list_projects(journey="ticks"))

        _wait_for(flagged)
        _wait_for(lambda: bool(status(engine)["daemons"]))
        shown = bompao("--db", store_url, "--json", "--config", str(config), "scheduler",
                       "status")
        assert shown.returncode == 0, shown.stderr
        data = json.loads(shown.stdout)
        assert [(d["name"], d["alive"]) for d in data["daemons"]] == [("watched", True)]
        assert data["due"] == 0

        def metrics() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()

        _wait_for(lambda: 'outcome="done"' in metrics())
        text = metrics()
        assert ('bompao_followup_runs_total{action="flag",daemon="watched",outcome="done"} 5.0'
                in text)
        assert 'bompao_followup_lag_seconds{daemon="watched"}' in text
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert status(engine)["daemons"] == []
    engine.close()


def test_metrics_on_a_taken_port_is_one_error_line(store_url: str, tmp_path: Path) -> None:
    import socket  # noqa: PLC0415

    Engine.from_url(store_url).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = bompao("--db", store_url, "scheduler", "run", "--metrics-port", str(port),
                        timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: cannot serve metrics on port {port}: Address already in use"]
    assert "Traceback" not in result.stderr
