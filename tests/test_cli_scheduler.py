"""The scheduler's command line: ``scheduler run --once --now`` and ``followups list``.

Most commands run in this process through :func:`bompao.cli.main` (exit code from
``SystemExit``, output from ``capsys``); the configuration errors also run as real
processes, to show a user sees one ``error:`` line and no traceback. Every test runs
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scheduler.peers import T0, Cli, MutableClock

from bompao.engine import Engine

JOURNEY = """\
journey: cli-rhythm
version: 1
timezone: Asia/Bangkok
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
      - {id: hello, after: 1 day, action: notify, to: [coach]}
      - {id: risky, after: 3 days, action: flag, flag: at_risk}
      - {id: weekly, every: 1 week, action: notify, to: [coach]}
      - {id: later, after: 60 days, action: notify, to: [coach]}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""

STATUSES = "pending, running, done, failed, cancelled"


@pytest.fixture
def engine(store_url: str, clock: MutableClock) -> Iterator[Engine]:
    opened = Engine.from_url(store_url, clock=clock)
    opened.publish(JOURNEY)
    yield opened
    opened.close()


def process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``bompao ARGS`` as a real process."""
    return subprocess.run([sys.executable, "-m", "bompao.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False, cwd=cwd)


def one_error_line(err: str, *needles: str) -> str:
    """Assert ``err`` is exactly one ``error:`` line (no traceback) containing ``needles``."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_run_once_at_a_time_prints_a_summary(
        engine: Engine, store_url: str, cli: Cli) -> None:
    project = engine.create_project("cli-rhythm", "Clinic")
    at = (T0 + timedelta(days=4)).isoformat()
    code, out, err = cli("--db", store_url, "scheduler", "run", "--once", "--now", at)
    assert code == 0, err
    assert out.strip() == "claimed 2, done 2, failed 0, refused 0, cancelled 0, lost 0"
    assert engine.get(project.id).flags == ["at_risk"]
    # nothing left at that time
    code, out, _ = cli("--db", store_url, "scheduler", "run", "--once", "--now", at)
    assert (code, out.strip()) == (0, ("claimed 0, done 0, failed 0, refused 0, cancelled 0, "
                                      "lost 0"))


def test_run_once_json_lists_each_run(
        engine: Engine, store_url: str, cli: Cli) -> None:
    project = engine.create_project("cli-rhythm", "Clinic")
    at = (T0 + timedelta(days=8)).isoformat()
    code, out, err = cli("--json", "--db", store_url, "scheduler", "run", "--once",
                         "--now", at)
    assert code == 0, err
    summary = json.loads(out)
    assert {k: summary[k] for k in ("done", "failed", "refused", "cancelled", "lost")} == {
        "done": 3, "failed": 0, "refused": 0, "cancelled": 0, "lost": 0}
    assert summary["claimed"] >= 3
    runs = summary["runs"]
    assert [(r["spec"], r["occurrence"], r["action"], r["outcome"]) for r in runs] == [
        ("hello", 0, "notify", "done"), ("risky", 0, "flag", "done"),
        ("weekly", 0, "notify", "done")]
    for line in runs:
        assert line["project"] == project.id
        assert isinstance(line["follow_up"], int)
        assert isinstance(line["duration_ms"], int | float)


