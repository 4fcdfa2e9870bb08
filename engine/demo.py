"""``bompao demo``: a cohort of twelve projects taken through ``social-incubator`` on a
simulated clock over fourteen months.

Everything goes through the real code paths: the Engine for every change (gates
refuse early attempts and pass later ones), the Dispatcher for follow-ups (coach
reminders, at-risk flags, the automatic stall after twelve months in the test run),
the SQL reports and the HTML report at the end.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bompao.engine.actor import Actor
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.errors import GateRefused

__all__ = ["COHORT", "DemoResult", "run_demo"]

BANGKOK = ZoneInfo("Asia/Bangkok")

def default_start(days: int, today: datetime | None = None) -> datetime:
    """09:00 in Bangkok, ``days`` before today: the story ends now, so the report's
    "days in stage" and the real clock agree when the database is looked at later."""
    today = today or datetime.now(UTC)
    return (today - timedelta(days=days)).replace(hour=2, minute=0, second=0, microsecond=0)
DAYS = 425

COACHES = ("Malee", "Somchai", "Napat")
COMMITTEE = ("Dr. Kanya", "Khun Prasert", "Ajarn Wipa")
MANAGER = Actor("Ploy", roles={"program_manager"})


@dataclass(frozen=True)
class Persona:
    """One project of the cohort and how its story goes."""

    name: str
    partner: str
    pace: float          # 1.0 = the typical speed; larger is slower
    fate: str            # handoff, showcase, test_run, stall, withdraw, validation


COHORT = (
    Persona("Clean Canal Bangkok / คลองสะอาด", "bangkok-district", 0.8, "handoff"),
    Persona("Elder Care Circle / วงดูแลผู้สูงวัย", "chiang-mai-uni", 1.0, "handoff"),
    Persona("Farm-to-School Lunch / อาหารกลางวันจากฟาร์ม", "chiang-mai-uni", 1.1, "showcase"),
    Persona("Youth Coding Club / ชมรมเขียนโค้ดเยาวชน", "bangkok-district", 1.0, "test_run"),
    Persona("Mangrove Guardians / ผู้พิทักษ์ป่าชายเลน", "songkhla-ngo", 0.9, "stall"),
    Persona("Street Food Safety / อาหารริมทางปลอดภัย", "bangkok-district", 1.3, "test_run"),
    Persona("Second-Hand School Uniforms / ชุดนักเรียนมือสอง", "songkhla-ngo", 1.2, "withdraw"),
    Persona("Silk Weavers Co-op / สหกรณ์ทอผ้าไหม", "khon-kaen-city", 1.0, "showcase"),
    Persona("Flood Early Warning / เตือนภัยน้ำท่วม", "khon-kaen-city", 1.4, "validation"),
    Persona("Reading Buses / รถห้องสมุดเคลื่อนที่", "chiang-mai-uni", 1.1, "test_run"),
    Persona("Plastic-Free Market / ตลาดปลอดพลาสติก", "songkhla-ngo", 1.6, "validation"),
    Persona("Migrant Health Line / สายด่วนสุขภาพแรงงานข้ามชาติ", "bangkok-district", 1.2,
            "withdraw"),
)


@dataclass
class DemoResult:
    """What the demo did."""

    projects: list[int]
    refused: int
    advanced: int
    follow_ups: dict[str, int]
    stages: dict[str, int]
    report: str | None = None


class _Story:
    """Day-by-day actions of one project."""

    def __init__(self, engine: Any, persona: Persona, project: int, coach: str,  # noqa: PLR0917
                 rng: random.Random, start: datetime) -> None:
        self.engine = engine
        self.persona = persona
        self.project = project
        self.coach = coach
        self.rng = rng
        self.start = start
        self.plan: dict[int, list[Callable[[], None]]] = {}
        self.refused = 0
        self.advanced = 0
        self.reported: set[str] = set()
        """The months whose indicators were reported (issue 13)."""

    def at(self, day: float, action: Callable[[], None]) -> None:
        self.plan.setdefault(round(day), []).append(action)

    def advance(self, trigger: str, actor: Actor | None = None) -> None:
        try:
            self.engine.advance(self.project, trigger, actor or Actor(self.coach, {"coach"}))
            self.advanced += 1
        except GateRefused:
            self.refused += 1

    def write(self) -> None:
        p, e, pace = self.project, self.engine, self.persona.pace
        fate = self.persona.fate
        self.at(2 * pace, lambda: e.set_fields(p, {"problem_statement": (
            "Families in the community lack a safe, affordable way to meet this need.")}))
        self.at(6 * pace, lambda: self.advance("validate"))           # refused: no map yet
        self.at(9 * pace, lambda: e.add_evidence(p, "stakeholder_map",
                                                 url="https://example.org/map"))
        self.at(11 * pace, lambda: e.approve(p, role="coach", by=self.coach))
        self.at(12 * pace, lambda: self.advance("validate"))
        if fate == "validation":
            self.at(30 * pace, lambda: e.set_fields(p, {"interviews_done": 4}))
            return
        self.at(20 * pace, lambda: e.set_fields(p, {"target_group": "Families nearby",
                                                    "interviews_done": 5}))
        self.at(30 * pace, lambda: self.advance("start_test_run"))    # refused: 5 interviews
        if fate == "withdraw":
            self.at(140 * pace, lambda: self.advance("withdraw", MANAGER))
            return
        slow = 4.0 if fate == "test_run" else 1.0  # a long validation: still testing at the end
        self.at(45 * pace * slow, lambda: e.set_fields(p, {"interviews_done": 12}))
        self.at(47 * pace * slow, lambda: e.add_evidence(p, "test_plan", note="Pilot plan"))
        self.at(50 * pace * slow, lambda: e.approve(p, role="committee", by=COMMITTEE[0]))
        self.at(52 * pace * slow, lambda: e.approve(p, role="committee", by=COMMITTEE[1]))
        self.at(53 * pace * slow, lambda: self.advance("start_test_run"))
        if fate == "stall":
            return  # the journey's own follow-up stalls it after 12 months
        entered = 53 * pace * slow
        for month in range(1, 12):
            people = self.rng.randint(20, 60) * month
            self.at(entered + 30 * month, functools.partial(
                e.set_fields, p, {"people_reached": people}))
            # issue 13: the month that just ended, reported as indicators (one in ten
            # late), drawn apart so that the rest of the story stays as it was
            draw = random.Random(f"{self.project}-{month}")  # noqa: S311 - a story
            self.at(entered + 30 * month + (12 if draw.random() < 0.1 else 2),
                    functools.partial(self.report_month, draw.randint(20, 60),
                                      draw.randint(0, 8), 500 * draw.randint(0, 12)))
        if fate == "test_run":
            return
        self.at(entered + 120, lambda: self.advance("present"))       # refused: too early
        self.at(entered + 180, lambda: e.add_evidence(p, "test_run_report",
                                                      url="https://example.org/report"))
        self.at(entered + 185, lambda: e.approve(p, role="coach", by=self.coach))
        self.at(entered + 186, lambda: self.advance("present"))
        shown = entered + 186
        self.at(shown + 5, lambda: e.set_fields(p, {"demo_day": (
            self.start + timedelta(days=shown + 40)).date()}))
        if fate == "showcase":
            return
        self.at(shown + 30, lambda: self.advance("hand_off"))           # refused: no partner
        self.at(shown + 45, lambda: e.set_fields(p, {"partners_committed": [
            "Provincial Social Development Office"]}))
        self.at(shown + 50, lambda: e.add_evidence(p, "handoff_plan", note="Signed MoU"))
        self.at(shown + 52, lambda: self.advance("hand_off"))


    def report_month(self, people: int, volunteers: int, income: int) -> None:
        """Report last month's indicators as the participant (issue 13)."""
        today = self.engine.now().astimezone(BANGKOK).date().replace(day=1)
        period = (today - timedelta(days=1)).strftime("%Y-%m")
        if period in self.reported:  # two report days in one calendar month: once is enough
            return
        self.reported.add(period)
        for name, value in (("people_reached", people), ("volunteers", volunteers),
                            ("income", income)):
            self.engine.measure(self.project, name, period, value)


