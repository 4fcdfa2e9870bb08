"""A bounded chaos run: workers, several daemons killed at random, then a whole-database audit.

Run from the repository root against PostgreSQL::

    python bench/chaos.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --seconds 60 --workers 4 --daemons 3 --projects 200 --seed 1
    python -m bench chaos --seconds 60      # the same (not part of plain ``python -m bench``)

The URL defaults to ``BOMPAO_TEST_POSTGRES_URL``. The run creates a schema of its own
(``chaos_XXXXXXXX``) and drops it at the end (``--keep-schema`` keeps it for a look;
``--no-schema`` uses the URL as it is, schema and all, and drops nothing).

What happens:

1. A local HTTP server (``http.server`` in a thread; real sockets) records every
   webhook POST with its ``Idempotency-Key`` and answers 200, or 503 now and then so
   the daemons' retries are exercised.
2. The ``chaos`` journey is published (versions 1 and 2): gates with ``all``, ``any``
   and ``not``, override roles, and short follow-ups of every kind: ``flag``,
   ``unflag``, ``notify`` (to the log and the local webhook), ``webhook``,
   ``transition`` (gated, and forced), ``every`` and ``at:`` ones. ``--projects``
   projects are created.
3. ``--workers`` worker processes (this script with ``--worker``) change random
   projects as fast as they can: set fields (dates that re-plan ``at:`` follow-ups
   included), add evidence, approve, assign, flag, advance (refusals expected),
   override, advance cohorts, migrate to version 2, create projects.
4. ``--daemons`` ``bompao scheduler run`` processes run the follow-ups, configured
   (``--config``) with a short poll, a short lease and the local webhook. Every
   ``--kill-every`` seconds (on average) one of them is killed with SIGKILL (one in
   four is stopped with SIGTERM instead, which must exit 0) and started again under
   a new name.
5. The daemons run on the real clock, which they do not let one move; instead the
   workers' clock stands ``LAG`` (2 days 1 hour) behind it, so ``after: 0..2 days``
   follow-ups and the first occurrences of ``every: 1 day`` ones fall due for the
   daemons as soon as they are planned.
6. At the end the workers stop, the daemons get SIGTERM, the leases of killed ones
   run out, and one ``bompao scheduler run --once`` catches up.

Then it checks, and prints what it checked:

- :func:`bompao.audit` over the whole database: no violation of any invariant;
- after the catch-up nothing is left running and nothing due before it is pending;
- webhooks, against what ``docs/operations.md`` promises (at-least-once delivery,
  every repeat carrying the same ``Idempotency-Key`` for the receiver to drop): every
  key received is the key of a follow-up that delivers to this endpoint, the body
  names the same key, project and occurrence; every follow-up recorded ``done`` that
  delivers to the webhook was acknowledged (answered 2xx) at least once under its
  key, and at most once per claim of it (``attempts``); and a key arrives at most
  ``attempts x (retries + 1)`` times: repeats come only from re-claims after a lost
  lease (a killed daemon) and from retries after a 503;
- the worker processes hit no unexpected error, SIGTERM'd daemons exited 0.

It exits 1 if anything is violated, and prints how to reproduce (the seed).
``--live-audit`` also audits once half-way, while workers and daemons run (each
batch of the audit reads one consistent snapshot). ``--logs DIR`` keeps the daemons'
logs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LAG = timedelta(days=2, hours=1)
"""How far the workers' clock stands behind the real clock the daemons run on."""
RETRIES = 4
"""Webhook retries after the first attempt (the sink answers 503 now and then)."""
SINK_FAILURE_RATE = 0.05
PARTNERS = ("cmu", "kku", "psu", None)
COACHES = ("Malee", "Niran", "Somchai", "Anong", "Kanya")
BOSSES = ("Pranee", "Wichai")

