"""Daemon processes for the scheduler tests: ``bompao scheduler run`` with its output in
files, a configuration delivering to the HTTP sink, a journey of webhooks due at once.

Imported as ``scheduler.daemons`` (``tests`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from scheduler.peers import Sink

__all__ = ["Daemon", "sink_journey", "wait_for", "write_config"]


def sink_journey(key: str, webhooks: int, *, flag: bool = False, endpoint: str = "sink") -> str:
    """A journey whose initial stage has ``webhooks`` webhook follow-ups due at once."""
    items = "".join(f"      - {{id: w{i}, after: 0 days, action: webhook, endpoint: {endpoint}}}\n"
                    for i in range(webhooks))
    if flag:
        items += "      - {id: mark, after: 0 days, action: flag, flag: seen}\n"
    return (f"journey: {key}\nversion: 1\nroles: [coach]\nstages:\n  a:\n    initial: true\n"
            f"    follow_ups:\n{items}  b: {{final: true}}\n"
            "transitions:\n  - {trigger: go, from: a, to: b}\n")


def write_config(path: Path, sink: Sink, *, name: str | None = None, poll: float = 0.2,
                 batch: int = 50, lease: float = 120, endpoint: str = "sink",
                 timeout: float = 10, retries: int = 3, extra: str = "") -> Path:
    """An operator configuration for a test daemon, delivering to the sink (``extra``:
    more lines of ``[scheduler]``)."""
    scheduler = f'name = "{name}"\n' if name else ""
    path.write_text(textwrap.dedent(f"""\
        [scheduler]
        {scheduler}poll_interval = {poll}
        batch = {batch}
        lease = {lease}
        {extra}

        [webhooks.{endpoint}]
        url = "{sink.url('/' + endpoint)}"
        timeout = {timeout}
        retries = {retries}
        backoff = 0.05
        """), encoding="utf-8")
    return path


class Daemon:
    """A ``bompao scheduler run`` process with its output in files."""

    def __init__(self, url: str, config: Path, log_dir: Path, label: str,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.err_path = log_dir / f"{label}.err"
        self.out_path = log_dir / f"{label}.out"
        self.label = label
        with self.err_path.open("wb") as err, self.out_path.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bompao.cli", "--db", url, "--config", str(config),
                 "scheduler", "run", *args], stdout=out, stderr=err,
                env={**os.environ, **(env or {})})

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def wait_started(self, timeout: float = 60) -> None:
        """Wait for the ``daemon ... started`` log line."""
        wait_for(lambda: " started (poll every " in self.stderr, timeout,
                 f"{self.label} to start", self)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``signum`` and wait for the exit code."""
        if self.alive():
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"{self.label} did not exit after {signum!r}:\n"
                                 f"{self.stderr[-3000:]}") from None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             *daemons: Daemon) -> None:
    """Poll ``condition`` until it holds; fail early if a daemon died."""
    deadline = time.monotonic() + timeout
    while not condition():
        for daemon in daemons:
            if not daemon.alive():
                raise AssertionError(f"{daemon.label} exited with {daemon.process.returncode} "
                                     f"while waiting for {what}:\n{daemon.stderr[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