def run_demo(engine: Any, *, days: int = DAYS, seed: int = 7,
             progress: Callable[[int], None] | None = None,
             start: datetime | None = None) -> DemoResult:
    """Run the demo on ``engine``, from ``start`` (default: ``days`` before today).

    ``engine.clock`` is replaced by the simulated clock, which is left at the end.
    """
    start = start or default_start(days)
    logging.getLogger("bompao").setLevel(logging.WARNING)
    rng = random.Random(seed)  # noqa: S311 - a reproducible story, not a secret
    now = [start]
    engine.clock = lambda: now[0]
    dispatcher = Dispatcher(engine, Config(daemon_name="demo", batch=200))
    stories = []
    for index, persona in enumerate(COHORT):
        project = engine.create_project(journey="social-incubator", name=persona.name,
                                        partner=persona.partner, cohort="2026",
                                        actor=MANAGER)
        coach = COACHES[index % len(COACHES)]
        engine.assign(project.id, role="coach", person=coach, actor=MANAGER)
        engine.assign(project.id, role="program_manager", person=MANAGER.name, actor=MANAGER)
        story = _Story(engine, persona, project.id, coach, rng, start)
        story.write()
        stories.append(story)
    counts: dict[str, int] = {}
    for day in range(days + 1):
        now[0] = start + timedelta(days=day)
        for story in stories:
            for action in story.plan.get(day, []):
                action()
        result = dispatcher.run_due(now[0])
        for run in result.outcomes:
            key = f"{run['action']} {run['outcome']}"
            counts[key] = counts.get(key, 0) + 1
        if progress is not None:
            progress(day)
    stages: dict[str, int] = {}
    for story in stories:
        stage = engine.get(story.project).stage
        stages[stage] = stages.get(stage, 0) + 1
    return DemoResult([s.project for s in stories], sum(s.refused for s in stories),
                      sum(s.advanced for s in stories), counts, stages)
