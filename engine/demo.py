"""``bompao demo``: a call of thirty applicants down to a cohort of twelve, then the
cohort taken through ``social-incubator`` on a simulated clock over fourteen months.

The call (the first :data:`CALL_DAYS` days): thirty applications come in through the
form (``project import``'s checks), the committee's reviewers are assigned by load
without conflicts (``reviews assign``), five reviewers score on the rubric (``project
score``), and ``cohort select --top 12 --trigger admit --others decline`` admits the
twelve best and declines the rest, in one transaction.

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
from bompao.engine.selection import assign_reviewers, rank, score, select
from bompao.engine.transfer import import_projects
from bompao.errors import GateRefused
from bompao.storage.accounts import insert_user, list_users

__all__ = ["APPLICANTS", "CALL_DAYS", "COHORT", "REVIEWERS", "DemoResult", "run_demo"]

BANGKOK = ZoneInfo("Asia/Bangkok")

def default_start(days: int, today: datetime | None = None) -> datetime:
    """09:00 in Bangkok, ``days`` before today: the story ends now, so the report's
    "days in stage" and the real clock agree when the database is looked at later."""
    today = today or datetime.now(UTC)
    return (today - timedelta(days=days)).replace(hour=2, minute=0, second=0, microsecond=0)
CALL_DAYS = 30
"""The call: applications on days 0-13, reviewers on day 14, scores on days 15-25, the
selection on day 28; the cohort's fourteen months start on day 30."""
DAYS = CALL_DAYS + 425
JOURNEY = "social-incubator"
COHORT_NAME = "2026"
TOP = 12

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


APPLICANTS = (
    ("Community Radio for the Deaf / วิทยุชุมชนภาษามือ", "bangkok-district"),
    ("Temple Compost / ปุ๋ยหมักจากวัด", "chiang-mai-uni"),
    ("Rice Bank / ธนาคารข้าว", "khon-kaen-city"),
    ("Beach Clean Tours / ทัวร์เก็บขยะชายหาด", "songkhla-ngo"),
    ("Night Market Recycling / รีไซเคิลตลาดนัดกลางคืน", "bangkok-district"),
    ("Hill Tribe Tutors / ติวเตอร์เด็กบนดอย", "chiang-mai-uni"),
    ("Fishers' Cold Chain / ห้องเย็นชาวประมง", "songkhla-ngo"),
    ("Motorbike Helmet Drive / รณรงค์หมวกกันน็อก", "khon-kaen-city"),
    ("Rooftop Gardens / สวนผักบนดาดฟ้า", "bangkok-district"),
    ("Mobile Dental Van / รถทันตกรรมเคลื่อนที่", "chiang-mai-uni"),
    ("Weaving Apprentices / ช่างทอรุ่นใหม่", "khon-kaen-city"),
    ("Coral Nursery / อนุบาลปะการัง", "songkhla-ngo"),
    ("Canal Boat Library / ห้องสมุดเรือคลอง", "bangkok-district"),
    ("Elder Smartphone Class / สอนผู้สูงวัยใช้มือถือ", "chiang-mai-uni"),
    ("Village Solar Pumps / ปั๊มน้ำพลังแสงอาทิตย์", "khon-kaen-city"),
    ("Fish Sauce Co-op / สหกรณ์น้ำปลา", "songkhla-ngo"),
    ("Stray Dog Clinic / คลินิกสุนัขจรจัด", "bangkok-district"),
    ("Herbal Garden School / โรงเรียนสวนสมุนไพร", "chiang-mai-uni"),
)
"""The call's other eighteen applicants: valid applications the committee ranks lower."""

REVIEWERS = (("kanya", "Dr. Kanya", "committee"),
             ("prasert", "Khun Prasert", "committee@bangkok-district"),
             ("wipa", "Ajarn Wipa", "committee@chiang-mai-uni"),
             ("somsak", "Khun Somsak", "committee@songkhla-ngo"),
             ("anong", "Khun Anong", "committee@khon-kaen-city"))
"""(username, display name, grant) of the selection committee's reviewers: four of them
belong to a partner, so they never review that partner's applications."""

TOPICS = ("idea_development", "model_and_plan", "project_management", "impact_measurement")


@dataclass
class DemoResult:
    """What the demo did: ``projects`` is the selected cohort, ``applicants`` every
    application, ``intake`` the call's counts (applied, reviewed, scores, reviewers,
    selected, declined)."""

    projects: list[int]
    refused: int
    advanced: int
    follow_ups: dict[str, int]
    stages: dict[str, int]
    report: str | None = None
    applicants: list[int] | None = None
    intake: dict[str, int] | None = None


class _Story:
    """Day-by-day actions of one project."""

    def __init__(self, engine: Any, persona: Persona, project: int, coach: str,  # noqa: PLR0917
                 rng: random.Random, start: datetime, begin: int = 0) -> None:
        self.engine = engine
        self.persona = persona
        self.project = project
        self.coach = coach
        self.rng = rng
        self.start = start
        self.begin = begin
        """The day of the demo the story starts on (after the call)."""
        self.plan: dict[int, list[Callable[[], None]]] = {}
        self.refused = 0
        self.advanced = 0
        self.reported: set[str] = set()
        """The months whose indicators were reported (issue 13)."""

    def at(self, day: float, action: Callable[[], None]) -> None:
        self.plan.setdefault(self.begin + round(day), []).append(action)

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
            self.start + timedelta(days=self.begin + shown + 40)).date()}))
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


