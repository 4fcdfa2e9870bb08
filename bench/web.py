"""Advances through the HTTP API against the same advances through the library.

Run from the repository root: ``python -m bench web [--quick] [--postgres URL]
[--access-log] [--against ROOT]`` (or ``python bench/web.py``). A real ``bompao serve``
(uvicorn, in its own process) and :data:`CLIENTS` concurrent clients (asyncio tasks,
each with its own keep-alive connection and its own projects, speaking HTTP/1.1 in a few
lines of asyncio so the load generator takes little CPU) post
``/api/v1/projects/{id}/advance`` with a bearer token; the baseline is :data:`CLIENTS`
threads calling ``Engine.advance`` on one shared engine in one process, on the same
database with the same settings. Rounds alternate (API, library, API, ...) so a burst
of load on this shared machine falls on both; the
medians are compared. ``--against ROOT`` instead runs this code's server and the one of
the bompao package under ``ROOT`` (an export of other code) side by side on SQLite and
compares their server CPU per API advance, rounds alternating.

On PostgreSQL (``--postgres URL`` or ``BOMPAO_TEST_POSTGRES_URL``) the server runs
with two workers, in a fresh schema dropped afterwards.

The clients run on the same machine as the server, so they take CPU from it: the ratio
is a floor of what a server with its own cores would do.

The same server then renders the cohort board (``GET /``, signed in as a program manager
who sees every project) with :data:`BOARD_PROJECTS` projects in the database, one
request at a time: its median response time on the same machine is the server time to
within a millisecond.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _table import Row, postgres_schema, print_table

CLIENTS = 20
PER_CLIENT = 4
"""Projects per client: each client advances only its own, so no two collide."""
BOARD_PROJECTS = 1000
"""Projects in the database when the cohort board is rendered."""
BOARD_RENDERS = 7
TARGETS = {"ratio": 0.5, "p99_ms": 50.0, "board_ms": 150.0}
BOARD_USER = ("board", "board-bench-" + "9" * 16)
JOURNEY = """
journey: bench-web
version: 1
fields: {n: {type: int, default: 5}}
stages:
  a: {initial: true}
  b: {}
transitions:
  - {trigger: go, from: a, to: b, gate: {expr: "n > 1"}}
  - {trigger: back, from: b, to: a, gate: {expr: "n > 1"}}
"""
SECRET = "bench-web-secret-" + "7" * 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` and its children (the workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.is_file():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def prepare(url: str) -> tuple[list[list[int]], str]:
    """The database at ``url`` with the bench journey, each client's projects and a
    token for a user of every partner: (project ids per client, token)."""
    from argon2 import PasswordHasher  # noqa: PLC0415

    from bompao.engine import Engine  # noqa: PLC0415
    from bompao.web.accounts import Accounts  # noqa: PLC0415

    engine = Engine.from_url(url)
    try:
        engine.init()
        engine.publish(JOURNEY)
        ids = [[engine.create_project("bench-web", f"c{c}p{i}").id for i in range(PER_CLIENT)]
               for c in range(CLIENTS)]
        for n in range(BOARD_PROJECTS - CLIENTS * PER_CLIENT):  # the board's other cards
            engine.create_project("bench-web", f"board project {n}",
                                  cohort=f"2026-{n % 4 + 1}")
        accounts = Accounts(engine.db, hasher=PasswordHasher(time_cost=1, memory_cost=8192,
                                                             parallelism=1))
        accounts.add_user("bench", "Bench Client", secrets.token_urlsafe(16),
                          ["program_manager"])
        _, token = accounts.create_token("bench")
        accounts.add_user(BOARD_USER[0], "Board Reader", BOARD_USER[1], ["program_manager"])
    finally:
        engine.close()
    return ids, token


@contextmanager
def serving(url: str, workers: int, folder: Path, options: tuple[str, ...] = ()
            ) -> Iterator[tuple[str, int]]:
    """``bompao serve`` on ``url`` (with ``options``); its base URL and process id while
    it runs."""
    import httpx  # noqa: PLC0415

    port = _free_port()
    log = folder / f"serve-{port}.log"
    env = {**os.environ, "BOMPAO_SECRET_KEY": SECRET}
    env.pop("BOMPAO_PARTNER", None)
    env.pop("BOMPAO_CONFIG", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bompao.cli", "--db", url, "serve", "--port", str(port),
             "--workers", str(workers), *options], stdout=sink, stderr=subprocess.STDOUT, env=env,
            cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: bompao serve did not start: "
                                 f"{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200 and (
                        workers == 1 or log.read_text().count("startup complete") >= workers):
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


class Stages:
    """Where each project is (a or b), shared by the API and library rounds."""

    def __init__(self, ids: list[list[int]]) -> None:
        self.at = {pid: "a" for group in ids for pid in group}

    def trigger(self, project_id: int) -> str:
        """The trigger that moves the project, recorded as done."""
        here = self.at[project_id]
        self.at[project_id] = "b" if here == "a" else "a"
        return "go" if here == "a" else "back"


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                path: str, token: str, body: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 POST on a keep-alive connection: (status, body). A few lines of
    asyncio instead of an HTTP client library, whose own CPU per request (2.3 ms with
    httpx here) would take most of the 2 cores from the server it measures."""
    writer.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                 % (path.encode(), host.encode(), token.encode(), len(body), body))
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return status, await reader.readexactly(length)


