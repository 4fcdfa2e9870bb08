"""Fixtures for the follow-up and scheduler tests: a clock, an engine per store, real peers.

The engine sits on the parametrised ``store_url`` of ``tests/conftest.py`` (a SQLite
file and a fresh PostgreSQL schema). The helpers live in ``scheduler.peers``; the real
peers' fixtures (``sink``, ``smtp``) in ``tests/conftest.py``, for every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scheduler.peers import T0, MutableClock

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
