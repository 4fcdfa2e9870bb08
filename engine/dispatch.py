"""Running due follow-ups: claim with a lease, act, and record — exactly once in effect.

One round:

1. **claim** — one transaction marks up to ``batch`` due follow-ups ``running`` with
   this daemon's name and a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
   several daemons share the work; a killed daemon's claims are taken over when their
   lease ends). Oldest first.
2. **deliver** — external actions (notify, email, webhook, plugins) run outside any
   transaction with the occurrence's idempotency key.
3. **record** — one transaction checks the claims are still ours, applies internal
   actions (flag, unflag, transition) to the project rows read *in that transaction*,
   appends one event per run to each project's history (gap-free seqs), marks the
   follow-ups done / failed / cancelled and plans the next occurrence of recurring
   ones. Internal effects and "done" commit together, so they happen exactly once;
   an external delivery repeated after a crash carries the same key.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bompao.definitions import CompiledFollowUp, CompiledJourney
from bompao.engine.actions import INTERNAL, ActionContext, ActionFailed, ActionRegistry
from bompao.engine.actor import SYSTEM
from bompao.engine.config import Config
from bompao.engine.gates import GateReport
from bompao.engine.planning import next_row, plan_rows
from bompao.errors import BompaoError
from bompao.storage import followups
from bompao.storage.hotpath import ProjectRow

__all__ = ["MAX_ATTEMPTS", "Dispatcher", "RoundResult"]

log = logging.getLogger("bompao.scheduler")
MAX_ATTEMPTS = 10
"""A follow-up claimed this many times without being recorded is marked failed."""


@dataclass
class RoundResult:
    """What rounds of dispatching did."""

    claimed: int = 0
    done: int = 0
    failed: int = 0
    refused: int = 0
    cancelled: int = 0
    lost: int = 0
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: RoundResult) -> None:
        """Accumulate another round."""
        for name in ("claimed", "done", "failed", "refused", "cancelled", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes.extend(other.outcomes)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without per-run outcomes)."""
        return {"claimed": self.claimed, "done": self.done, "failed": self.failed,
                "refused": self.refused, "cancelled": self.cancelled, "lost": self.lost}


@dataclass
class _Run:
    claim: dict[str, Any]
    follow_up: CompiledFollowUp | None = None
    journey: CompiledJourney | None = None
    outcome: str = "done"
    detail: str = ""
    seconds: float = 0.0
    channels: dict[str, str] | None = None
    """notify: each channel's outcome (those recorded earlier, then this run's)."""
    after: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Listener calls (kind, data) due once the run's transaction commits."""


class _Batch:
    """Project states, lock versions, events and plans of one recording transaction.

    Lock versions are kept apart from the rows: most runs only append an event, and
    copying a row per event would cost more than the event itself.
    """

    def __init__(self, rows: dict[int, ProjectRow], now: datetime) -> None:
        self.rows = rows
        self.now = now
        self.first = {pid: row.lock_version for pid, row in rows.items()}
        self.lock = dict(self.first)
        self.events: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.changed: set[int] = set()

    def append(self, project_id: int, event: dict[str, Any], **values: Any) -> ProjectRow:
        """Add an event (its seq is the next lock version) and apply ``values``."""
        seq = self.lock[project_id] + 1
        self.lock[project_id] = seq
        event["project_id"], event["seq"], event["at"] = project_id, seq, self.now
        self.events.append(event)
        if values:
            self.rows[project_id] = self.rows[project_id]._replace(**values)
            self.changed.add(project_id)
        return self.rows[project_id]

    def updates(self) -> tuple[list[tuple[int, int, int, dict[str, Any]]], ...]:
        """(id, expected lock, new lock, values) for the projects whose state changed,
        and apart, for those that only gained events (lock and time only)."""
        moved = [pid for pid in self.rows if self.lock[pid] != self.first[pid]]
        full = [(pid, self.first[pid], self.lock[pid], {
            "stage": self.rows[pid].stage, "visit": self.rows[pid].visit,
            "flags": self.rows[pid].flags, "approvals": self.rows[pid].approvals,
            "stage_entered_at": self.rows[pid].stage_entered_at, "updated_at": self.now})
            for pid in moved if pid in self.changed]
        light = [(pid, self.first[pid], self.lock[pid], {"updated_at": self.now})
                 for pid in moved if pid not in self.changed]
        return full, light


