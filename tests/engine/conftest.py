"""Fixtures for the engine tests: an injectable clock, an engine per store, test journeys.

Every engine fixture sits on the parametrised ``store_url`` of ``tests/conftest.py``,
so each test runs on a SQLite file and on a fresh PostgreSQL schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bompao.engine import Engine

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)

TOGGLE = """\
journey: toggle
version: 1
title: {en: Toggle}
roles: [boss, coach]
fields:
  n: {type: int, default: 0}
stages:
  a: {initial: true}
  b: {}
  done: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
  - {trigger: back, from: b, to: a}
  - {trigger: finish, from: b, to: done}
"""
"""Two stages and two triggers (``a`` -go-> ``b`` -back-> ``a``), no gates."""

GATED = """\
journey: gated
version: 1
title: {en: Gated}
roles: [boss, coach, helper]
fields:
  n: {type: int, default: 0}
  note: {type: string, default: ""}
evidence:
  doc: {title: {en: A document}}
stages:
  a: {initial: true}
  b: {}
  c: {}
  end: {final: true}
transitions:
  - trigger: go
    from: a
    to: b
    override_roles: [boss]
    gate:
      all:
        - expr: "n >= 10"
          says: {en: At least 10}
        - approval: {role: coach}
  - {trigger: back, from: b, to: a}
  - trigger: wait
    from: b
    to: c
    gate: {min_time_in_stage: 6 months}
  - trigger: close
    from: "*"
    to: end
    roles: [boss]
"""
"""Gates of every kind: an expression, an approval, a time in stage; an override role."""


class MutableClock:
    """The engine's clock: returns ``now``, which tests move by hand instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> MutableClock:
    """A clock standing at :data:`T0`."""
    return MutableClock(T0)


@pytest.fixture
def engine(store_url: str, clock: MutableClock) -> Iterator[Engine]:
    """An engine on ``store_url`` (schema created) with the mutable clock."""
    opened = Engine.from_url(store_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def toggle(engine: Engine) -> str:
    """Publish :data:`TOGGLE`; return its key."""
    return engine.publish(TOGGLE)[0]


@pytest.fixture
def gated(engine: Engine) -> str:
    """Publish :data:`GATED`; return its key."""
    return engine.publish(GATED)[0]
