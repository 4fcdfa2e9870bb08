"""Local times on the command line: typed without an offset they mean the journey's
timezone (or the operator's ``timezone`` setting where no single journey applies);
human output shows them in that zone, to the minute, with the offset.

The journey below keeps Bangkok time (+07:00); its project is created at 03:00 UTC
(10:00 in Bangkok) and has a follow-up due one day later, 10:00 Bangkok, 03:00 UTC.
A ``--now`` of ``2026-01-06T09:30`` is before that in Bangkok but after it in UTC,
so the old reading (UTC) and the new one (local) give different answers.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bompao.cli import main
from bompao.engine import Engine
from bompao.engine.times import parse_time, show_time
from bompao.errors import InvalidValue

T0 = datetime(2026, 1, 5, 3, 0, 17, 123456, tzinfo=UTC)
NUDGE = """\
journey: nudge
version: 1
title: {en: Nudge}
timezone: Asia/Bangkok
stages:
  a:
    initial: true
    follow_ups:
      - {after: 1 day, action: flag, flag: nudged}
  done: {final: true}
transitions:
  - {trigger: finish, from: a, to: done}
"""


@pytest.fixture
def seeded(store_url: str) -> tuple[str, int]:
    engine = Engine.from_url(store_url, clock=lambda: T0)
    try:
        engine.publish(NUDGE)
        project_id = engine.create_project("nudge", "Nudged").id
    finally:
        engine.close()
    return store_url, project_id


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_show_and_history_print_the_journeys_local_time_to_the_minute(
        seeded: tuple[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    url, pid = seeded
    code, out, err = _run(capsys, "--db", url, "project", "show", str(pid))
    assert code == 0, err
    assert "  stage    a (since 2026-01-05 10:00 +07:00)" in out.splitlines()
    code, out, err = _run(capsys, "--db", url, "project", "history", str(pid))
    assert code == 0, err
    assert out.splitlines()[0].startswith("   1  2026-01-05 10:00 +07:00  created")
    code, out, err = _run(capsys, "--db", url, "followups", "list", "--project", str(pid))
    assert code == 0, err
    assert "2026-01-06 10:00 +07:00" in out
    assert not re.search(r"\d\d:\d\d:\d\d", out), "no seconds, no microseconds"
    code, out, _ = _run(capsys, "--db", url, "--json", "project", "show", str(pid))
    assert json.loads(out)["stage_entered_at"] == T0.isoformat(), "JSON keeps full ISO 8601"


def _due(capsys: pytest.CaptureFixture[str], url: str, *args: str,
         config: Path | None = None) -> list[Any]:
    before = ["--config", str(config)] if config else []
    code, out, err = _run(capsys, "--db", url, *before, "--json", "followups", "list", "--due",
                          *args)
    assert code == 0, err
    return list(json.loads(out))


def test_a_time_without_offset_means_the_journeys_timezone(
        seeded: tuple[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    url, pid = seeded
    project = ["--project", str(pid)]
    assert _due(capsys, url, "--now", "2026-01-06T09:30", *project) == []
    assert len(_due(capsys, url, "--now", "2026-01-06T10:30", *project)) == 1
    assert len(_due(capsys, url, "--now", "2026-01-06T09:30+00:00", *project)) == 1
    assert _due(capsys, url, "--now", "2026-01-06", *project) == [], "a date is its midnight"


def test_where_no_journey_applies_the_operators_timezone_setting(
        seeded: tuple[str, int], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url, _ = seeded
    assert _due(capsys, url, "--now", "2026-01-06T09:30") == [], "default Asia/Bangkok"
    config = tmp_path / "bompao.toml"
    config.write_text('timezone = "UTC"\n', encoding="utf-8")
    assert len(_due(capsys, url, "--now", "2026-01-06T09:30", config=config)) == 1
    code, out, err = _run(capsys, "--db", url, "--config", str(config), "--json",
                          "scheduler", "run", "--once", "--now", "2026-01-06T09:30")
    assert code == 0, err
    assert json.loads(out)["claimed"] == 1
    config.write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    code, _, err = _run(capsys, "--db", url, "--config", str(config), "followups", "list")
    expected = (f"error: {config}: unknown timezone 'Mars/Olympus'; use an IANA name such as "
                "'Asia/Bangkok' or 'UTC'\n")
    assert (code, err) == (2, expected)


def test_parse_and_show_time() -> None:
    assert parse_time("2026-01-06T09:30", "Asia/Bangkok") == datetime(2026, 1, 6, 2, 30,
                                                                       tzinfo=UTC)
    assert parse_time("2026-01-06", "Asia/Bangkok") == datetime(2026, 1, 5, 17, tzinfo=UTC)
    assert parse_time("2026-01-06T09:30-05:00", "Asia/Bangkok") == datetime(
        2026, 1, 6, 14, 30, tzinfo=UTC)
    with pytest.raises(InvalidValue, match=r"^bad time 'soon': expected ISO 8601"):
        parse_time("soon")
    assert show_time(datetime(2026, 1, 6, 2, 30, 59, 999, tzinfo=UTC), "Asia/Bangkok") == (
        "2026-01-06 09:30 +07:00")
    assert show_time("2026-01-06T09:30:12+07:00") == "2026-01-06 09:30 +07:00"
    assert show_time(datetime(2026, 7, 1, 12, tzinfo=UTC), "Europe/London") == (
        "2026-07-01 13:00 +01:00")
