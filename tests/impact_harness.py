"""What the web indicator tests share: a small journey with indicators and a world of
projects written through the library on a clock set months back, so that the server
(on the real clock) sees periods reported, corrected and missing.

The expected figures are computed here by plain calendar arithmetic on the clock's
dates, not by bompao's period code: the tests' oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bompao.engine import Engine

BANGKOK = ZoneInfo("Asia/Bangkok")
JOURNEY = "impact-pages"
YAML = """\
journey: impact-pages
version: 1
title: {en: Impact pages, th: ทดสอบตัวชี้วัด}
timezone: Asia/Bangkok
roles: [participant, coach, program_manager]
indicators:
  reached:
    title: {en: People reached, th: จำนวนผู้ได้รับประโยชน์}
    type: int
    unit: {en: people, th: คน}
    every: 1 month
    during: [test_run]
    owner: participant
    baseline: 0
    target: 100
  share:
    title: {en: Share satisfied, th: สัดส่วนผู้พึงพอใจ}
    type: percent
    every: quarterly
    during: [test_run]
    owner: participant
    target: 80
  operating:
    title: {en: Still operating, th: ยังดำเนินงานอยู่}
    type: bool
    every: yearly
    during: [done]
    owner: participant
    target: true
stages:
  idea: {initial: true, title: {en: Idea, th: ไอเดีย}}
  test_run: {title: {en: Test run, th: การทดลองทำ}}
  done:
    final: true
    title: {en: Handed off, th: ส่งต่อ}
    check_ins: [6 months]
transitions:
  - {trigger: start, from: idea, to: test_run}
  - {trigger: finish, from: test_run, to: done}
"""


def month_label(year: int, month: int) -> str:
    """``2026-08``."""
    return f"{year:04d}-{month:02d}"


def shift(year: int, month: int, months: int) -> tuple[int, int]:
    """The month ``months`` after (year, month)."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass
class World:
    """The seeded projects and what the page must show of them."""

    main: int
    alumni: int
    other: int
    months: list[str]
    """The labels of the four months the main project was in test_run before this one."""
    values: dict[str, int]
    corrected: dict[str, list[int]]
    missing: list[str]
    current: str
    extra: dict[str, Any] = field(default_factory=dict)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed(url: str) -> World:
    """Publish the journey and write three projects on a clock set back.

    ``main`` (cmu, cohort 2026) entered ``test_run`` on the 10th of the month four
    months ago; ``reached`` was reported for the first month (40) and the second (10,
    corrected to 12), not for the next two. ``alumni`` (cmu, cohort 2025) was handed off
    about 13 months ago and answered ``operating = true`` after its 6-month check-in.
    ``other`` (khonkaen) has its own values.
    """
    today = datetime.now(BANGKOK)
    y0, m0 = shift(today.year, today.month, -4)
    entered = datetime(y0, m0, 10, 10, 0, tzinfo=BANGKOK)
    clock = _Clock(entered)
    engine = Engine.from_url(url, clock=clock)
    try:
        engine.publish(YAML)
        main = engine.create_project(JOURNEY, "Rice Bank <b>bold</b>", partner="cmu",
                                     cohort="2026")
        engine.advance(main.id, "start")
        months = [month_label(*shift(y0, m0, k)) for k in range(4)]
        clock.now = entered + timedelta(days=1)
        engine.measure(main.id, "reached", months[0], 40, note="first month")
        y1, m1 = shift(y0, m0, 1)
        clock.now = datetime(y1, m1, 5, 9, 0, tzinfo=BANGKOK)
        engine.measure(main.id, "reached", months[1], 10)
        clock.now += timedelta(days=2)
        engine.measure(main.id, "reached", months[1], 12, note="<script>alert(1)</script>")

        handed = today - timedelta(days=400)
        clock.now = handed
        alumni = engine.create_project(JOURNEY, "Alumni Weavers", partner="cmu",
                                       cohort="2025")
        engine.advance(alumni.id, "start")
        clock.now = handed + timedelta(days=10)
        engine.advance(alumni.id, "finish")
        clock.now = handed + timedelta(days=10 + 250)  # after the 6-month check-in
        engine.measure(alumni.id, "operating", str(clock.now.astimezone(BANGKOK).year), True)

        clock.now = entered
        other = engine.create_project(JOURNEY, "Khon Kaen Secret", partner="khonkaen")
        engine.advance(other.id, "start")
        clock.now = entered + timedelta(days=1)
        engine.measure(other.id, "reached", months[0], 999, note="khonkaen secret note")
    finally:
        engine.close()
    return World(main=main.id, alumni=alumni.id, other=other.id, months=months,
                 values={months[0]: 40, months[1]: 12}, corrected={months[1]: [10]},
                 missing=months[2:], current=month_label(today.year, today.month))
