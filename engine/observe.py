"""Watching the daemons: heartbeats in the database, a status summary, Prometheus metrics.

Each daemon writes a heartbeat row (name, pid, host, started, last beat) every round
and removes it when it stops cleanly; ``bompao scheduler status`` shows the live ones,
the lag of the oldest due follow-up and the failed follow-ups. ``--metrics-port``
serves Prometheus metrics (prometheus-client) for runs, failures and lag.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bompao.storage.tables import daemons, follow_ups

__all__ = ["Metrics", "beat", "forget", "status"]


def beat(engine: Any, name: str, started: datetime) -> None:
    """Record that daemon ``name`` is alive now."""
    now = engine.now()
    with engine.db.begin() as conn:
        updated = conn.execute(sa.update(daemons).where(daemons.c.name == name).values(
            pid=os.getpid(), host=socket.gethostname(), heartbeat_at=now)).rowcount
        if not updated:
            conn.execute(sa.insert(daemons).values(
                name=name, pid=os.getpid(), host=socket.gethostname(), started_at=started,
                heartbeat_at=now))


def forget(engine: Any, name: str) -> None:
    """Remove daemon ``name``'s heartbeat (it stopped cleanly)."""
    with engine.db.begin() as conn:
        conn.execute(sa.delete(daemons).where(daemons.c.name == name))


def status(engine: Any, *, alive_within: float = 90.0, failed_limit: int = 20
           ) -> dict[str, Any]:
    """Live daemons, the oldest due follow-up's lag, and failed follow-ups.

    Args:
        engine: the engine.
        alive_within: seconds since the last heartbeat for a daemon to count as alive.
        failed_limit: at most this many failed follow-ups listed (all are counted).
    """
    now = engine.now()
    with engine.db.begin(write=False) as conn:
        rows = list(conn.execute(sa.select(daemons).order_by(daemons.c.name)))
        oldest = conn.execute(sa.select(sa.func.min(follow_ups.c.due_at)).where(
            follow_ups.c.status == "pending", follow_ups.c.due_at <= now)).scalar()
        due = conn.execute(sa.select(sa.func.count()).where(
            follow_ups.c.status == "pending", follow_ups.c.due_at <= now)).scalar_one()
        failed_count = conn.execute(sa.select(sa.func.count()).where(
            follow_ups.c.status == "failed")).scalar_one()
        failed = list(conn.execute(
            sa.select(follow_ups.c.id, follow_ups.c.project_id, follow_ups.c.spec,
                      follow_ups.c.action, follow_ups.c.last_error, follow_ups.c.finished_at)
            .where(follow_ups.c.status == "failed")
            .order_by(follow_ups.c.finished_at.desc()).limit(failed_limit)))
    limit = now - timedelta(seconds=alive_within)
    return {
        "daemons": [{"name": r.name, "pid": r.pid, "host": r.host,
                     "started_at": r.started_at.isoformat(),
                     "heartbeat_at": r.heartbeat_at.isoformat(),
                     "alive": r.heartbeat_at >= limit} for r in rows],
        "due": int(due),
        "oldest_due_at": oldest.isoformat() if oldest else None,
        "lag_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
        "failed": int(failed_count),
        "failed_recent": [{"id": r.id, "project": r.project_id, "spec": r.spec,
                           "action": r.action, "error": r.last_error,
                           "finished_at": r.finished_at.isoformat() if r.finished_at else None}
                          for r in failed],
    }


class Metrics:
    """Prometheus metrics of one daemon, served on ``port``.

    Raises:
        UsageError: the port cannot be opened.
    """

    def __init__(self, port: int, name: str) -> None:
        from prometheus_client import (  # noqa: PLC0415 - only with --metrics-port
            CollectorRegistry,
            Counter,
            Gauge,
            start_http_server,
        )

        from bompao.errors import UsageError  # noqa: PLC0415

        self.registry = CollectorRegistry()
        labels = {"daemon": name}
        self.runs = Counter("bompao_followup_runs", "Follow-up runs by action and outcome",
                            ["daemon", "action", "outcome"], registry=self.registry)
        self.lag = Gauge("bompao_followup_lag_seconds",
                         "Age of the oldest due, unclaimed follow-up", ["daemon"],
                         registry=self.registry).labels(**labels)
        self.heartbeat = Gauge("bompao_daemon_heartbeat_timestamp_seconds",
                               "When the daemon last finished a round", ["daemon"],
                               registry=self.registry).labels(**labels)
        self.name = name
        try:
            self.server, self.thread = start_http_server(port, registry=self.registry)
        except OSError as exc:
            raise UsageError(f"cannot serve metrics on port {port}: {exc.strerror}") from None

    def record(self, outcomes: list[dict[str, Any]], lag: float, when: datetime) -> None:
        """Count a round's runs and set the lag and heartbeat gauges."""
        for run in outcomes:
            self.runs.labels(self.name, run["action"], run["outcome"]).inc()
        self.lag.set(lag)
        self.heartbeat.set(when.timestamp())

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
