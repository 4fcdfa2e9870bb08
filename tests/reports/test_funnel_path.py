"""The funnel's main path and stage order for partner journeys (issue 15).

A partner's replaced and added transitions are on its path (the base's ``withdraw``
from ``"*"`` is a way out, not a step), and ``after:`` places a partner's new stage in
the order. The expected paths and orders are written out by hand from the YAML.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bompao.definitions import JourneyCatalog, bundled_dir, compile_journey, load_path
from bompao.engine import Engine
from bompao.engine.reports import Filters, Reports, main_path
from bompao.errors import CheckError

CATALOG = JourneyCatalog()
PARTNERS = Path(__file__).resolve().parents[1] / "fixtures" / "partners"
SOCIAL_PATH = ["idea", "validation", "test_run", "showcase", "handoff"]
PLACED = """
journey: placed-incubator
version: 1
extends: social-incubator@1
partner: placed
stages:
  ethics_review: {title: {en: Ethics review}, after: validation}
  pilot: {after: test_run}
  pilot_review: {after: pilot}
transitions:
  - {trigger: start_test_run, from: validation, to: ethics_review}
  - {trigger: approve_ethics, from: ethics_review, to: test_run}
  - {trigger: present, from: test_run, to: pilot}
  - {trigger: review, from: pilot, to: pilot_review}
  - {trigger: show, from: pilot_review, to: showcase}
"""


@pytest.mark.parametrize(("file", "expected"), [
    (bundled_dir() / "social-incubator.yaml", SOCIAL_PATH),
    (bundled_dir() / "university-incubator.yaml",
     ["idea", "validation", "ethics_review", "test_run", "showcase", "handoff"]),
    (bundled_dir() / "local-government-incubator.yaml",
     ["idea", "validation", "test_run", "showcase", "community_hearing", "handoff"]),
    (PARTNERS / "ngo-incubator.yaml",
     ["idea", "validation", "test_run", "community_pilot", "showcase", "handoff"]),
], ids=lambda value: getattr(value, "stem", None) or "")
def test_the_main_path_follows_the_partners_transitions(file: Path,
                                                        expected: list[str]) -> None:
    assert main_path(load_path(file, resolve=CATALOG.resolve)) == expected


def test_the_funnel_marks_only_the_ways_out_as_exits(tmp_path: Path) -> None:
    engine = Engine.from_url(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        engine.journey("university-incubator")
        rows = Reports(engine).funnel(Filters("university-incubator"))
    finally:
        engine.close()
    assert {row["stage"]: row["exit"] for row in rows} == {
        "idea": False, "validation": False, "ethics_review": False, "test_run": False,
        "showcase": False, "handoff": False, "stalled": True, "withdrawn": True,
        "declined": True}
    assert {row["stage"]: row["next"] for row in rows}["ethics_review"] == "test_run"


def test_after_places_a_partners_new_stages_in_the_order() -> None:
    journey = compile_journey(PLACED, file="placed.yaml", resolve=CATALOG.resolve)
    assert list(journey.stages) == [
        "idea", "validation", "ethics_review", "test_run", "pilot", "pilot_review",
        "showcase", "handoff", "stalled", "withdrawn"]
    assert main_path(journey) == ["idea", "validation", "ethics_review", "test_run", "pilot",
                                  "pilot_review", "showcase", "handoff"]


def test_after_an_unknown_stage_is_reported() -> None:
    text = PLACED.replace("after: validation}", "after: validaton}")
    with pytest.raises(CheckError) as caught:
        compile_journey(text, file="placed.yaml", resolve=CATALOG.resolve)
    assert [str(d) for d in caught.value.diagnostics] == [
        ("placed.yaml:7:54: error: unknown stage 'validaton' (did you mean 'validation'?); "
         "stages: ethics_review, handoff, idea, pilot, pilot_review, showcase, stalled, "
         "test_run, validation, withdrawn")]
