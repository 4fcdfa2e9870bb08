"""Two ``bompao project advance`` processes racing on one project: exactly one 0 and one 1.

Whichever side of the winner's commit the loser reads, its answer is a refusal: before
the commit it loses the optimistic lock (``ConflictError``), after it the stage no longer
offers the trigger (``TriggerNotOffered``). Both are exit 1 with one ``error:`` line;
neither is exit 2 (bad input). Real processes, on a SQLite file (where the loser waits on
the write lock and reads after the commit) and on PostgreSQL (where it usually reads
before it), many times over.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bompao.engine import Engine

WORKER = Path(__file__).with_name("_cli_worker.py")
ROUNDS = 40
TOGGLE = """\
journey: racing
version: 1
stages:
  a: {initial: true}
  b: {}
  done: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
  - {trigger: finish, from: b, to: done}
"""


def _worker() -> subprocess.Popen[str]:
    worker = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def _race(workers: list[subprocess.Popen[str]], args: list[str]) -> list[tuple[int, str]]:
    line = json.dumps(args) + "\n"
    for worker in workers:  # both get the command within microseconds
        assert worker.stdin is not None
        worker.stdin.write(line)
        worker.stdin.flush()
    results = []
    for worker in workers:
        assert worker.stdout is not None
        answer = json.loads(worker.stdout.readline())
        results.append((answer["code"], answer["stderr"]))
    return results


@pytest.mark.slow
def test_two_concurrent_advances_give_one_success_and_one_refusal(store_url: str) -> None:
    engine = Engine.from_url(store_url)
    engine.publish(TOGGLE)
    seen: Counter[str] = Counter()
    workers = [_worker(), _worker()]
    try:
        for round_ in range(ROUNDS):
            project = engine.create_project("racing", f"P{round_}")
            results = _race(workers, ["--db", store_url, "project", "advance",
                                      str(project.id), "go"])
            codes = sorted(code for code, _ in results)
            assert codes == [0, 1], results
            loser = next(err for code, err in results if code == 1)
            lines = loser.strip().splitlines()
            assert len(lines) == 1, loser
            assert lines[0].startswith("error: "), loser
            assert "Traceback" not in loser
            if "not available in stage 'b'; available: finish" in loser:
                seen["read after the commit"] += 1
            else:
                assert "changed by someone else meanwhile" in loser or "retry" in loser, loser
                seen["read before the commit"] += 1
            stored = engine.get(project.id)
            assert stored.stage == "b"
            assert [e.kind for e in engine.history(project.id)] == ["created", "advanced"]
    finally:
        engine.close()
        for worker in workers:
            worker.communicate(timeout=30)
    assert sum(seen.values()) == ROUNDS, seen


def test_a_trigger_the_stage_does_not_offer_is_a_refusal_an_unknown_one_bad_input(
        store_url: str, tmp_path: Path) -> None:
    """The loser's view, without the race: the same command after the winner's commit."""
    engine = Engine.from_url(store_url)
    engine.publish(TOGGLE)
    project = engine.create_project("racing", "P")
    engine.close()
    base = [sys.executable, "-m", "bompao.cli", "--db", store_url, "project"]
    won = subprocess.run([*base, "advance", str(project.id), "go"], capture_output=True,
                         text=True, check=False)
    assert won.returncode == 0, won.stderr
    lost = subprocess.run([*base, "advance", str(project.id), "go"], capture_output=True,
                          text=True, check=False)
    assert (lost.returncode, lost.stderr) == (
        1, "error: trigger 'go' is not available in stage 'b'; available: finish\n")
    unknown = subprocess.run([*base, "advance", str(project.id), "fly"], capture_output=True,
                             text=True, check=False)
    assert (unknown.returncode, unknown.stderr) == (
        2, ("error: unknown trigger 'fly' in journey racing@1; from stage 'b' the triggers "
            "are: finish\n"))
