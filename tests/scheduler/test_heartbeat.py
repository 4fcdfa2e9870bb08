"""The daemon is visible and unique: real ``bompao scheduler run`` processes.

- the heartbeat is written when the daemon starts, before its first round ends, and
  keeps moving during a long round;
- a second daemon under a live daemon's name exits 2 with one ``error:`` line and
  leaves the live one's heartbeat alone;
- ``scheduler forget NAME`` clears a dead daemon's heartbeat, refuses a live one's and
  names the known daemons for an unknown name.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scheduler.daemons import Daemon, sink_journey, wait_for, write_config
from scheduler.peers import Sink, bompao, sleeping

from bompao.engine import Engine


@pytest.fixture
def started() -> Any:
    running: list[Daemon] = []
    yield running
    for daemon in running:
        daemon.kill()


def shown(url: str, config: Path) -> dict[str, Any]:
    result = bompao("--db", url, "--config", str(config), "--json", "scheduler", "status")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_a_daemon_beats_from_its_start_and_through_a_long_round(
        store_url: str, sink: Sink, tmp_path: Path, started: list[Daemon]) -> None:
    engine = Engine.from_url(store_url, clock=lambda: datetime.now(UTC) - timedelta(days=1))
    key = engine.publish(sink_journey("long-round", 40))[0]
    engine.create_project(key, "P")
    sink.answers["/sink"] = sleeping(1.0)  # one round of 40 takes 40 s
    config = write_config(tmp_path / "beat.toml", sink, name="beater", batch=50,
                          extra="heartbeat = 0.5")
    daemon = Daemon(store_url, config, tmp_path, "beater")
    started.append(daemon)
    wait_for(lambda: len(sink.on("/sink")) >= 1, 60, "the first delivery", daemon)
    first = shown(store_url, config)["daemons"]
    assert [(d["name"], d["alive"], d["pid"]) for d in first] == [
        ("beater", True, daemon.process.pid)]
    wait_for(lambda: len(sink.on("/sink")) >= 4, 60, "more deliveries", daemon)
    later = shown(store_url, config)["daemons"]
    assert later[0]["heartbeat_at"] > first[0]["heartbeat_at"]  # beating mid-round
    assert len(sink.on("/sink")) < 40, "the round ended before the test looked"
    daemon.kill()
    engine.close()


def test_a_live_daemons_name_is_refused_and_its_heartbeat_kept(
        store_url: str, sink: Sink, tmp_path: Path, started: list[Daemon]) -> None:
    Engine.from_url(store_url).close()
    config = write_config(tmp_path / "d2.toml", sink)
    live = Daemon(store_url, config, tmp_path, "d2", args=("--name", "d2"))
    started.append(live)
    live.wait_started()
    before = shown(store_url, config)["daemons"]
    assert [(d["name"], d["pid"]) for d in before] == [("d2", live.process.pid)]
    second = bompao("--db", store_url, "--config", str(config), "scheduler", "run",
                    "--name", "d2", timeout=60)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("error: daemon name 'd2' is held by a live daemon "
                               f"(pid {live.process.pid} on ")
    def owner(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(d["name"], d["pid"], d["host"], d["started_at"], d["alive"]) for d in rows]

    assert owner(shown(store_url, config)["daemons"]) == owner(before)  # kept, not taken
    assert live.alive()
    # once d2 is dead, its name is free again; forget clears its row meanwhile
    refused = bompao("--db", store_url, "--config", str(config), "scheduler", "forget", "d2")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: daemon 'd2' is alive (pid ")
    live.kill()
    listed = shown(store_url, config)["daemons"]
    assert [(d["name"], d["alive"]) for d in listed] == [("d2", False)]
    forgot = bompao("--db", store_url, "--config", str(config), "scheduler", "forget", "d2")
    assert (forgot.returncode, forgot.stdout) == (0, "forgot daemon d2\n"), forgot.stderr
    assert shown(store_url, config)["daemons"] == []
    unknown = bompao("--db", store_url, "--config", str(config), "scheduler", "forget", "d9")
    assert unknown.returncode == 2
    assert unknown.stderr == "error: no daemon named 'd9' has a heartbeat; daemons: none\n"
