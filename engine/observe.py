"""Watching the daemons: heartbeats in the database, a status summary, Prometheus metrics.

Each daemon writes a heartbeat row (name, pid, host, started, last beat) when it
starts, every ``heartbeat`` seconds while it runs (during a long round too) and
removes it when it stops cleanly; a name a live daemon holds is refused. ``bompao
scheduler status`` shows the live ones, the lag of the oldest due follow-up and the
failed follow-ups. ``--metrics-port`` serves Prometheus metrics (prometheus-client)
for runs, failures and lag.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from bompao.definitions.messages import Message
from bompao.errors import BompaoError, NotFound, UsageError
from bompao.storage import daemons as daemons_store
from bompao.storage import followups

__all__ = ["Heartbeat", "Metrics", "alive", "forget", "status"]


class Heartbeat:
    """Daemon ``name``'s heartbeat row, held by this process.

    Args:
        engine: the engine (its clock stamps the beats).
        name: the daemon's name.
        started: when the daemon started.
        alive_within: seconds after its last beat a daemon on another host still counts
            as alive (on this host, a daemon is alive while its process is).
    """

    def __init__(self, engine: Any, name: str, started: datetime, *,
                 alive_within: float = 90.0) -> None:
        self.engine = engine
        self.name = name
        self.started = started
        self.alive_within = alive_within
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.held = False

    def _ours(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "started": self.started}

    def claim(self) -> None:
        """Take the name: write the first beat, and free what a dead holder had claimed.

        Raises:
            UsageError: a live daemon holds the name.
        """
        if self.held:
            return
        now = self.engine.now()
        with self.engine.db.begin() as conn:
            holder = daemons_store.claim_name(conn, self.name, now=now,
                                              holder_alive=lambda row: alive(row, now,
                                                                             self.alive_within),
                                              **self._ours())
            if holder is None:
                followups.expire_leases(conn, self.name, now)
        self.held = holder is None
        if holder is not None:
            raise UsageError(
                f"daemon name {self.name!r} is held by a live daemon (pid {holder.pid} on "
                f"{holder.host}, last beat {holder.heartbeat_at.isoformat()}); choose another "
                "--name, or stop that one (or run 'bompao scheduler forget' if it is dead)")

    def beat(self) -> bool:
        """Record that we are alive now; False when our row was forgotten meanwhile."""
        with self.engine.db.begin() as conn:
            return daemons_store.beat(conn, self.name, now=self.engine.now(), **self._ours())

    def drop(self) -> None:
        """Remove our own row (we stop cleanly); a row another process wrote stays."""
        with self.engine.db.begin() as conn:
            daemons_store.drop(conn, self.name, **self._ours())
        self.held = False


def _process_lives(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def alive(row: Any, now: datetime, within: float, *, beating: bool = False) -> bool:
    """Whether the daemon of a heartbeat row lives.

    On this host, whether its process does (and, with ``beating``, also beat within
    ``within`` seconds); on another host, whether it beat within ``within`` seconds.
    """
    fresh = bool(row.heartbeat_at >= now - timedelta(seconds=within))
    if row.host == socket.gethostname():
        return _process_lives(row.pid) and (fresh or not beating)
    return fresh


def forget(engine: Any, name: str, *, alive_within: float = 90.0) -> None:
    """Clear the heartbeat of daemon ``name``, which has died.

    Raises:
        NotFound: no daemon of that name has a heartbeat.
        BompaoError: the daemon is alive (stop it instead).
    """
    now = engine.now()
    with engine.db.begin() as conn:
        rows = {row.name: row for row in daemons_store.listing(conn)}
        row = rows.get(name)
        if row is None:
            raise NotFound(Message("daemon.not_found", name=name,
                                   known=", ".join(sorted(rows)) or Message("none")))
        if alive(row, now, alive_within):
            raise BompaoError(Message("daemon.alive", name=name, pid=row.pid, host=row.host,
                                      beat=row.heartbeat_at.isoformat()))
        daemons_store.forget(conn, name)


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
        rows = daemons_store.listing(conn)
        backlog = followups.backlog(conn, now, failed_limit)
    oldest, failed = backlog["oldest"], backlog["failed"]
    return {
        "daemons": [{"name": r.name, "pid": r.pid, "host": r.host,
                     "started_at": r.started_at.isoformat(),
                     "heartbeat_at": r.heartbeat_at.isoformat(),
                     "alive": alive(r, now, alive_within, beating=True)} for r in rows],
        "due": backlog["due"],
        "oldest_due_at": oldest.isoformat() if oldest else None,
        "lag_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
        "failed": backlog["failed_count"],
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


def unconfigured(engine: Any, config: Any, journeys: Any = None) -> list[dict[str, Any]]:
    """Follow-ups of published journeys that will fail for want of configuration: a
    webhook endpoint missing from ``[webhooks]``, email without ``[smtp]``, a notify
    whose ``email`` channel has no ``[smtp]``.

    Args:
        journeys: only these ``(key, version)`` pairs (default: every published one).
    """
    refs = journeys if journeys is not None else [
        (j["journey"], j["version"]) for j in engine.list_journeys()]
    found: list[dict[str, Any]] = []
    endpoints = ", ".join(sorted(config.webhooks)) or Message("unconfigured.none")
    for key, version in refs:
        journey = engine.journey(key, version)
        for stage in journey.stages.values():
            for follow_up in stage.follow_ups:
                missing: Message | None = None
                if follow_up.action == "webhook" and str(
                        follow_up.spec.endpoint) not in config.webhooks:
                    missing = Message("unconfigured.webhook", endpoint=follow_up.spec.endpoint,
                                      configured=endpoints)
                elif follow_up.action == "email" and config.smtp is None:
                    missing = Message("unconfigured.email")
                elif follow_up.action == "notify" and "email" in config.channels and (
                        config.smtp is None):
                    missing = Message("unconfigured.notify_email")
                if missing is not None:
                    found.append({
                        "journey": journey.ref, "stage": stage.name,
                        "follow_up": follow_up.name, "action": follow_up.action,
                        "message": Message("unconfigured.will_fail", ref=journey.ref,
                                           stage=stage.name, name=follow_up.name,
                                           action=follow_up.action, missing=missing)})
    return found


def retry(engine: Any, ids: list[int] | None, *, project: int | None = None,
          since: datetime | None = None, partner: str | None = None) -> list[int]:
    """Put failed follow-ups back to pending, due now: ``ids``, or (None) every failed one
    of ``project`` that failed at or after ``since``. All or nothing.

    Returns:
        The ids now pending again.

    Raises:
        NotFound: an id that does not exist (or belongs to another partner).
        UsageError: an id that is not failed (nothing is changed).
    """
    now = engine.now()
    with engine.db.begin() as conn:
        if ids is None:
            chosen = followups.failed_ids(conn, project=project, since=since, partner=partner)
        else:
            chosen = list(dict.fromkeys(ids))
            found = followups.statuses(conn, chosen, partner)
            unknown = [i for i in chosen if i not in found]
            if unknown:
                more = Message("followup.not_found_more", ids=", ".join(
                    map(str, unknown[1:6]))) if len(unknown) > 1 else ""
                raise NotFound(Message("followup.not_found", id=unknown[0], more=more))
            other = [i for i in chosen if found[i] != "failed"]
            if other:
                raise UsageError(Message("followup.not_failed", id=other[0],
                                         status=found[other[0]]))
        return followups.retry(conn, chosen, now)