CHAOS_V1 = """\
journey: chaos
version: 1
title: {en: Chaos}
timezone: Asia/Bangkok
roles: [participant, coach, boss]
override_roles: [boss]
fields:
  score: {type: int, default: 0}
  note: {type: string, default: ""}
  demo_day: {type: date}
evidence:
  plan: {title: {en: A plan}}
  report: {title: {en: A report}}
stages:
  idea:
    initial: true
    follow_ups:
      - {id: hello, after: 0 days, action: webhook, endpoint: sink}
      - {id: daily, every: 1 day, action: notify, to: [coach]}
      - {id: risk, after: 1 day, action: flag, flag: at_risk}
  build:
    follow_ups:
      - {id: clear, after: 0 days, action: unflag, flag: at_risk}
      - {id: ping, after: 1 day, every: 1 day, action: webhook, endpoint: sink}
      - {id: auto_review, after: 1 day, action: transition, trigger: review}
      - {id: demo, at: demo_day, action: webhook, endpoint: sink}
  review:
    follow_ups:
      - {id: nudge, after: 0 days, action: notify, to: [coach, boss]}
      - {id: bounce, after: 2 days, action: transition, trigger: rework, force: true}
  dropped:
    follow_ups:
      - {id: dropped_note, after: 0 days, action: webhook, endpoint: sink}
  done: {final: true}
transitions:
  - trigger: start
    from: idea
    to: build
    gate:
      all:
        - expr: "score >= 5"
          says: {en: A score of at least 5}
        - evidence: plan
        - any:
            - approval: {role: coach}
            - expr: "score >= 20"
  - trigger: review
    from: build
    to: review
    gate:
      all:
        - expr: "score >= 10"
        - evidence: report
  - trigger: rework
    from: review
    to: build
    gate: {not: {expr: "score >= 15"}}
  - trigger: finish
    from: review
    to: done
    roles: [boss]
    gate:
      all:
        - approval: {role: coach, count: 2}
        - expr: "score >= 15"
  - trigger: drop
    from: [idea, build, review]
    to: dropped
    roles: [boss]
  - trigger: revive
    from: dropped
    to: idea
"""
"""Version 1 of the journey the chaos runs on."""

CHAOS_V2 = CHAOS_V1.replace("version: 1", "version: 2").replace(
    "      - {id: risk, after: 1 day, action: flag, flag: at_risk}\n",
    "      - {id: risk, after: 1 day, action: flag, flag: at_risk}\n"
    "      - {id: welcome_v2, after: 0 days, action: webhook, endpoint: sink}\n").replace(
    '  note: {type: string, default: ""}\n',
    '  note: {type: string, default: ""}\n  region: {type: string, default: "north"}\n')
"""Version 2: a new field, and a new follow-up in ``idea`` (planned on migration)."""

TRANSIENT = ("DeadlockDetected", "SerializationFailure")
"""Driver errors a worker counts apart as ``deadlock``: each one **fails the run**.

The engine takes row locks in one order (``advance_many`` sorts the ids) and turns a
deadlock or serialization failure PostgreSQL still reports into a ``ConflictError``
(nothing written, retry), so a raw ``DeadlockDetected`` reaching a caller is an
engine bug, not a note.
"""

WEBHOOK_SPECS = {"hello", "ping", "demo", "dropped_note", "welcome_v2"}
"""Follow-ups that POST to the sink (``notify`` ones do too, through the channel)."""


def lagging_now() -> datetime:
    """The workers' clock."""
    return datetime.now(UTC) - LAG


# the webhook sink ----------------------------------------------------------------------


@dataclass
class Delivery:
    """One POST the sink received."""

    key: str | None
    body: Any
    status: int


