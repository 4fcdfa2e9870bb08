"""The pipeline pauses Python's cyclic garbage collector while a journey goes through it,
restores it afterwards whatever happened, and leaves it alone when it was off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bompao.definitions import compile_journey
from bompao.definitions.source import Source, collector_paused, load_yaml
from bompao.errors import CheckError, LoadError

BASE = """journey: base
version: 1
stages:
  start: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: start, to: done}
"""
PARTNER = """journey: partner
version: 1
extends: base@1
stages:
  extra: {}
transitions:
  - {trigger: detour, from: start, to: extra}
  - {trigger: back, from: extra, to: start}
"""


@pytest.fixture
def collector() -> Iterator[None]:
    """Run with the collector on, and put back whatever state the test left."""
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def _resolver(seen: list[bool]) -> object:
    def resolve(key: str, version: int) -> Source:
        seen.append(gc.isenabled())  # called from inside the pipeline
        return load_yaml(BASE, "base.yaml")
    return resolve


@pytest.mark.usefixtures("collector")
def test_the_collector_is_paused_inside_and_back_after() -> None:
    seen: list[bool] = []
    journey = compile_journey(PARTNER, file="partner.yaml", resolve=_resolver(seen))
    assert "extra" in journey.stages
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_the_collector_is_back_after_a_refusal() -> None:
    seen: list[bool] = []
    with pytest.raises(CheckError):
        compile_journey(PARTNER.replace("to: start}", "to: nowhere}"), file="partner.yaml",
                        resolve=_resolver(seen))
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_collector_the_process_turned_off_stays_off() -> None:
    gc.disable()
    seen: list[bool] = []
    compile_journey(PARTNER, file="partner.yaml", resolve=_resolver(seen))
    assert seen == [False]
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_nested_pauses_restore_the_collector_once_and_after_an_error() -> None:
    with pytest.raises(LoadError):  # the composing fallback explains the refusal
        load_yaml("a: [1\n", "bad.yaml")
    assert gc.isenabled()
    seen: list[bool] = []

    def nested() -> None:
        with collector_paused():
            with collector_paused():
                seen.append(gc.isenabled())
            seen.append(gc.isenabled())  # the inner block left the outer pause alone
            raise RuntimeError

    with pytest.raises(RuntimeError):
        nested()
    assert seen == [False, False]
    assert gc.isenabled()