def _application(name: str, partner: str, strong: bool, rng: random.Random
                 ) -> dict[str, Any]:
    """One applicant's form, as a row of ``project import`` (no stage: an application)."""
    short = name.split(" / ", maxsplit=1)[0]
    return {"journey": JOURNEY, "name": name, "partner": partner, "cohort": COHORT_NAME,
            "fields": {
                "problem_statement": (f"{short}: families in the community lack a safe, "
                                      "affordable way to meet this need."),
                "target_group": "Families nearby" if strong else "Everyone",
                "team_size": rng.randint(3, 6) if strong else rng.randint(1, 3),
                "needs": sorted(rng.sample(TOPICS, 2))}}


def _reviewers(engine: Any, now: datetime) -> None:
    """The committee's accounts (no password: they score here, they do not sign in)."""
    with engine.db.begin() as conn:
        taken = {user.username for user in list_users(conn)}
        for username, name, grant in REVIEWERS:
            if username not in taken:
                insert_user(conn, {"username": username, "display_name": name,
                                   "email": None, "password_hash": "!", "roles": [grant],
                                   "created_at": now})


class _Call:
    """The call's days: applications, reviewers, scores, the selection."""

    def __init__(self, engine: Any, rng: random.Random) -> None:
        self.engine = engine
        self.rng = rng
        strong = [(p.name, p.partner, True) for p in COHORT]
        weak = [(name, partner, False) for name, partner in APPLICANTS]
        everyone = strong + weak
        rng.shuffle(everyone)
        self.applications = everyone
        self.strong = {name for name, _, _ in strong}
        self.ids: dict[str, int] = {}
        self.plan: dict[str, list[tuple[int, str]]] = {}
        self.scores = 0
        self.selected: list[dict[str, Any]] = []
        self.declined: list[dict[str, Any]] = []

    def apply(self, day: int) -> None:
        """The applications that arrive on ``day`` (0-13), imported in one go."""
        rows = [_application(name, partner, good, self.rng)
                for index, (name, partner, good) in enumerate(self.applications)
                if index * 14 // len(self.applications) == day]
        if rows:
            ids = import_projects(self.engine, rows)
            self.ids.update({row["name"]: pid for row, pid in zip(rows, ids, strict=True)})

    def assign(self) -> None:
        """``reviews assign``: three reviewers per application, by load, no conflicts."""
        _reviewers(self.engine, self.engine.now())
        for item in assign_reviewers(self.engine, JOURNEY, COHORT_NAME, actor=MANAGER):
            for person in item["reviewers"]:
                self.plan.setdefault(person, []).append((item["id"], item["name"]))

    def review(self, day: int) -> None:
        """Each reviewer scores a share of their applications on days 15-25."""
        for reviewer, todo in sorted(self.plan.items()):
            for index, (project, name) in enumerate(todo):
                if 15 + index * 11 // len(todo) != day:
                    continue
                draw = random.Random(f"{reviewer}-{project}")  # noqa: S311 - a story
                low, high = (4, 5) if name in self.strong else (1, 3)
                marks = {c: draw.randint(low, high)
                         for c in ("problem", "target_group", "change", "team")}
                score(self.engine, project, reviewer, marks,
                      note="Strong fit with the program" if low == 4 else None)
                self.scores += 1

    def choose(self) -> None:
        """``cohort rank``, then ``cohort select --top 12 --trigger admit --others
        decline`` as the program manager."""
        rank(self.engine, JOURNEY, COHORT_NAME)
        result = select(self.engine, JOURNEY, COHORT_NAME, top=TOP, trigger="admit",
                        others="decline", actor=MANAGER)
        self.selected, self.declined = result["selected"], result["others"]

    def counts(self) -> dict[str, int]:
        reviewed = sum(1 for e in [*self.selected, *self.declined] if e["count"])
        return {"applied": len(self.ids), "reviewed": reviewed, "scores": self.scores,
                "reviewers": len(self.plan), "selected": len(self.selected),
                "declined": len(self.declined)}


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
    call = _Call(engine, random.Random(seed + 1))  # noqa: S311 - drawn apart from the story
    stories: list[_Story] = []
    counts: dict[str, int] = {}

    def begin_stories() -> None:
        """The cohort the selection admitted: coaches, the manager, their stories."""
        personas = {persona.name: persona for persona in COHORT}
        for index, entry in enumerate(sorted(call.selected, key=lambda e: e["id"])):
            persona = personas.get(entry["name"])
            if persona is None:  # not one of the twelve: the scores decided otherwise
                continue
            coach = COACHES[index % len(COACHES)]
            engine.assign(entry["id"], role="coach", person=coach, actor=MANAGER)
            engine.assign(entry["id"], role="program_manager", person=MANAGER.name,
                          actor=MANAGER)
            story = _Story(engine, persona, entry["id"], coach, rng, start, begin=CALL_DAYS)
            story.write()
            stories.append(story)

    for day in range(days + 1):
        now[0] = start + timedelta(days=day)
        if day < 14:
            call.apply(day)
        elif day == 14:
            call.assign()
        elif day <= 25:
            call.review(day)
        elif day == 28:
            call.choose()
        elif day == CALL_DAYS:
            begin_stories()
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
    for project in call.ids.values():
        stage = engine.get(project).stage
        stages[stage] = stages.get(stage, 0) + 1
    intake = call.counts()
    return DemoResult([s.project for s in stories], sum(s.refused for s in stories),
                      sum(s.advanced for s in stories) + intake["selected"]
                      + intake["declined"], counts, stages,
                      applicants=sorted(call.ids.values()), intake=intake)