def api_round(base: str, token: str, ids: list[list[int]], stages: Stages, per_client: int
              ) -> tuple[float, list[float]]:
    """(advances per second, latencies in ms) of one API round."""
    host = base.removeprefix("http://")
    address, port = host.rsplit(":", 1)
    latencies: list[float] = []

    async def client(group: list[int], start: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(address, int(port))
        try:
            await start.wait()
            for n in range(per_client):
                project_id = group[n % len(group)]
                body = b'{"trigger": "%s"}' % stages.trigger(project_id).encode()
                began = time.perf_counter()
                status, answer = await _post(reader, writer, host,
                                             f"/api/v1/projects/{project_id}/advance", token,
                                             body)
                latencies.append((time.perf_counter() - began) * 1000)
                if status != 200:
                    raise SystemExit(f"error: advance answered {status}: {answer[:300]!r}")
        finally:
            writer.close()

    async def run() -> float:
        start = asyncio.Event()
        tasks = [asyncio.create_task(client(group, start)) for group in ids]
        await asyncio.sleep(0.5)  # every client connected
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - began

    elapsed = asyncio.run(run())
    return len(latencies) / elapsed, latencies


def library_round(engine: Any, ids: list[list[int]], stages: Stages, per_client: int
                  ) -> tuple[float, list[float]]:
    """(advances per second, latencies in ms) of the same work on threads in-process."""
    latencies: list[float] = []
    barrier = threading.Barrier(len(ids) + 1)
    lock = threading.Lock()

    def work(group: list[int]) -> None:
        barrier.wait()
        mine = []
        for n in range(per_client):
            project_id = group[n % len(group)]
            began = time.perf_counter()
            engine.advance(project_id, stages.trigger(project_id))
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(group,)) for group in ids]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - began), latencies


