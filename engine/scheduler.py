"""The scheduler daemon: APScheduler wakes it, the database decides what runs.

APScheduler 3.11 (in-memory job store) does the timing only: a poll job every
``poll_interval`` seconds and a one-shot job at the earliest due time, re-set after
every round. What is due, who runs it and whether it ran live in the ``follow_ups``
table (see :mod:`bompao.engine.dispatch`), so any number of daemons can run against
one PostgreSQL, and a restarted daemon catches up on everything missed, oldest first.
SIGTERM and SIGINT let the follow-up in hand finish, release the rest of the round
and exit 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher, RoundResult
from bompao.engine.observe import Heartbeat, status

__all__ = ["Daemon"]

log = logging.getLogger("bompao.scheduler")


class Daemon:
    """Runs due follow-ups until stopped.

    Args:
        engine: the engine (its clock decides "now").
        config: poll interval, lease, batch size, daemon name.
    """

    def __init__(self, engine: Any, config: Config, metrics: Any = None, *,
                 alive_within: float = 90.0) -> None:
        self.engine = engine
        self.config = config
        self.metrics = metrics
        self.started = engine.now()
        self.dispatcher = Dispatcher(engine, config)
        self.stopping = threading.Event()
        self.total = RoundResult()
        self._busy = threading.Lock()
        self._scheduler: Any = None
        self.heartbeat = Heartbeat(engine, config.daemon_name, self.started,
                                   alive_within=alive_within)

    def stop(self, *_: Any) -> None:
        """Ask the daemon to finish the follow-up in hand and exit."""
        self.stopping.set()

    def tick(self) -> None:
        """One wake-up: run what is due, then set the wake-up for the next due time."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            result = self.dispatcher.run_due(stop=self.stopping.is_set)
            self.total.add(result)
            if result.claimed:
                log.info("round: %s", result.as_dict())
            self.heartbeat.beat()
            if self.metrics is not None:
                self.metrics.record(result.outcomes, status(self.engine)["lag_seconds"],
                                    self.engine.now())
            self.total.outcomes.clear()  # a long-running daemon keeps counts, not every run
            self._schedule_next()
        except Exception:
            log.exception("round failed; retrying at the next poll")
        finally:
            self._busy.release()

    def _schedule_next(self) -> None:
        if self._scheduler is None or self.stopping.is_set():
            return
        with self.engine.hot.transaction() as cursor:
            due = self.engine.hot.next_due(cursor)
        if due is None:
            return
        when = max(due, datetime.now(UTC))
        self._scheduler.add_job(self.tick, "date", run_date=when, id="wake",
                                replace_existing=True, misfire_grace_time=None)

    def _keep(self) -> None:
        """The keeper thread: every ``heartbeat`` seconds, beat and renew the leases in
        hand, so neither a long round nor one hanging delivery looks dead."""
        while not self.stopping.wait(self.config.heartbeat):
            try:
                self.heartbeat.beat()
                if self._busy.locked():
                    self.dispatcher.renew()
            except Exception:
                log.exception("heartbeat failed; trying again")

    def run(self) -> RoundResult:
        """Serve until SIGTERM/SIGINT (or :meth:`stop`); returns what was done.

        Raises:
            UsageError: a live daemon holds this daemon's name.
        """
        self.heartbeat.claim()
        from apscheduler.schedulers.background import (  # noqa: PLC0415 - daemon only
            BackgroundScheduler,
        )

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.add_job(self.tick, "interval", seconds=self.config.poll_interval,
                                id="poll", next_run_time=datetime.now(UTC), max_instances=1,
                                coalesce=True, misfire_grace_time=None)
        self._scheduler.start()
        keeper = threading.Thread(target=self._keep, name="bompao-keeper", daemon=True)
        keeper.start()
        log.info("daemon %s started (poll every %ss, lease %ss)", self.config.daemon_name,
                 self.config.poll_interval, self.config.lease)
        try:
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.stopping.set()
            self._scheduler.shutdown(wait=True)
            keeper.join(30)
            self.heartbeat.drop()
            if self.metrics is not None:
                self.metrics.close()
            log.info("daemon %s stopped: %s", self.config.daemon_name, self.total.as_dict())
        return self.total