@dataclass
class Sink:
    """A real HTTP server on 127.0.0.1 recording webhook POSTs."""

    seed: int
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        """Serve in a thread; return the URL to configure."""
        sink = self
        rng = random.Random(self.seed)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with sink.lock:
                    fail = rng.random() < SINK_FAILURE_RATE
                    delay = rng.uniform(0, 0.004)
                status = 503 if fail else 200
                time.sleep(delay)
                with sink.lock:
                    sink.received.append(Delivery(self.headers.get("Idempotency-Key"), body,
                                                  status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if fail else b"ok")

            def log_message(self, *_: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, name="sink", daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self.received)


# the database --------------------------------------------------------------------------


def own_schema(base: str) -> tuple[str, str, Any]:
    """Create a fresh schema; return (its URL, its name, a function that drops it)."""
    import sqlalchemy as sa  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"chaos_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    rendered = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    return rendered, schema, drop


def setup(url: str, projects: int, rng: random.Random) -> list[int]:
    """Create the schema, publish the journey, create the projects."""
    from bompao.engine import Engine  # noqa: PLC0415

    engine = Engine.from_url(url, clock=lagging_now)
    try:
        engine.publish(CHAOS_V1)
        engine.publish(CHAOS_V2)
        ids = []
        for n in range(projects):
            project = engine.create_project(
                "chaos@1", f"Project {n}", partner=rng.choice(PARTNERS),
                cohort=f"2027{rng.choice('AB')}", fields={"score": rng.randint(0, 12)})
            engine.assign(project.id, role="coach", person=rng.choice(COACHES))
            ids.append(project.id)
        return ids
    finally:
        engine.close()


# workers -------------------------------------------------------------------------------


class Worker:
    """One worker process: random changes to random projects until its deadline."""

    def __init__(self, url: str, number: int, seed: int, until: float) -> None:
        from bompao.engine import Engine  # noqa: PLC0415

        self.engine = Engine.from_url(url, clock=lagging_now, create=False)
        self.number = number
        self.rng = random.Random(seed)
        self.until = until
        self.stats: Counter[str] = Counter()
        self.errors: list[str] = []
        self.transient: list[str] = []
        self.ids: list[int] = []
        self.refreshed = 0.0
        self.stopping = False

    def run(self) -> int:
        """Work until the deadline (or SIGTERM); print a JSON summary line."""
        from bompao.errors import (  # noqa: PLC0415
            ConflictError,
            GateRefused,
            NotFound,
            PermissionDenied,
            TriggerNotOffered,
        )

        signal.signal(signal.SIGTERM, self._stop)
        operations = {"set": self.set_fields, "evidence": self.evidence,
                      "approve": self.approve, "assign": self.assign,
                      "advance": self.advance, "override": self.override,
                      "flag": self.flag, "cohort": self.cohort, "migrate": self.migrate,
                      "create": self.create}
        weights = {"set": 20, "evidence": 12, "approve": 14, "assign": 3, "advance": 30,
                   "override": 4, "flag": 4, "cohort": 2, "migrate": 2, "create": 2}
        names = list(operations)
        chances = [weights[n] for n in names]
        while not self.stopping and time.time() < self.until:
            if time.monotonic() - self.refreshed > 2 or not self.ids:
                self.ids = self.engine.project_ids()
                self.refreshed = time.monotonic()
            name = self.rng.choices(names, chances)[0]
            try:
                outcome = operations[name]()
            except GateRefused:
                outcome = "refused"
            except PermissionDenied:
                outcome = "denied"
            except TriggerNotOffered:
                outcome = "stale"  # the trigger left with the stage another process changed
            except ConflictError:
                outcome = "conflict"
            except NotFound:
                outcome = "stale"  # the trigger left with the stage another process changed
            except Exception as exc:  # every unexpected error is reported
                if type(exc).__name__ in TRANSIENT:
                    outcome = "deadlock"  # a raw driver error, not a bompao one: see TRANSIENT
                    if len(self.transient) < 3:
                        self.transient.append(f"{name}: {type(exc).__module__}."
                                              f"{type(exc).__name__}: "
                                              f"{str(exc).splitlines()[0]}")
                else:
                    outcome = "error"
                    if len(self.errors) < 5:
                        self.errors.append(traceback.format_exc())
            self.stats[f"{name}:{outcome}"] += 1
        self.engine.close()
        print(json.dumps({"worker": self.number, "stats": dict(self.stats),
                          "errors": self.errors, "transient": self.transient}), flush=True)
        return 1 if self.errors else 0

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def _project(self) -> Any:
        return self.engine.get(self.rng.choice(self.ids))

    def set_fields(self) -> str:
        project = self._project()
        values: dict[str, Any] = {"score": self.rng.randint(0, 25)}
        roll = self.rng.random()
        if roll < 0.3:  # a demo day that is due at once, or in a few days
            day = lagging_now().date() + timedelta(days=self.rng.randint(-1, 4))
            values["demo_day"] = day.isoformat()
        elif roll < 0.4:
            values["note"] = self.rng.choice(("", "on track", "needs help"))
        self.engine.set_fields(project.id, values)
        return "ok"

    def evidence(self) -> str:
        from bompao.engine import Actor  # noqa: PLC0415

        project = self._project()
        self.engine.add_evidence(project.id, self.rng.choice(("plan", "report")),
                                 url=f"https://example.org/{self.rng.randint(1, 999)}",
                                 actor=Actor(self.rng.choice(COACHES)))
        return "ok"

    def approve(self) -> str:
        project = self._project()
        self.engine.approve(project.id, role="coach", by=self.rng.choice(COACHES))
        return "ok"

    def assign(self) -> str:
        project = self._project()
        role, people = self.rng.choice((("coach", COACHES), ("boss", BOSSES)))
        self.engine.assign(project.id, role=role, person=self.rng.choice(people))
        return "ok"

    def _actor(self) -> Any:
        from bompao.engine import Actor  # noqa: PLC0415

        if self.rng.random() < 0.25:
            return Actor(self.rng.choice(BOSSES), roles={"boss"})
        return Actor(self.rng.choice(COACHES), roles={"coach"})

    def advance(self) -> str:
        project = self._project()
        triggers = self.engine.journey(project.journey, project.version).triggers(
            project.stage)
        if not triggers:
            return "final"
        self.engine.advance(project.id, self.rng.choice(triggers), self._actor())
        return "moved"

    def override(self) -> str:
        from bompao.engine import Actor  # noqa: PLC0415

        project = self._project()
        triggers = self.engine.journey(project.journey, project.version).triggers(
            project.stage)
        if not triggers:
            return "final"
        self.engine.advance(project.id, self.rng.choice(triggers),
                            Actor(self.rng.choice(BOSSES), roles={"boss"}), override=True,
                            reason="chaos says so")
        return "moved"

    def flag(self) -> str:
        project = self._project()
        self.engine.flag(project.id, self.rng.choice(("watch", "at_risk")),
                         on=self.rng.random() < 0.6)
        return "ok"

    def cohort(self) -> str:
        """Advance two to four projects of one stage together, in a random order."""
        from bompao.engine import Actor  # noqa: PLC0415

        project = self._project()
        triggers = self.engine.journey(project.journey, project.version).triggers(
            project.stage)
        if not triggers:
            return "final"
        peers = [p.id for p in self.engine.list_projects(journey="chaos", stage=project.stage,
                                                         limit=50)]
        chosen = self.rng.sample(peers, min(len(peers), self.rng.randint(2, 4)))
        self.engine.advance_many(chosen, self.rng.choice(triggers), Actor(
            self.rng.choice(BOSSES), roles={"coach", "boss"}))
        return "moved"

    def migrate(self) -> str:
        project = self._project()
        if project.version != 1:
            return "already"
        self.engine.migrate(project.id, 2)
        return "moved"

    def create(self) -> str:
        project = self.engine.create_project(
            self.rng.choice(("chaos@1", "chaos@2")), f"Late {self.number}-{self.rng.random()}",
            partner=self.rng.choice(PARTNERS), fields={"score": self.rng.randint(0, 25)})
        self.ids.append(project.id)
        return "ok"


# daemons -------------------------------------------------------------------------------


class DaemonProcess:
    """A ``bompao scheduler run`` subprocess with its logs in files."""

    def __init__(self, url: str, config: Path, logs: Path, slot: int, generation: int) -> None:
        self.name = f"chaos-d{slot}-g{generation}"
        self.slot = slot
        self.err = logs / f"{self.name}.err"
        self.out = logs / f"{self.name}.out"
        with self.err.open("wb") as err, self.out.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bompao.cli", "--db", url, "--config", str(config),
                 "scheduler", "run"], stdout=out, stderr=err,
                env={**os.environ, "BOMPAO_DAEMON_NAME": self.name})

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(30)

    def terminate(self, timeout: float = 60) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
            return -999

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def started(self) -> bool:
        """Whether it has logged its start (and so handles SIGTERM)."""
        return " started (poll every " in self.stderr()

    def wait_started(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive() and not self.started():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return self.started()


def write_config(path: Path, sink_url: str, *, lease: float, batch: int) -> Path:
    path.write_text(textwrap.dedent(f"""\
        [scheduler]
        poll_interval = 0.2
        lease = {lease}
        batch = {batch}

        [notify]
        channels = ["log", "webhook:sink"]

        [webhooks.sink]
        url = "{sink_url}"
        timeout = 5
        retries = {RETRIES}
        backoff = 0.02
        """), encoding="utf-8")
    return path


# the run -------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the run did and what the checks found."""

    kills: int = 0
    stops: int = 0
    restarts: int = 0
    bad_stops: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str, problem: str = "") -> None:
        self.checks.append(f"  [{'ok' if ok else 'FAILED'}] {what}")
        if not ok:
            self.problems.append(f"{what}: {problem}" if problem else what)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/chaos.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (default: $BOMPAO_TEST_POSTGRES_URL)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of the chaos (default 60, 15 with --quick)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default 4, 2 with --quick)")
    parser.add_argument("--daemons", type=int, default=3,
                        help="daemons running at a time (default %(default)s)")
    parser.add_argument("--projects", type=int, default=None,
                        help="projects created first (default 200, 40 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="the short form CI runs ('python -m bench chaos --quick')")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--kill-every", type=float, default=3.0,
                        help="mean seconds between daemon kills (default %(default)s)")
    parser.add_argument("--lease", type=float, default=3.0,
                        help="the daemons' lease in seconds (default %(default)s)")
    parser.add_argument("--batch", type=int, default=20,
                        help="the daemons' batch size (default %(default)s)")
    parser.add_argument("--keep-schema", action="store_true",
                        help="keep the schema the run created (its name is printed)")
    parser.add_argument("--no-schema", action="store_true",
                        help="use the URL as it is: create no schema, drop nothing")
    parser.add_argument("--logs", type=Path, default=None,
                        help="keep the daemons' logs and configuration in this directory")
    parser.add_argument("--live-audit", action="store_true",
                        help="also audit once half-way, while everything runs")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--until", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name, full, quick in (("seconds", 60.0, 15.0), ("workers", 4, 2), ("projects", 200, 40)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def main(argv: list[str]) -> None:
    """Run the chaos (or, with the hidden ``--worker N``, one worker); exit 1 on a violation."""
    args = parse(argv)
    if args.worker is not None:
        code = Worker(args.url, args.worker, args.seed, args.until).run()
        if code:
            raise SystemExit(code)
        return
    url = args.url or os.environ.get("BOMPAO_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("error: give --url or set BOMPAO_TEST_POSTGRES_URL (PostgreSQL)")
    if not url.startswith(("postgresql", "postgres")):
        raise SystemExit("error: the chaos run needs PostgreSQL (several daemons share it)")
    if args.workers < 1 or args.daemons < 1 or args.projects < 1 or args.seconds <= 0:
        raise SystemExit("error: --workers, --daemons, --projects and --seconds must be > 0")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    logging.getLogger("bompao").setLevel(logging.WARNING)
    drop = None
    schema = "(as given)"
    if not args.no_schema:
        url, schema, drop = own_schema(url)
    try:
        code = run(args, url, schema, seed)
    finally:
        if drop is not None and not args.keep_schema:
            drop()
        elif drop is not None:
            print(f"schema kept: {schema}")
    if code:
        raise SystemExit(code)


def run(args: argparse.Namespace, url: str, schema: str, seed: int) -> int:
    rng = random.Random(seed)
    started = time.monotonic()
    print(f"chaos: {args.seconds:g} s, {args.workers} workers, {args.daemons} daemons, "
          f"{args.projects} projects, seed {seed}, schema {schema}", flush=True)
    sink = Sink(seed)
    sink_url = sink.start()
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="bompao-chaos-") as tmp:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        config = write_config(logs / "chaos.toml", sink_url, lease=args.lease,
                              batch=args.batch)
        ids = setup(url, args.projects, rng)
        setup_s = time.monotonic() - started
        here = str(Path(__file__).resolve())
        until = time.time() + args.seconds
        workers: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
        every: list[DaemonProcess] = []
        try:
            for n in range(args.workers):
                out_path, err_path = logs / f"worker-{n}.out", logs / f"worker-{n}.err"
                with out_path.open("wb") as out, err_path.open("wb") as err:
                    workers.append((subprocess.Popen(
                        [sys.executable, here, "--worker", str(n), "--url", url, "--seed",
                         str(seed * 1000 + n), "--until", str(until)],
                        stdout=out, stderr=err), out_path, err_path))
            daemons = [DaemonProcess(url, config, logs, slot, 0)
                       for slot in range(args.daemons)]
            every.extend(daemons)
            live = chaos(args, rng, url, config, logs, daemons, every, tally)
            summaries = [worker_summary(*worker) for worker in workers]
            # wind down: one daemon killed (its claims are left for the catch-up), the
            # others stopped with SIGTERM
            last_kill = rng.randrange(len(daemons))
            for slot, daemon in enumerate(daemons):
                if slot == last_kill:
                    daemon.kill()
                    tally.kills += 1
                    continue
                if not daemon.wait_started(60):
                    tally.bad_stops.append(f"{daemon.name} did not start: "
                                           f"{daemon.stderr()[-1000:]}")
                code = daemon.terminate(60)
                tally.stops += 1
                if code != 0:
                    tally.bad_stops.append(f"{daemon.name} exited {code} after SIGTERM")
        finally:  # nothing outlives the run, whatever went wrong
            for worker, _, _ in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait(30)
            for daemon in every:
                daemon.kill()
        time.sleep(args.lease + 0.5)  # the killed daemons' leases run out
        catch_up_at = datetime.now(UTC)
        once = subprocess.run(
            [sys.executable, "-m", "bompao.cli", "--json", "--db", url, "--config",
             str(config), "scheduler", "run", "--once"], capture_output=True, text=True,
            timeout=300, env={**os.environ, "BOMPAO_DAEMON_NAME": "chaos-catch-up"},
            check=False)
        catch_up = json.loads(once.stdout) if once.returncode == 0 else {}
        run_s = time.monotonic() - started
        failures = [d for d in every if "round failed" in d.stderr()]
        report = report_and_check(url, sink, tally, summaries, catch_up, once, catch_up_at,
                                  live, failures)
        sink.stop()
    print(f"time: setup {setup_s:.1f} s, chaos {args.seconds:g} s, total {run_s:.1f} s; "
          f"{len(ids)} projects created first")
    print(report)
    if tally.problems:
        print(f"RESULT: FAILED, {len(tally.problems)} problem(s); reproduce with "
              f"--seed {seed} (timing makes runs differ)")
        for problem in tally.problems:
            print(f"  - {problem}")
        return 1
    print("RESULT: OK, 0 violations")
    return 0


