"""Shared fixtures: one parametrised store, so contract tests run on SQLite and PostgreSQL.

PostgreSQL runs when ``BOMPAO_TEST_POSTGRES_URL`` is set (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and is skipped only when it
is not. Each test gets a fresh schema, reached through ``search_path`` in the URL,
so tests and the subprocesses they start never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pg_schemas import postgres_schema
from scheduler.peers import T0, Cli, MutableClock, Sink, SmtpBox, running_sink, running_smtp

from bompao.cli import main
from bompao.engine import Engine
from bompao.storage import Database

POSTGRES_ENV = "BOMPAO_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bompao.db'}"
        return
    with _postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema, for what only PostgreSQL has (row-lock
    timeouts, a server killing a backend); skipped only when no URL is configured."""
    with _postgres_schema() as url:
        yield url


@contextmanager
def _postgres_schema() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base) as url:
        yield url


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    """A :class:`Database` on ``store_url``, upgraded to the current schema."""
    database = Database.from_url(store_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> MutableClock:
    """A clock standing at :data:`~scheduler.peers.T0` (a directory's conftest may move it)."""
    return MutableClock(T0)


@pytest.fixture
def engine(store_url: str, clock: MutableClock) -> Iterator[Engine]:
    """An engine on ``store_url`` (schema created) with the mutable clock."""
    opened = Engine.from_url(store_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``bompao ARGS`` in this process: the exit code from ``SystemExit`` (0 when
    there is none), stdout and stderr from ``capsys`` (only this call's)."""
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--slow``: run the property tests with ten times their examples."""
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the stateful property tests with 10x their examples")


@pytest.fixture
def example_multiplier(request: pytest.FixtureRequest) -> int:
    """How many times its CI examples a property test runs: 10 with ``--slow``, else 1."""
    return 10 if request.config.getoption("--slow") else 1


@pytest.fixture(scope="session")
def sink_server() -> Iterator[Sink]:
    """One real, threaded HTTP server for the session (stopping one takes half a second)."""
    with running_sink() as server:
        yield server


@pytest.fixture
def sink(sink_server: Sink) -> Sink:
    """The HTTP sink, emptied: it records what it receives and answers 200 by default."""
    sink_server.reset()
    return sink_server


@pytest.fixture
def smtp() -> Iterator[SmtpBox]:
    """A real SMTP server (aiosmtpd) that records messages and logins."""
    with running_smtp() as box:
        yield box
