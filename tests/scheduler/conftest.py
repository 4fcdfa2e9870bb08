"""Fixtures for the follow-up and scheduler tests: a clock, an engine per store, real peers.

The engine sits on the parametrised ``store_url`` of ``tests/conftest.py`` (a SQLite
file and a fresh PostgreSQL schema). The helpers live in ``scheduler.peers``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scheduler.peers import T0, MutableClock, Sink, SmtpBox, running_sink, running_smtp

from bompao.engine import Engine


@pytest.fixture
def clock() -> MutableClock:
    """A clock standing at :data:`~scheduler.peers.T0`."""
    return MutableClock(T0)


@pytest.fixture
def engine(store_url: str, clock: MutableClock) -> Iterator[Engine]:
    """An engine on ``store_url`` (schema created) with the mutable clock."""
    opened = Engine.from_url(store_url, clock=clock)
    yield opened
    opened.close()


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
