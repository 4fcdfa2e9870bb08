"""Every bundled journey compiles and has the shape the program (and issue 2) needs."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from transitions import Machine

from bompao.definitions import CompiledJourney, JourneyCatalog, bundled_dir, load_path

REPO = Path(__file__).resolve().parents[2]
FILES = sorted((REPO / "journeys").glob("*.yaml"))
SOCIAL_STAGES = ["idea", "validation", "test_run", "showcase", "handoff", "stalled", "withdrawn",
                 "declined"]
BUILDER_STAGES = ["workshop_1", "workshop_2", "workshop_3", "team_preparation",
                  "trial_incubation", "wrap_up_forum", "next_phase", "withdrawn"]
PARTNER_EXTRA = {"university-incubator": "ethics_review",
                 "local-government-incubator": "community_hearing"}
VERSIONS = {"social-incubator": 3, "university-incubator": 2, "local-government-incubator": 2}
"""The bundled files' versions (social-incubator 2 added indicators, 3 the call; the partner
journeys' 2 extend social-incubator@3; the earlier versions are in earlier/)."""
TEXT_KEYS = ("title", "description", "says", "message", "subject")


@pytest.fixture(scope="module")
def catalog() -> JourneyCatalog:
    return JourneyCatalog()


def compiled(path: Path, catalog: JourneyCatalog) -> CompiledJourney:
    return load_path(path, resolve=catalog.resolve)


def reachable(journey: CompiledJourney) -> set[str]:
    seen = {journey.initial}
    frontier = [journey.initial]
    while frontier:
        stage = frontier.pop()
        for transition in journey.transitions:
            if stage in transition.sources and transition.dest not in seen:
                seen.add(transition.dest)
                frontier.append(transition.dest)
    return seen


