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

On SQLite (one writer at a time) the runs at the head of a batch whose action is *in
process* (internal, or a plugin registered ``in_process=True``: nothing leaves the
process) skip the separate steps: they are claimed, run and recorded in the claim's
transaction, so a kill before its commit leaves no trace at all (not even a claim to
wait for) and one commit records the lot. The first external action ends that: it and
everything after it go the three steps above, each effect committed right after it.
On PostgreSQL every batch takes the three steps (there, claiming locks follow-ups
before projects, the reverse of the order recording takes them in).
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bompao.definitions import CompiledFollowUp, CompiledJourney
from bompao.definitions.reminders import IndicatorReminder
from bompao.engine import reminders
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
_SYSTEM = SYSTEM.name
MAX_ATTEMPTS = 10
"""A follow-up claimed this many times without being recorded is marked failed."""
_STATUS = {"pending": "done", "done": "done", "refused": "done", "failed": "failed",
           "cancelled": "cancelled", "skipped": "cancelled"}
"""A run's outcome → its follow-up's status (an internal action still pending when its
row is finished runs in the same transaction: done, or refused by its gate). A skipped
run (an indicator reminder whose value arrived meanwhile) is cancelled, and its next
occurrence is planned as after a delivery."""


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

    def count(self, outcomes: Iterable[str]) -> None:
        """Count runs by outcome (``done``, ``failed``, ``refused``, ``cancelled``)."""
        for outcome, times in Counter(outcomes).items():
            name = "cancelled" if outcome == "skipped" else outcome
            setattr(self, name, getattr(self, name) + times)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without per-run outcomes)."""
        return {"claimed": self.claimed, "done": self.done, "failed": self.failed,
                "refused": self.refused, "cancelled": self.cancelled, "lost": self.lost}


class _Run:
    """One claimed follow-up on its way through a round (slots: thousands a second)."""

    __slots__ = ("after", "at_risk", "channels", "claim", "detail", "follow_up", "journey",
                 "lang", "outcome", "project", "recurring", "seconds")

    def __init__(self, claim: dict[str, Any], outcome: str = "pending", detail: str = "",  # noqa: PLR0917 - from a cached spec tuple
                 follow_up: CompiledFollowUp | None = None,
                 journey: CompiledJourney | None = None, lang: str = "en",
                 recurring: bool = False) -> None:
        self.claim = claim
        self.outcome = outcome
        self.detail = detail
        self.follow_up = follow_up
        self.journey = journey
        self.recurring = recurring
        """Whether the follow-up runs again after each run."""
        self.seconds = 0.0
        self.channels: dict[str, str] | None = None
        """notify: each channel's outcome (those recorded earlier, then this run's)."""
        self.after: list[tuple[str, dict[str, Any]]] = []
        """Listener calls (kind, data) due once the run's transaction commits."""
        self.at_risk = False
        """An indicator reminder: flag the project at risk (see engine/reminders.py)."""
        self.project: ProjectRow | None = None
        """The project as the run found it (what an action sees)."""
        self.lang = lang
        """The language of the run's messages (see :meth:`Config.language_for`)."""


class _Walk:
    """Where a round is in its claims: what it gave back, how far it may go."""

    __slots__ = ("deliver", "horizon", "moving", "now", "released", "stop")

    def __init__(self, now: datetime, stop: Callable[[], bool] | None) -> None:
        self.now = now
        self.stop = stop
        self.released: list[dict[str, Any]] = []
        """Claims the round gives back."""
        self.horizon: datetime | None = None
        """The earliest next occurrence of a recurring run that is due already."""
        self.moving: set[int] = set()
        """Projects a transition of the round may move on."""
        self.deliver = False
        """Whether the claim last taken is an action to carry out now."""


