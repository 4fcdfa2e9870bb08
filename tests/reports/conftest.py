"""Fixtures for the report tests: an engine with a mutable clock on every store.

The engine sits on the parametrised ``store_url`` of ``tests/conftest.py``, so each
test runs on a SQLite file and on a fresh PostgreSQL schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reports.helpers import JOURNEY, T0, MutableClock

from bompao.engine import Engine


@pytest.fixture
def clock() -> MutableClock:
    """A clock standing at :data:`~reports.helpers.T0`."""
    return MutableClock(T0)


@pytest.fixture
def engine(store_url: str, clock: MutableClock) -> Iterator[Engine]:
    """An engine on ``store_url`` (schema created, ``social-incubator`` published)."""
    opened = Engine.from_url(store_url, clock=clock)
    opened.journey(JOURNEY)
    yield opened
    opened.close()