def chaos(args: argparse.Namespace, rng: random.Random, url: str,
          config: Path, logs: Path, daemons: list[DaemonProcess], every: list[DaemonProcess],
          tally: Tally) -> Any:
    """Kill (or stop) a random daemon now and then and start it again, until the end;
    restart any daemon that exits by itself (and report it). The live audit, if any."""
    live = None
    generation = 0
    start = time.monotonic()
    end = start + args.seconds
    next_kill = start + rng.expovariate(1 / args.kill_every)
    halfway = start + args.seconds / 2
    while time.monotonic() < end:
        time.sleep(0.05)
        now = time.monotonic()
        if args.live_audit and live is None and now >= halfway:
            live = live_audit(url)
        for slot, daemon in enumerate(daemons):
            if not daemon.alive():  # nobody killed it
                tally.crashes.append(f"{daemon.name} exited {daemon.process.returncode} by "
                                     f"itself: {_last_error(daemon.stderr())}")
                generation += 1
                daemons[slot] = DaemonProcess(url, config, logs, slot, generation)
                every.append(daemons[slot])
                tally.restarts += 1
        if now < next_kill:
            continue
        next_kill = now + rng.expovariate(1 / args.kill_every)
        slot = rng.randrange(args.daemons)
        victim = daemons[slot]
        if rng.random() < 0.25 and victim.started():  # before that, SIGTERM kills
            code = victim.terminate(30)
            tally.stops += 1
            if code != 0:
                tally.bad_stops.append(f"{victim.name} exited {code} after SIGTERM")
        else:
            victim.kill()
            tally.kills += 1
        generation += 1
        daemons[slot] = DaemonProcess(url, config, logs, slot, generation)
        every.append(daemons[slot])
        tally.restarts += 1
    return live