def _sequential_warm(base: str, token: str, ids: list[list[int]], stages: Stages) -> None:
    """A few advances, each on a new connection (so every worker gets some), in turn."""
    import httpx  # noqa: PLC0415

    for group in ids[:8]:
        project_id = group[0]
        answer = httpx.post(f"{base}/api/v1/projects/{project_id}/advance",
                            json={"trigger": stages.trigger(project_id)},
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if answer.status_code != 200:
            raise SystemExit(f"error: advance answered {answer.status_code}: {answer.text}")


def board_times(base: str) -> list[float]:
    """Milliseconds of each of :data:`BOARD_RENDERS` renders of the cohort board (after
    two to warm), signed in through the login form."""
    import httpx  # noqa: PLC0415

    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login").text
        found = re.search(r'name="csrf_token" value="([^"]+)"', form)
        if found is None:
            raise SystemExit("error: the login page has no CSRF token")
        signed = client.post("/login", data={"username": BOARD_USER[0],
                                             "password": BOARD_USER[1],
                                             "csrf_token": found.group(1)})
        if signed.status_code != 303:
            raise SystemExit(f"error: sign-in answered {signed.status_code}")
        times = []
        for n in range(BOARD_RENDERS + 2):
            began = time.perf_counter()
            page = client.get("/")
            spent = (time.perf_counter() - began) * 1000
            if page.status_code != 200 or page.text.count("board project") < (
                    BOARD_PROJECTS - CLIENTS * PER_CLIENT):
                raise SystemExit(f"error: the board answered {page.status_code} without "
                                 f"every card")
            if n >= 2:
                times.append(spent)
    return times


def compare(url: str, label: str, workers: int, rounds: int, per_client: int,
            folder: Path, options: tuple[str, ...] = ()) -> list[Row]:
    """Interleaved API and library rounds on ``url``: the rows for ``label``."""
    from bompao.engine import Engine  # noqa: PLC0415

    ids, token = prepare(url)
    stages = Stages(ids)
    api: list[float] = []
    lib: list[float] = []
    api_ms: list[float] = []
    lib_ms: list[float] = []
    cpu = {"server": 0.0, "client": 0.0, "library": 0.0}
    with serving(url, workers, folder, options) as (base, pid):
        engine = Engine.from_url(url, create=False)
        try:
            # warm both, one request at a time first: a cold engine compiles the journey
            # inside the first advances' transactions, each then taking a second pooled
            # connection, and 20 at once would exhaust the pool
            engine.journey("bench-web", 1)
            _sequential_warm(base, token, ids, stages)
            library_round(engine, ids, stages, 2)
            api_round(base, token, ids, stages, 2)
            for _ in range(rounds):
                server, client = _cpu_seconds(pid), time.process_time()
                rate, times = api_round(base, token, ids, stages, per_client)
                cpu["server"] += _cpu_seconds(pid) - server
                cpu["client"] += time.process_time() - client
                api.append(rate)
                api_ms += times
                began = time.process_time()
                rate, times = library_round(engine, ids, stages, per_client)
                cpu["library"] += time.process_time() - began
                lib.append(rate)
                lib_ms += times
            board = board_times(base)
        finally:
            engine.close()
    api_rate, lib_rate = statistics.median(api), statistics.median(lib)
    where = f"{label}, {CLIENTS} clients" + (f", {workers} workers" if workers > 1 else "")
    return [
        Row(f"advances/s through the API ({where})", api_rate, "/s", digits=0),
        Row(f"advances/s through the library ({label}, {CLIENTS} threads, one process)",
            lib_rate, "/s", digits=0),
        Row(f"API / library advances ({label})", api_rate / lib_rate, "x",
            TARGETS["ratio"], ">=", 2),
        Row(f"API advance p50 latency ({label})", _percentile(api_ms, 0.5), "ms", digits=1),
        Row(f"API advance p99 latency ({label})", _percentile(api_ms, 0.99), "ms",
            TARGETS["p99_ms"], "<"),
        Row(f"library advance p99 latency ({label}, {CLIENTS} threads)",
            _percentile(lib_ms, 0.99), "ms", digits=1),
        Row(f"server CPU per API advance ({label})", cpu["server"] * 1000 / len(api_ms),
            "ms", digits=2),
        Row(f"client CPU per API advance ({label}, the load generator)",
            cpu["client"] * 1000 / len(api_ms), "ms", digits=2),
        Row(f"CPU per library advance ({label})", cpu["library"] * 1000 / len(lib_ms),
            "ms", digits=2),
        Row(f"cohort board, {BOARD_PROJECTS:,} projects, median of {BOARD_RENDERS} "
            f"({label})", statistics.median(board), "ms", TARGETS["board_ms"], "<"),
    ]


def against(root: str, rounds: int, per_client: int, folder: Path) -> list[Row]:
    """Server CPU per API advance of this code and of the bompao under ``root`` (a
    folder holding a ``bompao`` package: an export of other code), two servers side by
    side on SQLite, API rounds alternating between them: the rows (medians of rounds)."""
    sides: dict[str, tuple[str, int, str, list[list[int]], Stages, list[float]]] = {}
    with contextlib.ExitStack() as stack:
        for name, path in (("other", root), ("this", None)):
            url = f"sqlite:///{folder / f'{name}.db'}"
            ids, token = prepare(url)
            stages = Stages(ids)
            saved = os.environ.pop("PYTHONPATH", None)
            if path is not None:
                os.environ["PYTHONPATH"] = path
            try:
                base, pid = stack.enter_context(serving(url, 1, folder))
            finally:
                os.environ.pop("PYTHONPATH", None)
                if saved is not None:
                    os.environ["PYTHONPATH"] = saved
            _sequential_warm(base, token, ids, stages)
            api_round(base, token, ids, stages, 10)
            sides[name] = (base, pid, token, ids, stages, [])
        for n in range(rounds * 2):
            for name in ("other", "this") if n % 2 == 0 else ("this", "other"):
                base, pid, token, ids, stages, cpu = sides[name]
                began = _cpu_seconds(pid)
                _, times = api_round(base, token, ids, stages, per_client)
                cpu.append((_cpu_seconds(pid) - began) * 1000 / len(times))
    this, other = statistics.median(sides["this"][5]), statistics.median(sides["other"][5])
    return [Row("server CPU per API advance, this code (SQLite, side by side)", this, "ms",
                digits=3),
            Row(f"server CPU per API advance, {root} (SQLite, side by side)", other, "ms",
                digits=3),
            Row("this / other server CPU per API advance", this / other, "x", digits=2)]


def main(argv: list[str] | None = None) -> list[Row]:
    """Run the web benchmarks; print and return the rows."""
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    postgres = None
    if "--postgres" in args:
        at = args.index("--postgres")
        if at + 1 >= len(args):
            raise SystemExit("error: --postgres needs a URL")
        postgres = args[at + 1]
    postgres = postgres or os.environ.get("BOMPAO_BENCH_POSTGRES_URL") or os.environ.get(
        "BOMPAO_TEST_POSTGRES_URL")
    rounds, per_client = (3, 25) if quick else (5, 100)
    options = ("--access-log",) if "--access-log" in args else ()
    rows: list[Row] = []
    if "--against" in args:
        at = args.index("--against")
        if at + 1 >= len(args):
            raise SystemExit("error: --against needs a folder holding a bompao package")
        with tempfile.TemporaryDirectory() as tmp:
            # 2,000 advances a round at least: /proc counts CPU in 10 ms ticks
            rows = against(args[at + 1], rounds, max(per_client, 100), Path(tmp))
        print_table(rows, f"web: server CPU per API advance, side by side (load "
                          f"{os.getloadavg()[0]:.1f})" + (" (--quick)" if quick else ""))
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows += compare(f"sqlite:///{folder / 'web.db'}", "SQLite", 1, rounds, per_client,
                        folder, options)
        if postgres:
            with postgres_schema(postgres) as url:
                rows += compare(url, "PostgreSQL", 2, rounds, per_client, folder, options)
    print_table(rows, "web: advances through the API vs the library"
                + (" (--quick)" if quick else "") + "".join(f" ({o})" for o in options))
    return rows


if __name__ == "__main__":
    main()