class Dispatcher:
    """Claims and runs due follow-ups for one engine.

    Args:
        engine: the :class:`~bompao.engine.engine.Engine`.
        config: the operator's configuration (daemon name, lease, batch, channels).
        actions: the action registry (built-ins plus plugins).
    """

    def __init__(self, engine: Any, config: Config | None = None,
                 actions: ActionRegistry | None = None) -> None:
        self.engine = engine
        self.config = config or Config()
        self.actions = actions or engine.actions
        self.name = self.config.daemon_name
        self._read: dict[int, ProjectRow] = {}
        self._lease_until = datetime.min.replace(tzinfo=UTC)

    def run_due(self, now: datetime | None = None, *, stop: Callable[[], bool] | None = None,
                limit: int | None = None) -> RoundResult:
        """Run every follow-up due at ``now`` (the clock's time by default), oldest first.

        Args:
            now: the time to run at (``--now``); due means ``due_at <= now``.
            stop: checked between follow-ups; when it returns True, the rest of the
                round is released and the method returns.
            limit: stop after about this many follow-ups.
        """
        total = RoundResult()
        while True:
            when = now or self.engine.now()
            batch = self.config.batch if limit is None else min(self.config.batch,
                                                                 limit - total.claimed)
            if batch <= 0:
                break
            result = self.run_round(when, batch, stop=stop)
            total.add(result)
            if result.claimed == 0 or (stop is not None and stop()):
                break
        return total

    def run_round(self, now: datetime, batch: int, *,
                  stop: Callable[[], bool] | None = None) -> RoundResult:
        """Claim one batch, then deliver and record it follow-up by follow-up.

        Each external effect's outcome is committed right after it; only effects that
        all happen within ``record_within`` seconds of the start of the first
        unrecorded one share a commit. A delivery that takes longer is committed on its
        own, so a daemon killed mid-round repeats at most the delivery in hand (or the
        effects of its last ``record_within`` seconds).
        Between deliveries the lease of what is still in hand is renewed once half of
        it has run, so a long round never outlasts its lease.
        """
        hot = self.engine.hot
        # the lease runs on the engine's clock, not on --now: a catch-up run "at" a
        # future time that crashes must not lock its claims until then
        clock = self.engine.now()
        self._lease_until = clock + timedelta(seconds=self.config.lease)
        with hot.transaction() as cursor:
            claims = hot.claim(cursor, self.name, due_by=now, clock=clock,
                               lease_until=self._lease_until, limit=batch)
            channels = followups.channel_outcomes(
                hot, cursor, [c["id"] for c in claims if c["action"] == "notify"])
        result = RoundResult(claimed=len(claims))
        if not claims:
            return result
        with hot.transaction() as cursor:
            projects = hot.read_many(cursor, sorted({c["project_id"] for c in claims}))
        self._read = projects
        runs: list[_Run] = []
        released: list[dict[str, Any]] = []
        horizon: datetime | None = None
        moving: set[int] = set()
        window = self.config.record_within
        since: float | None = None  # when the oldest unrecorded delivery began
        for claim in claims:
            if (stop is not None and stop()) or (horizon is not None
                                                 and claim["due_at"] > horizon) or (
                    claim["project_id"] in moving):
                # a transition earlier in the round may move the project on: what follows
                # for it waits for the next round, which sees where it went
                released.append(claim)
                continue
            project = self._read.get(claim["project_id"])
            run = self._prepare(claim, project)
            upcoming = self._upcoming(run, project, now)
            if upcoming is not None and (horizon is None or upcoming < horizon):
                horizon = upcoming
            if run.outcome == "pending" and run.follow_up is not None and project is not None:
                if run.follow_up.action not in INTERNAL:
                    self._keep_lease()
                    run.channels = channels.get(claim["id"])
                    since = time.perf_counter() if since is None else since
                    self._deliver(run, project, now)
                    runs.append(run)
                    if time.perf_counter() - since >= window:
                        self._record(runs, [], now, result)
                        runs, since = [], None
                    continue
                if run.follow_up.action == "transition":
                    moving.add(claim["project_id"])
            runs.append(run)
        self._record(runs, released, now, result)
        result.claimed -= len(released)
        return result

    def _keep_lease(self) -> None:
        """Renew the lease of everything in hand once half of it has run."""
        clock = self.engine.now()
        if (self._lease_until - clock).total_seconds() > self.config.lease / 2:
            return
        self.renew()

    def renew(self) -> None:
        """Extend the lease of every follow-up this daemon holds by a whole lease.

        Thread-safe: the daemon's keeper thread calls it while a delivery hangs.
        """
        until = self.engine.now() + timedelta(seconds=self.config.lease)
        with self.engine.hot.transaction() as cursor:
            followups.renew(self.engine.hot, cursor, self.name, until)
        self._lease_until = until

    @staticmethod
    def _upcoming(run: _Run, project: ProjectRow | None, now: datetime) -> datetime | None:
        """When the run's next occurrence falls due, if that is already due.

        A round stops before any claim due after it, so that catching up runs every
        occurrence in due order (the next one is planned only when this one is recorded).
        """
        if run.outcome != "pending" or project is None or run.follow_up is None or (
                run.journey is None or not run.follow_up.recurring):
            return None
        due = run.follow_up.due(project.stage_entered_at, project.fields,
                                run.claim["occurrence"] + 1, run.journey)
        return due if due is not None and due <= now else None

    def _prepare(self, claim: dict[str, Any], project: ProjectRow | None) -> _Run:
        run = _Run(claim)
        if project is None or project.visit != claim["visit"] or project.stage != claim["stage"]:
            run.outcome, run.detail = "cancelled", "the project left the stage"
            return run
        if claim["attempts"] > MAX_ATTEMPTS:
            run.outcome = "failed"
            run.detail = f"gave up after {MAX_ATTEMPTS} attempts without a result"
            return run
        journey = self.engine.journey(project.journey_key, project.journey_version)
        found = next((f for f in journey.stages[project.stage].follow_ups
                      if f.name == claim["spec"]), None)
        if found is None:
            run.outcome, run.detail = "cancelled", (
                f"{journey.ref} has no follow-up {claim['spec']!r} in stage {project.stage!r}")
            return run
        run.follow_up, run.journey, run.outcome = found, journey, "pending"
        return run

    def _context(self, run: _Run, project: Any, now: datetime) -> ActionContext:
        assert run.follow_up is not None
        assert run.journey is not None
        return ActionContext(project, run.journey, run.follow_up, run.claim["occurrence"],
                             run.claim["due_at"], run.claim["idempotency_key"], self.config,
                             now, self.config.language_for(run.journey),
                             dict(run.channels or {}))

    def _deliver(self, run: _Run, project: ProjectRow, now: datetime) -> None:
        assert run.follow_up is not None
        if run.follow_up.action in INTERNAL:
            return
        start = time.perf_counter()
        ctx = self._context(run, project, now)
        try:
            run.detail = self.actions.run(ctx)
            run.outcome = "done"
        except ActionFailed as exc:
            run.outcome, run.detail = "failed", str(exc)
        run.detail = self.config.redact(run.detail)  # whatever a plugin says
        if ctx.channels:
            run.channels = {name: self.config.redact(said)
                            for name, said in ctx.channels.items()}
        run.seconds = time.perf_counter() - start

    def _record(self, runs: list[_Run], released: list[dict[str, Any]], now: datetime,
                result: RoundResult) -> None:
        hot = self.engine.hot
        with hot.transaction() as cursor:
            # projects first, then follow-ups: the order every engine change takes them
            # in, so a daemon and a person changing the same project never deadlock
            locks = hot.locks(cursor, sorted({r.claim["project_id"] for r in runs}
                                             | {c["project_id"] for c in released}))
            mine = hot.owned(cursor, [r.claim["id"] for r in runs], self.name)
            result.lost += sum(1 for r in runs if r.claim["id"] not in mine)
            runs = [r for r in runs if r.claim["id"] in mine]
            ids = sorted({r.claim["project_id"] for r in runs})
            earlier = getattr(self, "_read", {})
            fresh = {pid: earlier[pid] for pid in ids
                     if pid in earlier and earlier[pid].lock_version == locks.get(pid)}
            fresh.update(hot.read_many(cursor, [pid for pid in ids if pid not in fresh
                                                and pid in locks]))
            batch = _Batch(fresh, now)
            finished: list[tuple[str, datetime, str | None, int]] = []
            for run in runs:
                pid = run.claim["project_id"]
                row = fresh.get(pid)
                if run.outcome == "pending" and row is not None and (
                        row.visit != run.claim["visit"]):
                    run.outcome, run.detail = "cancelled", "the project left the stage"
                if run.outcome == "pending" and row is not None:
                    start = time.perf_counter()
                    self._internal(cursor, run, row, batch)
                    run.seconds = time.perf_counter() - start
                if run.outcome != "cancelled" and row is not None:
                    self._event(run, pid, batch)
                    self._next(run, pid, batch)
                status = {"done": "done", "refused": "done", "failed": "failed",
                          "cancelled": "cancelled"}[run.outcome]
                finished.append((status, now, run.detail if run.outcome == "failed" else None,
                                 run.claim["id"]))
                setattr(result, run.outcome, getattr(result, run.outcome) + 1)
                result.outcomes.append(self._log(run))
            if released:
                self._release(cursor, released, batch, finished)
            if not all(hot.update_many(cursor, group) for group in batch.updates()):
                raise BompaoError("a project changed while its row was locked")
            hot.append_events(cursor, batch.events)
            hot.finish(cursor, finished)
            followups.save_channels(hot, cursor, [(r.channels, r.claim["id"]) for r in runs
                                                  if r.channels])
            # a transition later in the batch may have moved a project on: what was planned
            # for the visit it left is not planned at all
            hot.plan(cursor, [plan for plan in batch.plans
                              if plan["visit"] == batch.rows[plan["project_id"]].visit])
        # committed: later deliveries of the round see the projects as they are now
        for pid, row in batch.rows.items():
            self._read[pid] = row._replace(lock_version=batch.lock[pid])
        self._notify_listeners(runs, batch)

    def _notify_listeners(self, runs: list[_Run], batch: _Batch) -> None:
        """Call the engine's listeners for the committed changes the runs made."""
        from bompao.engine.engine import Project  # noqa: PLC0415 - engine imports us

        for run in runs:
            for kind, data in run.after:
                row = self._read.get(run.claim["project_id"])
                if kind == "gate_refused":
                    self.engine._emit(kind, **data)
                elif row is not None:
                    self.engine._emit(kind, project=Project.from_row(row), **data)

    def _release(self, cursor: Any, claims: list[dict[str, Any]], batch: _Batch,
                 finished: list[tuple[str, datetime, str | None, int]]) -> None:
        """Give back claims the round did not reach; those whose project has left the
        stage visit they belong to are cancelled instead of pending again."""
        hot = self.engine.hot
        held = hot.owned(cursor, [c["id"] for c in claims], self.name)
        claims = [c for c in claims if c["id"] in held]
        rows = {**hot.read_many(cursor, sorted({c["project_id"] for c in claims}
                                               - set(batch.rows)), lock=True), **batch.rows}
        back = []
        for claim in claims:
            row = rows.get(claim["project_id"])
            if row is None or row.visit != claim["visit"]:
                finished.append(("cancelled", batch.now, None, claim["id"]))
            else:
                back.append(claim["id"])
        hot.release(cursor, back, self.name)

    def _internal(self, cursor: Any, run: _Run, row: ProjectRow, batch: _Batch) -> None:
        follow_up = run.follow_up
        assert follow_up is not None
        assert run.journey is not None
        spec = follow_up.spec
        if follow_up.action in ("flag", "unflag"):
            flag = str(spec.flag)
            flags = sorted({*row.flags, flag}) if follow_up.action == "flag" else [
                f for f in row.flags if f != flag]
            run.outcome = "done"
            run.detail = f"{follow_up.action} {spec.flag}"
            if flags != list(row.flags):
                batch.append(row.id, {
                    "kind": "flagged" if follow_up.action == "flag" else "unflagged",
                    "actor": SYSTEM.name, "payload": {"flag": spec.flag}}, flags=flags)
            return
        if follow_up.action != "transition":
            return
        engine = self.engine
        change = engine._advance_change(
            row, run.journey, str(spec.trigger), None, None, bool(spec.force),
            f"follow-up {follow_up.name} (force)" if spec.force else None, batch.now,
            system=True, cursor=cursor)
        if isinstance(change, GateReport):
            run.outcome = "refused"
            run.detail = "gate not met: " + "; ".join(c.says for c in change.missing)
            run.after.append(("gate_refused", {"project_id": row.id, "report": change,
                                               "actor": SYSTEM}))
            return
        run.after.extend(change.after)
        run.outcome, run.detail = "done", f"{spec.trigger} -> {change.values['stage']}"
        moved = batch.append(row.id, change.event, **change.values)
        if change.cancel:
            engine.hot.cancel(cursor, row.id, batch.now)
        if change.plan:
            batch.plans.extend(plan_rows(
                run.journey, moved.stage, project=row.id, visit=moved.visit,
                entered_at=moved.stage_entered_at, fields=moved.fields,
                revision=batch.lock[row.id], now=batch.now))

    def _event(self, run: _Run, project_id: int, batch: _Batch) -> None:
        claim = run.claim
        batch.append(project_id, {
            "kind": "follow_up", "actor": SYSTEM.name, "from_stage": claim["stage"],
            "payload": {"follow_up": claim["id"], "spec": claim["spec"],
                        "occurrence": claim["occurrence"], "action": claim["action"],
                        "outcome": run.outcome, "detail": run.detail,
                        "idempotency_key": claim["idempotency_key"],
                        "due_at": claim["due_at"].isoformat(),
                        "daemon": self.name,
                        **({"channels": run.channels} if run.channels else {})}})

    def _next(self, run: _Run, project_id: int, batch: _Batch) -> None:
        row = batch.rows[project_id]
        if run.follow_up is None or run.journey is None or row.visit != run.claim["visit"]:
            return
        found = next_row(run.journey, run.follow_up, project=project_id, visit=row.visit,
                         occurrence=run.claim["occurrence"], entered_at=row.stage_entered_at,
                         fields=row.fields, revision=batch.lock[project_id], now=batch.now)
        if found is not None:
            batch.plans.append(found)

    def _log(self, run: _Run) -> dict[str, Any]:
        line = {"follow_up": run.claim["id"], "project": run.claim["project_id"],
                "spec": run.claim["spec"], "occurrence": run.claim["occurrence"],
                "action": run.claim["action"], "outcome": run.outcome,
                "duration_ms": round(run.seconds * 1000, 2), "detail": run.detail,
                "daemon": self.name}
        if log.isEnabledFor(logging.INFO):
            log.info(json.dumps(line, ensure_ascii=False))
        return line