def worker_summary(worker: subprocess.Popen[bytes], out_path: Path, err_path: Path
                   ) -> dict[str, Any]:
    """Wait for a worker (it stops at the deadline) and read its JSON summary line."""
    try:
        worker.wait(60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(30)
    summary = None
    for line in out_path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            summary = json.loads(line)
    if summary is None:
        err = err_path.read_text(encoding="utf-8", errors="replace")
        summary = {"stats": {}, "errors": [
            f"worker exited {worker.returncode} without a summary: {err[-2000:]}"]}
    return summary


def live_audit(url: str) -> Any:
    from bompao import audit  # noqa: PLC0415
    from bompao.storage import Database  # noqa: PLC0415

    db = Database.from_url(url)
    try:
        return audit(db)
    finally:
        db.dispose()


def report_and_check(url: str, sink: Sink, tally: Tally, summaries: list[dict[str, Any]],
                     catch_up: dict[str, Any], once: Any, catch_up_at: datetime,
                     live: Any, failures: list[DaemonProcess]) -> str:
    import sqlalchemy as sa  # noqa: PLC0415

    from bompao import audit  # noqa: PLC0415
    from bompao.storage import Database  # noqa: PLC0415
    from bompao.storage.tables import events, follow_ups, projects  # noqa: PLC0415

    lines: list[str] = []
    stats: Counter[str] = Counter()
    errors: list[str] = []
    transient: list[str] = []
    for summary in summaries:
        stats.update(summary.get("stats", {}))
        errors.extend(summary.get("errors", []))
        transient.extend(summary.get("transient", []))
    ops = sum(stats.values())

    def total(outcome: str) -> int:
        return sum(n for k, n in stats.items() if k.endswith(f":{outcome}"))

    by_op = Counter[str]()
    for key, n in stats.items():
        by_op[key.split(":")[0]] += n
    lines.append(f"workers: {len(summaries)} processes, {ops} operations ("
                 + ", ".join(f"{k} {v}" for k, v in sorted(by_op.items())) + ")")
    lines.append(f"  outcomes: moved {total('moved')} (overrides "
                 f"{stats['override:moved']}, cohorts {stats['cohort:moved']}, migrations "
                 f"{stats['migrate:moved']}), refusals {total('refused')}, denied "
                 f"{total('denied')}, conflicts {total('conflict')}, stale {total('stale')}, "
                 f"deadlocks {total('deadlock')}, errors {total('error')}")
    lines.append(f"daemons: {tally.kills} killed (SIGKILL), {tally.stops} stopped (SIGTERM), "
                 f"{tally.restarts} restarted")
    db = Database.from_url(url)
    try:
        with db.begin(write=False) as conn:
            project_count = conn.scalar(sa.select(sa.func.count()).select_from(projects))
            statuses = Counter({r[0]: int(r[1]) for r in conn.execute(
                sa.select(follow_ups.c.status, sa.func.count()).group_by(follow_ups.c.status))})
            advanced: Counter[bool] = Counter()
            for actor, count in conn.execute(
                    sa.select(events.c.actor, sa.func.count())
                    .where(events.c.kind == "advanced").group_by(events.c.actor)):
                advanced[actor == "system"] += int(count)
            outcomes: Counter[str] = Counter()
            runs_by_daemon: Counter[str] = Counter()
            for payload in conn.execute(sa.select(events.c.payload).where(
                    events.c.kind == "follow_up")).scalars():
                outcomes[str(payload.get("outcome"))] += 1
                runs_by_daemon[str(payload.get("daemon", "")).rsplit("-g", 1)[0]] += 1
            rows = {r.idempotency_key: r for r in conn.execute(sa.select(
                follow_ups.c.id, follow_ups.c.project_id, follow_ups.c.spec,
                follow_ups.c.occurrence, follow_ups.c.action, follow_ups.c.status,
                follow_ups.c.attempts, follow_ups.c.idempotency_key))}
            left_running = statuses["running"]
            left_due = conn.scalar(sa.select(sa.func.count()).select_from(follow_ups).where(
                follow_ups.c.status == "pending", follow_ups.c.due_at <= catch_up_at))
        ran = sum(outcomes.values())
        lines.append(f"projects: {project_count}; transitions: {advanced[False]} by workers, "
                     f"{advanced[True]} by follow-ups")
        lines.append(f"follow-ups run: {ran} (" + ", ".join(
            f"{k} {v}" for k, v in sorted(outcomes.items())) + "); by daemon: "
            + ", ".join(f"{k} {v}" for k, v in sorted(runs_by_daemon.items())))
        lines.append("follow-ups now: " + ", ".join(
            f"{k} {v}" for k, v in sorted(statuses.items())))
        lines.append("catch-up (scheduler run --once): " + (", ".join(
            f"{k} {catch_up[k]}" for k in ("claimed", "done", "failed", "refused", "cancelled",
                                           "lost")) if catch_up else "FAILED"))
        deliveries = sink.deliveries()
        keys = Counter(d.key for d in deliveries)
        acknowledged = {d.key for d in deliveries if 200 <= d.status < 300}
        repeated = {k: n for k, n in keys.items() if n > 1}
        refused = sum(1 for d in deliveries if d.status != 200)
        lines.append(f"webhooks received: {len(deliveries)} ({refused} answered 503), "
                     f"{len(keys)} distinct keys, {len(repeated)} keys repeated")
        started = time.monotonic()
        report = audit(db)
        audit_s = time.monotonic() - started
    finally:
        db.dispose()
    c = report.checked
    lines.append(f"audit: {c['projects']} projects, {c['events']} events, {c['transitions']} "
                 f"gated transitions, {c['overrides']} overrides, {c['follow_ups']} follow-ups, "
                 f"{c['pending']} pending, {c['runs']} runs checked in {audit_s:.1f} s; "
                 f"{report.violation_count} violations, {report.warning_count} warnings")
    lines.append("checks:")

    tally.check(report.ok and c["projects"] == project_count,
                f"audit of the whole database: invariants {', '.join(_invariants())}",
                f"{report.violation_count} violations:\n" + report.summary())
    if live is not None:
        tally.check(live.ok, f"audit half-way, while everything ran ({live.checked['projects']}"
                             " projects)", live.summary())
    tally.check(once.returncode == 0, "the catch-up run exits 0", once.stderr[-2000:])
    tally.check(left_running == 0, "nothing left running after the catch-up",
                f"{left_running} still running")
    tally.check(left_due == 0, "nothing due before the catch-up left pending",
                f"{left_due} pending")
    tally.check(not errors, "workers hit no unexpected error",
                f"{len(errors)} errors; first:\n{errors[0] if errors else ''}")
    tally.check(not tally.bad_stops, "every SIGTERM'd daemon exited 0",
                "; ".join(tally.bad_stops))
    tally.check(not tally.crashes, "no daemon exited unless killed or stopped",
                "; ".join(tally.crashes[:5]))
    notes = []
    if failures:  # documented: such a round is retried at the next poll
        notes.append(f"  {len(failures)} daemon(s) had a round fail as a whole (retried at the "
                     "next poll, as documented): " + "; ".join(
                         f"{d.name}: {_last_error(d.stderr())}" for d in failures[:5]))
    tally.check(not transient and not total("deadlock"),
                "no worker operation deadlocked (a deadlock or serialization failure "
                "reaches callers as a ConflictError)",
                f"{total('deadlock')} operation(s) got a raw driver error instead of a "
                f"ConflictError: {transient[0] if transient else ''}")
    # webhooks: at-least-once, each repeat under the same key (docs/operations.md §4)
    delivering = {k for k, r in rows.items() if r.action == "notify" or r.spec in WEBHOOK_SPECS}
    unknown = [k for k in keys if k not in delivering]
    tally.check(not unknown, f"every Idempotency-Key received ({len(keys)}) is a key of a "
                             "follow-up that delivers to this webhook",
                f"unknown keys {unknown[:5]}")
    mismatched = []
    for d in deliveries:
        row = rows.get(d.key or "")
        body = d.body if isinstance(d.body, dict) else {}
        if row is not None and (body.get("idempotency_key") != d.key or body.get(
                "project", {}).get("id") != row.project_id or body.get("follow_up", {}).get(
                "occurrence") != row.occurrence or body.get("follow_up", {}).get(
                "name") != row.spec):
            mismatched.append(d.key)
    tally.check(not mismatched, "each body names its header's key, project, follow-up and "
                                "occurrence", f"{len(mismatched)}: {mismatched[:5]}")
    done_delivering = [k for k in delivering if rows[k].status == "done"]
    missing = [k for k in done_delivering if k not in acknowledged]
    tally.check(not missing, f"every follow-up done that delivers to the webhook "
                             f"({len(done_delivering)}) was acknowledged under its key",
                f"{len(missing)} never acknowledged, e.g. {missing[:5]}")
    acks = Counter(d.key for d in deliveries if 200 <= d.status < 300)
    doubled = [(k, n, rows[k].attempts) for k, n in acks.items()
               if k in rows and n > rows[k].attempts]
    tally.check(not doubled, "a key is acknowledged at most once per claim of its follow-up "
                             f"({sum(1 for n in acks.values() if n > 1)} acknowledged more "
                             "than once, each after a re-claim)",
                f"{doubled[:5]} (key, acknowledged, attempts)")
    too_many = [(k, n, rows[k].attempts) for k, n in keys.items()
                if k in rows and n > rows[k].attempts * (RETRIES + 1)]
    reclaimed = sum(1 for k in repeated if k in rows and rows[k].attempts > 1)
    tally.check(not too_many, f"a key arrives at most attempts x {RETRIES + 1} times "
                              f"({len(repeated)} repeated: {reclaimed} re-claimed after a "
                              f"kill or lost lease, {len(repeated) - reclaimed} retried "
                              "after a 503)",
                f"{too_many[:5]} (key, received, attempts)")
    lines.extend(tally.checks)
    if notes:
        lines.append("notes (engine bugs seen, no invariant broken):")
        lines.extend(notes)
    return "\n".join(lines)


def _invariants() -> list[str]:
    from bompao.engine.audit import INVARIANTS  # noqa: PLC0415

    return list(INVARIANTS)


def _last_error(text: str) -> str:
    found = re.findall(r"^\w[\w.]*(?:Error|Exception|Detected)\b.*$", text, re.MULTILINE)
    return found[-1] if found else "round failed"


if __name__ == "__main__":
    main(sys.argv[1:])