def test_a_now_without_an_offset_is_in_the_operators_timezone(
        engine: Engine, store_url: str, cli: Cli) -> None:
    """No single journey applies to ``scheduler run``: the operator's ``timezone``
    setting (default Asia/Bangkok) reads a time typed without an offset."""
    engine.create_project("cli-rhythm", "Clinic")
    due = T0 + timedelta(days=1)  # hello is due at 03:00 UTC, 10:00 in Bangkok
    bangkok = ZoneInfo("Asia/Bangkok")
    before = (due - timedelta(minutes=1)).astimezone(bangkok).replace(tzinfo=None).isoformat()
    code, out, _ = cli("--json", "--db", store_url, "scheduler", "run", "--once",
                       "--now", due.replace(tzinfo=None).isoformat())  # 03:00 in Bangkok
    assert (code, json.loads(out)["done"]) == (0, 0)
    code, out, _ = cli("--json", "--db", store_url, "scheduler", "run", "--once",
                       "--now", before)
    assert (code, json.loads(out)["done"]) == (0, 0)
    code, out, _ = cli("--json", "--db", store_url, "scheduler", "run", "--once",
                       "--now", due.astimezone(bangkok).replace(tzinfo=None).isoformat())
    assert (code, json.loads(out)["done"]) == (0, 1)


def test_followups_list_due_json_gives_the_documented_objects(
        engine: Engine, store_url: str, clock: MutableClock,
        cli: Cli) -> None:
    first = engine.create_project("cli-rhythm", "First")
    clock.tick(hours=5)
    second = engine.create_project("cli-rhythm", "Second")
    at = (T0 + timedelta(days=3, hours=1)).isoformat()
    code, out, err = cli("--json", "--db", store_url, "followups", "list", "--due",
                         "--now", at)
    assert code == 0, err
    listed = json.loads(out)
    assert [(r["project"], r["stage"], r["spec"], r["action"], r["status"])
            for r in listed] == [
        (first.id, "a", "hello", "notify", "pending"),
        (second.id, "a", "hello", "notify", "pending"),
        (first.id, "a", "risky", "flag", "pending")]
    for row in listed:
        assert {"id", "project", "stage", "action", "due_at", "status"} <= set(row)
        assert isinstance(row["id"], int)
        due = datetime.fromisoformat(row["due_at"])
        assert due.utcoffset() == timedelta(hours=7), row["due_at"]  # the journey's zone
    assert listed[0]["due_at"] == "2027-01-05T10:00:00+07:00"
    assert listed[1]["due_at"] == "2027-01-05T15:00:00+07:00"
    ids = {r["id"] for r in engine.list_follow_ups(limit=None)}
    assert {r["id"] for r in listed} <= ids
    # --project narrows it; without --due every status is listed
    code, out, _ = cli("--json", "--db", store_url, "followups", "list", "--project",
                       str(second.id))
    assert code == 0
    assert {r["spec"] for r in json.loads(out)} == {"hello", "risky", "weekly", "later"}
    assert {r["project"] for r in json.loads(out)} == {second.id}


def test_followups_list_status_and_table(
        engine: Engine, store_url: str, clock: MutableClock,
        cli: Cli) -> None:
    project = engine.create_project("cli-rhythm", "Clinic")
    clock.tick(days=2)
    engine.advance(project.id, "go")
    code, out, _ = cli("--json", "--db", store_url, "followups", "list", "--status",
                       "cancelled")
    assert code == 0
    assert sorted(r["spec"] for r in json.loads(out)) == ["hello", "later", "risky", "weekly"]
    assert all(r["status"] == "cancelled" for r in json.loads(out))
    code, out, _ = cli("--db", store_url, "followups", "list")
    assert code == 0
    assert "hello#0" in out
    assert "cancelled" in out


@pytest.mark.parametrize("args", [
    ["scheduler", "run", "--once", "--now", "notatime"],
    ["followups", "list", "--due", "--now", "notatime"],
], ids=["scheduler", "followups"])
def test_a_bad_time_is_bad_input(
        engine: Engine, store_url: str, cli: Cli,
        args: list[str]) -> None:
    engine.create_project("cli-rhythm", "Clinic")
    code, out, err = cli("--db", store_url, *args)
    assert (code, out) == (2, "")
    one_error_line(err, "'notatime'", "ISO 8601")
    assert engine.list_follow_ups(status="done") == []


