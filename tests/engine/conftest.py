"""Fixtures for the engine tests: the clock at this directory's time, test journeys.

The ``engine`` fixture of ``tests/conftest.py`` sits on the parametrised ``store_url``
and this directory's ``clock``, so each test runs on a SQLite file and on a fresh
PostgreSQL schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scheduler.peers import MutableClock

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


@pytest.fixture
def clock() -> MutableClock:
    """The shared mutable clock, standing at this directory's :data:`T0` (the root
    conftest's ``engine`` fixture runs on it)."""
    return MutableClock(T0)


@pytest.fixture
def toggle(engine: Engine) -> str:
    """Publish :data:`TOGGLE`; return its key."""
    return engine.publish(TOGGLE)[0]


@pytest.fixture
def gated(engine: Engine) -> str:
    """Publish :data:`GATED`; return its key."""
    return engine.publish(GATED)[0]