class _Batch:
    """Project states, lock versions, events and plans of one recording transaction.

    Lock versions are kept apart from the rows: most runs only append an event, and
    copying a row per event would cost more than the event itself.

    Args:
        rows: the projects' states, as read (their ``lock_version`` may lag behind).
        locks: the projects' lock versions, read in this transaction.
    """

    def __init__(self, rows: dict[int, ProjectRow], locks: dict[int, int],
                 now: datetime) -> None:
        self.rows = rows
        self.now = now
        self.first = {pid: locks[pid] for pid in rows}
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
        full: list[tuple[int, int, int, dict[str, Any]]] = []
        light: list[tuple[int, int, int, dict[str, Any]]] = []
        time = {"updated_at": self.now}  # the same values for each light one: one dict
        changed, first = self.changed, self.first
        for pid, lock in self.lock.items():
            if lock == first[pid]:
                continue
            if pid in changed:
                row = self.rows[pid]
                full.append((pid, first[pid], lock, {
                    "stage": row.stage, "visit": row.visit, "flags": row.flags,
                    "approvals": row.approvals, "stage_entered_at": row.stage_entered_at,
                    "updated_at": self.now}))
            else:
                light.append((pid, first[pid], lock, time))
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
        """The round's projects as last read or recorded; see :meth:`_current`."""
        self._locks: dict[int, int] = {}
        """Their lock versions: what this daemon last read or committed."""
        self._specs: dict[tuple[str, int, str, str],
                          tuple[CompiledFollowUp, CompiledJourney, str, bool]] = {}
        self._leased(datetime.max.replace(tzinfo=UTC))
        self._iso: dict[datetime, str] = {}
        self._paused = False
        """Whether this round paused the garbage collector (see :meth:`run_round`)."""

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

        On SQLite, in-process runs at the head of the batch are run and recorded in the
        claim's transaction (see the module's docstring). Each external effect's outcome
        is committed right after it; only effects that all happen within
        ``record_within`` seconds of the start of the first unrecorded one share a
        commit. A delivery that takes longer is committed on its
        own, so a daemon killed mid-round repeats at most the delivery in hand (or the
        effects of its last ``record_within`` seconds).
        Between deliveries the lease of what is still in hand is renewed once half of
        it has run, so a long round never outlasts its lease.

        Python's cyclic garbage collector is paused while the round keeps its books
        (claiming, reading, recording, in-process actions) and runs as usual while an
        external action does: a round holds a few objects per follow-up until it ends,
        all freed by reference counting then, and collections scanning every object of
        the process each few hundred of them cost about a third of the dispatch rate. It
        is left alone when the process has disabled it.
        """
        self._paused = gc.isenabled()
        if self._paused:
            gc.disable()
        try:
            return self._round(now, batch, stop)
        finally:
            if self._paused:
                gc.enable()
            self._paused = False

    def _claim(self, cursor: Any, now: datetime, batch: int
               ) -> tuple[list[dict[str, Any]], dict[int, dict[str, str]]]:
        """Up to ``batch`` follow-ups due at ``now`` and their projects, read in the
        caller's transaction; also the per-channel outcomes recorded for the notify ones.

        On PostgreSQL they are claimed (running under this daemon's lease); on SQLite,
        whose write transaction has no other writer, only read: the round closes or
        claims each in the same transaction (see :meth:`_round`)."""
        hot = self.engine.hot
        # the lease runs on the engine's clock, not on --now: a catch-up run "at" a
        # future time that crashes must not lock its claims until then
        clock = self.engine.now()
        self._leased(clock + timedelta(seconds=self.config.lease))
        if hot.sqlite:
            claims = hot.due(cursor, due_by=now, clock=clock, limit=batch)
        else:
            claims = hot.claim(cursor, self.name, due_by=now, clock=clock,
                               lease_until=self._lease_until, limit=batch)
        if not claims:
            return claims, {}
        channels = followups.channel_outcomes(
            hot, cursor, [c["id"] for c in claims if c["action"] == "notify"])
        self._read = hot.read_many(cursor, sorted({c["project_id"] for c in claims}))
        self._locks = {pid: row.lock_version for pid, row in self._read.items()}
        self._iso.clear()
        return claims, channels

    def _round(self, now: datetime, batch: int, stop: Callable[[], bool] | None
               ) -> RoundResult:
        hot = self.engine.hot
        result = RoundResult()
        walk = _Walk(now, stop)
        runs: list[_Run] = []
        recorded: tuple[list[_Run], _Batch] | None = None
        first = 0
        with hot.transaction() as cursor:
            claims, channels = self._claim(cursor, now, batch)
            if not claims:
                return result
            if hot.sqlite:
                # the only writer: the in-process runs at the head of the batch are run
                # and closed in this transaction, never claimed (what the round gives
                # back of them stays as it was); the rest is claimed
                first = self._in_process(claims, runs, walk)
                result.claimed = first - len(walk.released)
                walk.released = []
                if first < len(claims):
                    hot.take(cursor, [c["id"] for c in claims[first:]], self.name,
                             self._lease_until)
                if runs:
                    recorded = self._record_in(cursor, runs, [], now, result,
                                               locks=self._locks, claimed=False)
            result.claimed += len(claims) - first
        if recorded is not None:
            self._committed(*recorded)
        if first == len(claims):
            return result
        runs = []
        window = self.config.record_within
        since: float | None = None  # when the oldest unrecorded delivery began
        perf_counter = time.perf_counter
        for claim in claims[first:] if first else claims:
            run = self._take(claim, walk)
            if run is None:
                continue
            if not walk.deliver:
                runs.append(run)
                continue
            self._keep_lease()
            run.channels = channels.get(claim["id"])
            start = perf_counter()
            since = start if since is None else since
            self._deliver(run, now)
            end = perf_counter()
            run.seconds = end - start
            runs.append(run)
            if end - since >= window:
                self._record(runs, [], now, result)
                runs, since = [], None
        self._record(runs, walk.released, now, result)
        result.claimed -= len(walk.released)
        return result

    def _in_process(self, claims: list[dict[str, Any]], runs: list[_Run], walk: _Walk
                    ) -> int:
        """Take and run the claims at the head of ``claims`` whose action is in process
        (internal, or a plugin registered ``in_process``), adding them to ``runs``; return
        the index of the first claim that is not."""
        in_process = self.actions.in_process
        perf_counter = time.perf_counter
        for index, claim in enumerate(claims):
            if not in_process(claim["action"]):
                return index
            run = self._take(claim, walk)
            if run is None:
                continue
            if walk.deliver:
                start = perf_counter()
                self._deliver(run, walk.now, collect=False)
                run.seconds = perf_counter() - start
            runs.append(run)
        return len(claims)

    def _take(self, claim: dict[str, Any], walk: _Walk) -> _Run | None:
        """The run of a claim, or None if the round gives the claim back (the round is
        stopping, the claim is due after a recurring one's next occurrence, or a
        transition earlier in the round may move its project on: what follows for it
        waits for the next round, which sees where it went).

        Sets ``walk.deliver``: whether the run is an action to carry out now (else it is
        finished already, or internal and applied when recorded)."""
        walk.deliver = False
        pid = claim["project_id"]
        stop, horizon = walk.stop, walk.horizon
        if (stop is not None and stop()) or (horizon is not None and claim["due_at"] > horizon
                                             ) or pid in walk.moving:
            walk.released.append(claim)
            return None
        project = self._current(pid)
        run = self._prepare(claim, project)
        follow_up = run.follow_up
        if follow_up is None or project is None:
            return run
        run.project = project
        if run.recurring:
            upcoming = self._upcoming(run, project, walk.now)
            if upcoming is not None and (horizon is None or upcoming < horizon):
                walk.horizon = upcoming
        action = follow_up.action
        if action in INTERNAL:
            if action == "transition":
                walk.moving.add(pid)
            return run
        if isinstance(follow_up, IndicatorReminder) and run.journey is not None:
            skipped, run.at_risk = reminders.before_delivery(
                self.engine, follow_up, run.journey, project, claim["occurrence"], walk.now)
            if skipped is not None:
                run.outcome, run.detail = "skipped", skipped
                return run
        walk.deliver = True
        return run

    def _current(self, pid: int) -> ProjectRow | None:
        """The project as this daemon last read or recorded it.

        A round's commits keep the lock versions apart (most only add an event): the
        row is brought up to date only when it is used again.
        """
        row = self._read.get(pid)
        if row is not None and row.lock_version != self._locks[pid]:
            row = self._read[pid] = row._replace(lock_version=self._locks[pid])
        return row

    def _leased(self, until: datetime) -> None:
        """Note that what this daemon holds is leased until ``until``."""
        self._lease_until = until
        self._renew_at = until - timedelta(seconds=self.config.lease / 2)

    def _keep_lease(self) -> None:
        """Renew the lease of everything in hand once half of it has run."""
        if self.engine.now() >= self._renew_at:
            self.renew()

    def renew(self) -> None:
        """Extend the lease of every follow-up this daemon holds by a whole lease.

        Thread-safe: the daemon's keeper thread calls it while a delivery hangs.
        """
        until = self.engine.now() + timedelta(seconds=self.config.lease)
        with self.engine.hot.transaction() as cursor:
            followups.renew(self.engine.hot, cursor, self.name, until)
        self._leased(until)

    @staticmethod
    def _upcoming(run: _Run, project: ProjectRow, now: datetime) -> datetime | None:
        """When the run's next occurrence falls due, if that is already due.

        A round stops before any claim due after it, so that catching up runs every
        occurrence in due order (the next one is planned only when this one is recorded).
        """
        if run.follow_up is None or run.journey is None:
            return None
        due = run.follow_up.due(project.stage_entered_at, project.fields,
                                run.claim["occurrence"] + 1, run.journey)
        return due if due is not None and due <= now else None

    def _prepare(self, claim: dict[str, Any], project: ProjectRow | None) -> _Run:
        """The run of a claim: cancelled, failed, or pending with its follow-up found."""
        if project is None or project.visit != claim["visit"] or project.stage != claim["stage"]:
            return _Run(claim, "cancelled", "the project left the stage")
        if claim["attempts"] > MAX_ATTEMPTS:
            return _Run(claim, "failed",
                        f"gave up after {MAX_ATTEMPTS} attempts without a result")
        key = (project.journey_key, project.journey_version, project.stage, claim["spec"])
        found = self._specs.get(key)
        if found is None:
            journey = self.engine.journey(project.journey_key, project.journey_version)
            spec = next((f for f in journey.stages[project.stage].follow_ups
                         if f.name == claim["spec"]), None)
            if spec is None:
                return _Run(claim, "cancelled", f"{journey.ref} has no follow-up "
                            f"{claim['spec']!r} in stage {project.stage!r}")
            # a published version never changes; nor does the operator's config
            found = self._specs[key] = (spec, journey, self.config.language_for(journey),
                                        spec.recurring)
        return _Run(claim, "pending", "", *found)

    def _deliver(self, run: _Run, now: datetime, *, collect: bool = True) -> None:
        """Run a plugin or external action; its outcome (redacted by the registry) lands
        in ``run``. With ``collect``, the garbage collector runs as usual meanwhile (an
        in-process action is short: it runs with the collector paused, like the round's
        bookkeeping around it)."""
        follow_up, journey, claim = run.follow_up, run.journey, run.claim
        assert follow_up is not None
        assert journey is not None
        ctx = ActionContext(run.project, journey, follow_up, claim["occurrence"],
                            claim["due_at"], claim["idempotency_key"], self.config, now,
                            run.lang, dict(run.channels) if run.channels else {})
        collect = collect and self._paused
        if collect:  # the action's own garbage is collected as usual
            gc.enable()
        try:
            run.detail = self.actions.run(ctx)
            run.outcome = "done"
        except ActionFailed as exc:
            run.outcome, run.detail = "failed", str(exc)
        finally:
            if collect:
                gc.disable()
        if ctx.channels:
            redact = self.config.redact
            run.channels = {name: redact(said) for name, said in ctx.channels.items()}

    def _record(self, runs: list[_Run], released: list[dict[str, Any]], now: datetime,
                result: RoundResult) -> None:
        """Commit runs: the follow-ups still ours finished, their events, effects, plans.

        One transaction: the projects' rows are locked first (then follow-ups, the
        order every engine change takes them in, so a daemon and a person changing the
        same project never deadlock), each follow-up is finished only if this daemon
        still holds it (in the same statement, which says which ones it did), and only
        those get their event and internal effect.
        """
        with self.engine.hot.transaction() as cursor:
            recorded = self._record_in(cursor, runs, released, now, result)
        self._committed(*recorded)

    def _record_in(self, cursor: Any, runs: list[_Run], released: list[dict[str, Any]],
                   now: datetime, result: RoundResult, *,
                   locks: dict[int, int] | None = None, claimed: bool = True
                   ) -> tuple[list[_Run], _Batch]:
        """:meth:`_record` in the caller's transaction; return the runs recorded and their
        batch, for :meth:`_committed` once the transaction has committed.

        ``locks``: the projects' lock versions when the caller's transaction read them
        itself (the claim's, on SQLite), else they are read (and locked) here.
        ``claimed``: False for runs whose follow-ups this transaction read but never
        claimed (SQLite's in-process runs): they are closed straight from what they were."""
        hot = self.engine.hot
        pids = {r.claim["project_id"] for r in runs}
        if locks is None:
            locks = hot.locks(cursor, sorted(pids.union(c["project_id"] for c in released)))
        fresh = self._fresh(cursor, pids, locks)
        runs = self._finish(cursor, runs, fresh, now, result, claimed=claimed)
        batch = _Batch(fresh, locks, now)
        outcomes = result.outcomes
        info = log.isEnabledFor(logging.INFO)
        for run in runs:
            pid = run.claim["project_id"]
            if run.outcome == "pending":
                start = time.perf_counter()
                row = fresh[pid]
                if row.lock_version != batch.lock[pid]:
                    row = fresh[pid] = row._replace(lock_version=batch.lock[pid])
                self._internal(cursor, run, row, batch)
                run.seconds = time.perf_counter() - start
            if run.outcome != "cancelled" and pid in fresh:
                self._event(run, pid, batch)
                if run.at_risk and reminders.AT_RISK not in batch.rows[pid].flags:
                    assert isinstance(run.follow_up, IndicatorReminder)
                    batch.append(pid, {"kind": "flagged", "actor": SYSTEM.name,
                                       "payload": reminders.at_risk_payload(run.follow_up)},
                                 flags=sorted({*batch.rows[pid].flags, reminders.AT_RISK}))
                if run.recurring:
                    self._next(run, pid, batch)
            outcomes.append(self._log(run, info))
        result.count(run.outcome for run in runs)
        if released:
            self._release(cursor, released, batch)
        if not all(hot.update_many(cursor, group) for group in batch.updates()):
            raise BompaoError("a project changed while its row was locked")
        hot.append_events(cursor, batch.events)
        followups.save_channels(hot, cursor, [(r.channels, r.claim["id"]) for r in runs
                                              if r.channels])
        # a transition later in the batch may have moved a project on: what was planned
        # for the visit it left is not planned at all
        hot.plan(cursor, [plan for plan in batch.plans
                          if plan["visit"] == batch.rows[plan["project_id"]].visit])
        return runs, batch

    def _committed(self, runs: list[_Run], batch: _Batch) -> None:
        """After a recording commit: later deliveries of the round see the projects as they
        are now, and the engine's listeners hear of the changes."""
        self._read.update(batch.rows)
        self._locks.update(batch.lock)
        self._notify_listeners(runs)

    def _fresh(self, cursor: Any, pids: set[int], locks: dict[int, int]
               ) -> dict[int, ProjectRow]:
        """The projects as they are now: those whose lock version is still the one this
        daemon last saw as read, the others read again (in the recording transaction)."""
        known = self._locks
        fresh = {}
        stale = []
        for pid in pids:
            if pid in known and known[pid] == locks.get(pid):
                fresh[pid] = self._read[pid]
            elif pid in locks:
                stale.append(pid)
        if stale:
            fresh.update(self.engine.hot.read_many(cursor, sorted(stale)))
        return fresh

    def _finish(self, cursor: Any, runs: list[_Run], fresh: dict[int, ProjectRow],
                now: datetime, result: RoundResult, *, claimed: bool = True) -> list[_Run]:
        """Mark the runs' follow-ups done / failed / cancelled if still ours; return those.
        Unless ``claimed``, the follow-ups were read in this (SQLite write) transaction
        and are all ours.

        An internal action still to apply is cancelled if its project left the stage
        visit, else done (its gate refusing it is a done run too): its status is known
        before it is applied, later in the same transaction.
        """
        finishing: dict[tuple[str, str | None], list[int]] = {}
        for run in runs:
            if run.outcome == "pending":
                row = fresh.get(run.claim["project_id"])
                if row is None or row.visit != run.claim["visit"]:
                    run.outcome, run.detail = "cancelled", "the project left the stage"
            status = _STATUS[run.outcome]
            finishing.setdefault((status, run.detail if status == "failed" else None),
                                 []).append(run.claim["id"])
        if not claimed:
            self.engine.hot.close_due(cursor, now, finishing)
            return runs
        mine = followups.finish_owned(self.engine.hot, cursor, self.name, now, finishing)
        if len(mine) == len(runs):
            return runs
        result.lost += len(runs) - len(mine)
        return [r for r in runs if r.claim["id"] in mine]

    def _notify_listeners(self, runs: list[_Run]) -> None:
        """Call the engine's listeners for the committed changes the runs made."""
        from bompao.engine.engine import Project  # noqa: PLC0415 - engine imports us

        for run in runs:
            for kind, data in run.after:
                row = self._current(run.claim["project_id"])
                if kind == "gate_refused":
                    self.engine._emit(kind, **data)
                elif row is not None:
                    self.engine._emit(kind, project=Project.from_row(row), **data)

    def _release(self, cursor: Any, claims: list[dict[str, Any]], batch: _Batch) -> None:
        """Give back claims the round did not reach; those whose project has left the
        stage visit they belong to are cancelled instead of pending again."""
        hot = self.engine.hot
        held = hot.owned(cursor, [c["id"] for c in claims], self.name)
        claims = [c for c in claims if c["id"] in held]
        rows = {**hot.read_many(cursor, sorted({c["project_id"] for c in claims}
                                               - set(batch.rows)), lock=True), **batch.rows}
        back, gone = [], []
        for claim in claims:
            row = rows.get(claim["project_id"])
            if row is None or row.visit != claim["visit"]:
                gone.append(("cancelled", batch.now, None, claim["id"]))
            else:
                back.append(claim["id"])
        hot.finish(cursor, gone)
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
        """Append the run's ``follow_up`` event: what ran, its outcome, its key."""
        claim = run.claim
        due = claim["due_at"]
        iso = self._iso.get(due)
        if iso is None:  # a catch-up delivers many follow-ups due at the same time
            iso = self._iso[due] = due.isoformat()
        payload = {"follow_up": claim["id"], "spec": claim["spec"],
                   "occurrence": claim["occurrence"], "action": claim["action"],
                   "outcome": run.outcome, "detail": run.detail,
                   "idempotency_key": claim["idempotency_key"], "due_at": iso,
                   "daemon": self.name}
        if run.channels:
            payload["channels"] = run.channels
        # Batch.append without values, inline: one of these per run
        seq = batch.lock[project_id] + 1
        batch.lock[project_id] = seq
        batch.events.append({"kind": "follow_up", "actor": _SYSTEM, "from_stage": claim["stage"],
                             "payload": payload, "project_id": project_id, "seq": seq,
                             "at": batch.now})

    def _next(self, run: _Run, project_id: int, batch: _Batch) -> None:
        row = batch.rows[project_id]
        if run.follow_up is None or run.journey is None or row.visit != run.claim["visit"]:
            return
        found = next_row(run.journey, run.follow_up, project=project_id, visit=row.visit,
                         occurrence=run.claim["occurrence"], entered_at=row.stage_entered_at,
                         fields=row.fields, revision=batch.lock[project_id], now=batch.now)
        if found is not None:
            batch.plans.append(found)

    def _log(self, run: _Run, info: bool) -> dict[str, Any]:
        """The run's outcome line (logged as JSON when ``info``)."""
        line = {"follow_up": run.claim["id"], "project": run.claim["project_id"],
                "spec": run.claim["spec"], "occurrence": run.claim["occurrence"],
                "action": run.claim["action"], "outcome": run.outcome,
                "duration_ms": round(run.seconds * 1000, 2), "detail": run.detail,
                "daemon": self.name}
        if info:
            log.info(json.dumps(line, ensure_ascii=False))
        return line
