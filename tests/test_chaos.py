"""The chaos run in its short form: real worker and daemon processes on PostgreSQL.

``bench/chaos.py`` runs for 15 s with two worker processes changing projects and
three ``bompao scheduler run`` daemons killed with SIGKILL at random and restarted,
delivering to a real local webhook server; then a catch-up run and a whole-database
audit. Here it runs as a subprocess, as an operator would run it, and must exit 0
having killed daemons, run follow-ups and audited projects with no violation; a worker
operation that deadlocks (a raw driver error instead of a ConflictError) fails it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

POSTGRES_ENV = "BOMPAO_TEST_POSTGRES_URL"
CHAOS = Path(__file__).resolve().parents[1] / "bench" / "chaos.py"


def number(pattern: str, text: str) -> int:
    """The integer the first group of ``pattern`` captures in ``text``."""
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"no {pattern!r} in the chaos output:\n{text}"
    return int(found.group(1))


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")
def test_a_short_chaos_run_kills_daemons_and_audits_clean() -> None:
    result = subprocess.run(
        # 15 s, 2 workers, 40 projects; an audit half-way while everything runs, and at the end
        [sys.executable, str(CHAOS), "--quick", "--seed", "7", "--live-audit"],
        capture_output=True, text=True, timeout=180, check=False,
        cwd=CHAOS.parents[1], env={**os.environ})
    out = result.stdout
    print(out)
    assert result.returncode == 0, f"{out}\n{result.stderr[-3000:]}"
    assert "RESULT: OK, 0 violations" in out
    assert number(r"^daemons: (\d+) killed \(SIGKILL\)", out) >= 1
    assert number(r"^follow-ups run: (\d+)", out) > 0
    assert number(r"^workers: \d+ processes, (\d+) operations", out) > 0
    assert number(r"^webhooks received: (\d+)", out) > 0
    assert number(r"^audit: (\d+) projects", out) > 0
    assert number(r"^audit: .*; (\d+) violations", out) == 0
    assert "[ok] audit half-way, while everything ran" in out
    assert "[ok] no worker operation deadlocked" in out, "a deadlock fails the run"
    assert number(r"deadlocks (\d+), errors", out) == 0
    assert "[FAILED]" not in out