def texts(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every localised text (title, description, says, message, subject) in raw data."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in TEXT_KEYS and not (key == "title" and path and path[-1] == "fields"):
                yield (*path, key), value
            if isinstance(value, dict | list):
                yield from texts(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from texts(value, (*path, index))


def test_the_bundled_journeys_are_the_package_data() -> None:
    assert {p.name for p in FILES} >= {
        "incubator-builder.yaml", "local-government-incubator.yaml",
        "social-incubator.yaml", "university-incubator.yaml"}
    assert sorted(p.name for p in bundled_dir().glob("*.yaml")) == [p.name for p in FILES]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_compiles(path: Path, catalog: JourneyCatalog) -> None:
    journey = compiled(path, catalog)
    assert journey.key == path.stem
    assert journey.version == VERSIONS.get(path.stem, 1)
    assert journey.file == str(path)
    assert journey.stages
    assert journey.transitions


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_exactly_one_initial_stage(path: Path, catalog: JourneyCatalog) -> None:
    journey = compiled(path, catalog)
    initial = [name for name, stage in journey.stages.items() if stage.initial]
    assert initial == [journey.initial]
    assert not journey.stages[journey.initial].final


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_stage_is_reachable_from_the_initial_stage(path: Path,
                                                         catalog: JourneyCatalog) -> None:
    journey = compiled(path, catalog)
    assert reachable(journey) == set(journey.stages)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_non_final_stages_have_a_way_out_and_final_ones_none(path: Path,
                                                             catalog: JourneyCatalog) -> None:
    journey = compiled(path, catalog)
    for name, stage in journey.stages.items():
        assert bool(journey.triggers(name)) != stage.final, name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_title_has_english_and_thai(path: Path, catalog: JourneyCatalog) -> None:
    journey = compiled(path, catalog)
    titles: dict[str, Any] = {"journey": journey.title}
    titles.update({f"stage {name}": stage.title for name, stage in journey.stages.items()})
    titles.update({f"transition {t.trigger} from {t.sources}": t.title
                   for t in journey.transitions})
    titles.update({f"field {name}": spec.title for name, spec in journey.fields.items()})
    titles.update({f"evidence {name}": spec.title for name, spec in journey.evidence.items()})
    missing = {what: title for what, title in titles.items()
               if not title or not title.get("en") or not title.get("th")}
    assert missing == {}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_text_in_the_file_has_english_and_thai(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = list(texts(data))
    assert found
    missing = [(where, text) for where, text in found
               if not isinstance(text, dict) or not text.get("en") or not text.get("th")]
    assert missing == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_one_state_machine_per_journey_version(path: Path, catalog: JourneyCatalog) -> None:
    ref = f"{path.stem}@{VERSIONS.get(path.stem, 1)}"
    first = catalog.get(ref)
    assert isinstance(first.machine, Machine)
    assert first.machine.models == []  # no project is ever bound to the shared machine
    for again in (catalog.get(ref), catalog.get(path.stem), catalog.get(ref)):
        assert again is first
        assert again.machine is first.machine
    assert list(first.machine.states) == list(first.stages)
    assert set(first.machine.events) == {t.trigger for t in first.transitions}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_machine_agrees_with_the_compiled_transitions(path: Path,
                                                          catalog: JourneyCatalog) -> None:
    journey = catalog.get(path.stem)
    for transition in journey.transitions:
        for stage in transition.sources:
            assert journey.transition(stage, transition.trigger) is transition
            assert journey.dest(stage, transition.trigger) == transition.dest
            assert transition.trigger in journey.triggers(stage)


def test_social_incubator_stage_keys(catalog: JourneyCatalog) -> None:
    journey = catalog.get("social-incubator")
    assert list(journey.stages) == SOCIAL_STAGES
    assert journey.initial == "idea"
    assert {n for n, s in journey.stages.items() if s.final} == {"handoff", "withdrawn",
                                                                 "declined"}


def test_social_incubator_gates_are_the_programs(catalog: JourneyCatalog) -> None:
    journey = catalog.get("social-incubator")

    def leaves(stage: str, trigger: str) -> set[tuple[str, Any]]:
        gate = journey.transition(stage, trigger).gate
        assert gate is not None
        found: set[tuple[str, Any]] = set()
        todo = [gate]
        while todo:
            criterion = todo.pop()
            todo.extend(criterion.children)
            value = {"expr": criterion.expr, "evidence": criterion.evidence,
                     "approval": (criterion.role, criterion.count),
                     "min_time_in_stage": str(criterion.duration)}.get(criterion.kind)
            if value is not None:
                found.add((criterion.kind, value))
        return found

    assert leaves("idea", "validate") == {
        ("expr", "size(problem_statement) >= 20"), ("evidence", "stakeholder_map"),
        ("approval", ("coach", 1))}
    assert ("approval", ("committee", 2)) in leaves("validation", "start_test_run")
    assert ("min_time_in_stage", "6 months") in leaves("test_run", "present")
    assert ("expr", "size(partners_committed) >= 1") in leaves("showcase", "hand_off")
    assert journey.transition("test_run", "stall").dest == "stalled"
    assert all(journey.dest(s, "withdraw") == "withdrawn"
               for s, stage in journey.stages.items() if not stage.final)


def test_social_incubator_has_the_coaching_rhythm(catalog: JourneyCatalog) -> None:
    journey = catalog.get("social-incubator")
    every = {(f.stage, str(f.spec.every)) for s in journey.stages.values()
             for f in s.follow_ups if f.recurring}
    assert ("validation", "2 weeks") in every
    assert ("test_run", "1 month") in every
    stall = [f for f in journey.stages["test_run"].follow_ups if f.action == "transition"]
    assert [(str(f.spec.after), f.spec.trigger) for f in stall] == [("12 months", "stall")]


def test_incubator_builder_stage_keys(catalog: JourneyCatalog) -> None:
    journey = catalog.get("incubator-builder")
    assert list(journey.stages) == BUILDER_STAGES
    assert journey.initial == "workshop_1"
    chain = ["workshop_1", "workshop_2", "workshop_3", "team_preparation",
             "trial_incubation", "wrap_up_forum", "next_phase"]
    for here, there in pairwise(chain):
        assert there in {journey.dest(here, t) for t in journey.triggers(here)}, here


def test_incubator_builder_needs_all_three_workshops(catalog: JourneyCatalog) -> None:
    journey = catalog.get("incubator-builder")
    gate = journey.transition("workshop_3", "start_team_preparation").gate
    assert gate is not None
    exprs = " ".join(c.expr or "" for c in gate.children)
    for n in (1, 2, 3):
        assert f"attended_workshop_{n}" in exprs
    trial = journey.stages["trial_incubation"]
    assert ("1 month", "notify") in {(str(f.spec.every), f.action) for f in trial.follow_ups}


@pytest.mark.parametrize("key", sorted(PARTNER_EXTRA))
def test_partner_journeys_extend_the_social_incubator(key: str,
                                                      catalog: JourneyCatalog) -> None:
    journey = catalog.get(key)
    base = catalog.get("social-incubator@3")
    assert journey.doc.extends == "social-incubator@3"
    assert journey.partner
    assert list(journey.stages) == [*base.stages, PARTNER_EXTRA[key]]
    extra = PARTNER_EXTRA[key]
    assert extra in reachable(journey)
    assert journey.triggers(extra)
    assert journey.machine is not base.machine
    # what the partner gets from the latest base: its indicators, alumni check-ins, the call
    assert list(journey.indicators) == list(base.indicators)
    assert [str(d) for d in journey.doc.stages["handoff"].check_ins] == [
        "6 months", "12 months", "24 months"]
    assert journey.doc.application is not None
    assert journey.doc.scoring is not None
    assert journey.doc.application.fields == base.doc.application.fields  # type: ignore[union-attr]
    assert journey.dest("idea", "decline") == "declined"
    assert catalog.get(f"{key}@1").doc.extends == "social-incubator@1"  # kept as published


def test_university_runs_an_ethics_review_before_a_six_month_test_run(
        catalog: JourneyCatalog) -> None:
    journey = catalog.get("university-incubator")
    assert journey.dest("validation", "start_test_run") == "ethics_review"
    assert journey.dest("ethics_review", "approve_ethics") == "test_run"
    gate = journey.transition("test_run", "present").gate
    assert gate is not None
    assert "6 months" in {str(c.duration) for c in gate.children if c.duration}


def test_local_government_holds_a_hearing_after_twelve_months(catalog: JourneyCatalog) -> None:
    journey = catalog.get("local-government-incubator")
    assert journey.dest("showcase", "hand_off") == "community_hearing"
    assert journey.dest("community_hearing", "hand_off") == "handoff"
    gate = journey.transition("test_run", "present").gate
    assert gate is not None
    assert "12 months" in {str(c.duration) for c in gate.children if c.duration}
    assert "local_official" in journey.roles


def test_social_incubator_opens_a_call(catalog: JourneyCatalog) -> None:
    """Issue 14: the form, the rubric and the selection step, with Thai texts."""
    journey = catalog.get("social-incubator")
    form = journey.doc.application
    assert form is not None
    assert form.fields == ["problem_statement", "target_group", "team_size", "needs"]
    assert form.required == ["problem_statement", "target_group"]
    assert set(form.help) == set(form.fields)
    for name, text in form.help.items():
        assert text["en"], name
        assert text["th"], name
        assert any("\u0e00" <= ch <= "\u0e7f" for ch in text["th"]), name  # Thai script
    assert str(form.opens) == "2020-01-01"
    assert form.closes is None
    scoring = journey.doc.scoring
    assert scoring is not None
    assert scoring.role in journey.roles
    assert scoring.stage == journey.initial
    assert {name: (c.weight, str(c.scale)) for name, c in scoring.rubric.items()} == {
        "problem": (3, "1..5"), "target_group": (2, "1..5"), "change": (2, "1..5"),
        "team": (1, "1..5")}
    assert all(c.title and c.title.get("th") for c in scoring.rubric.values())
    assert scoring.partner_conflict
    # the selection step: from the scoring stage, admit keeps the best, decline ends the rest
    assert journey.dest("idea", "admit") == "idea"
    assert journey.dest("idea", "decline") == "declined"
    assert journey.stages["declined"].final
    assert journey.fields["needs"].type == "list[string]"  # for a partner's coaching key
    earlier = catalog.get("social-incubator@2")
    assert earlier.doc.application is None
    assert list(earlier.indicators) == list(
        journey.indicators)


def test_partners_override_the_form_and_the_rubric(catalog: JourneyCatalog) -> None:
    base = catalog.get("social-incubator")
    university = catalog.get("university-incubator")
    local = catalog.get("local-government-incubator")
    assert base.doc.scoring
    assert university.doc.scoring
    assert local.doc.scoring
    assert base.doc.application
    assert university.doc.application
    assert local.doc.application
    assert university.doc.scoring.rubric["team"].weight == 2
    assert base.doc.scoring.rubric["team"].weight == 1
    assert "student" in university.doc.application.help["problem_statement"]["en"]
    assert "community" in local.doc.scoring.rubric
    assert set(local.doc.scoring.rubric) - {"community"} == set(base.doc.scoring.rubric)
    assert local.doc.application.help["needs"] == base.doc.application.help["needs"]