def test_now_without_once_is_bad_usage(
        engine: Engine, store_url: str, cli: Cli) -> None:
    engine.create_project("cli-rhythm", "Clinic")
    code, out, err = cli("--db", store_url, "scheduler", "run", "--now",
                         "2027-06-01T00:00:00+07:00")
    assert (code, out) == (2, "")
    assert one_error_line(err) == "error: --now needs --once"
    assert engine.list_follow_ups(status="done") == []


def test_an_unknown_status_is_bad_input(
        engine: Engine, store_url: str, cli: Cli) -> None:
    code, out, err = cli("--db", store_url, "followups", "list", "--status", "finished")
    assert (code, out) == (2, "")
    assert one_error_line(err) == f"error: unknown status 'finished'; statuses: {STATUSES}"


@pytest.mark.parametrize(("text", "needles"), [
    ('[scheduler]\nname = "d1"\nspeed = 3\n', [
        "unknown key 'speed' in [scheduler]",
        "batch, heartbeat, lease, name, poll_interval, record_within"]),
    ('colour = "blue"\n', ["unknown key 'colour'"]),
    ("[scheduler\nname = 1\n", ["not valid TOML"]),
    ('[scheduler]\npoll_interval = "soon"\n', ["poll_interval must be a number"]),
    ('[webhooks.chat]\nurl = "ftp://example.org/x"\n', ["[webhooks.chat] needs a url"]),
    ('[notify]\nchannels = ["pager"]\n', ["unknown notify channel 'pager'"]),
], ids=["unknown-key", "unknown-table", "bad-toml", "bad-number", "bad-url", "bad-channel"])
def test_a_bad_configuration_file_is_one_error_line(
        engine: Engine, store_url: str, tmp_path: Path, text: str, needles: list[str]) -> None:
    engine.create_project("cli-rhythm", "Clinic")
    (tmp_path / "bompao.toml").write_text(text, encoding="utf-8")
    result = process("--db", store_url, "--config", "bompao.toml", "scheduler", "run", "--once",
                     cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    one_error_line(result.stderr, "bompao.toml: ", *needles)
    assert engine.list_follow_ups(status="done") == []


def test_a_configuration_error_in_a_file_named_by_absolute_path_starts_with_error(
        engine: Engine, store_url: str, tmp_path: Path) -> None:
    # operators name files like /etc/bompao/bompao.toml; the message starts with that path
    config = tmp_path / "bompao.toml"
    config.write_text('[scheduler]\nspeed = 3\n', encoding="utf-8")
    result = process("--db", store_url, "--config", str(config), "scheduler", "run", "--once")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"error: {config}: unknown key 'speed' in [scheduler]; allowed: "
                             "batch, heartbeat, lease, name, poll_interval, record_within\n")


def test_a_missing_configuration_file_is_one_error_line(
        store_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = process("--db", store_url, "--config", str(missing), "scheduler", "run", "--once")
    assert (result.returncode, result.stdout) == (2, "")
    one_error_line(result.stderr, "no such configuration file", str(missing))


def test_run_once_reads_its_configuration_and_logs_each_run(
        engine: Engine, store_url: str, tmp_path: Path) -> None:
    engine.create_project("cli-rhythm", "Clinic")
    config = tmp_path / "bompao.toml"
    config.write_text('[scheduler]\nname = "cron-job"\n', encoding="utf-8")
    result = process("--json", "--db", store_url, "--config", str(config), "scheduler", "run",
                     "--once", "--now", (T0 + timedelta(days=2)).isoformat())
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [r["daemon"] for r in summary["runs"]] == ["cron-job"]
    logged = [json.loads(line.split(" bompao.scheduler ", 1)[1])
              for line in result.stderr.splitlines() if " bompao.scheduler {" in line]
    assert [(r["spec"], r["outcome"], r["daemon"]) for r in logged] == [
        ("hello", "done", "cron-job")]
    assert {"follow_up", "project", "action", "outcome", "duration_ms"} <= set(logged[0])
