"""Calendars: any country's weekend, the holidays package's categories, days added and
removed, in the short and the long ``calendar:`` form, and days the operator adds.

The expected dates are the published calendars (Thailand's 2026 cabinet calendar,
Saudi Arabia's Friday-Saturday weekend since 2013), written out by hand, not asked
of the holidays package.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bompao.definitions import compile_journey
from bompao.definitions.durations import (
    Calendar,
    add_operator_days,
    business_days_after,
    calendar_of,
    is_business_day,
    parse_duration,
)
from bompao.errors import DefinitionError

BANGKOK = ZoneInfo("Asia/Bangkok")
RIYADH = ZoneInfo("Asia/Riyadh")


def after(start: date, days: int, calendar: object, zone: ZoneInfo = BANGKOK) -> date:
    moment = datetime(start.year, start.month, start.day, 9, tzinfo=zone)
    return business_days_after(moment, days, calendar).date()


@pytest.fixture(autouse=True)
def no_operator_days() -> Iterator[None]:
    add_operator_days({})
    yield
    add_operator_days({})


def test_saudi_arabias_weekend_is_friday_and_saturday() -> None:
    # Thursday 5 March 2026: Friday and Saturday are the weekend, Sunday is a working day
    assert after(date(2026, 3, 5), 1, "SA", RIYADH) == date(2026, 3, 8)
    assert not is_business_day(date(2026, 3, 6), "SA")
    assert not is_business_day(date(2026, 3, 7), "SA")
    assert is_business_day(date(2026, 3, 8), "SA")
    # before 29 June 2013 the weekend was Thursday-Friday, and Saturday a working day
    assert not is_business_day(date(2010, 3, 4), "SA")
    assert is_business_day(date(2010, 3, 6), "SA")
    # Thailand keeps Saturday and Sunday
    assert after(date(2026, 3, 5), 1, "TH") == date(2026, 3, 6)
    assert after(date(2026, 3, 6), 1, "TH") == date(2026, 3, 9)


def test_a_calendar_may_choose_its_own_weekend() -> None:
    fri_sat = Calendar("TH", weekend=(4, 5))
    assert after(date(2026, 3, 5), 1, fri_sat) == date(2026, 3, 8)  # Thu -> Sun
    assert is_business_day(date(2026, 3, 8), fri_sat)


def test_across_songkran_and_the_new_year_bridge() -> None:
    # Songkran: Mon 13 - Wed 15 April 2026; ten business days from Thu 9 April
    assert after(date(2026, 4, 9), 10, "TH") == date(2026, 4, 28)
    # New Year's Eve, New Year's Day and the cabinet's bridge day Fri 2 January 2026
    assert after(date(2025, 12, 30), 1, "TH") == date(2026, 1, 5)


def test_added_and_removed_days() -> None:
    extra = Calendar("TH", add=((date(2026, 6, 9), "Special holiday"),))
    assert after(date(2026, 6, 8), 1, "TH") == date(2026, 6, 9)
    assert after(date(2026, 6, 8), 1, extra) == date(2026, 6, 10)
    # Labour Day (Fri 1 May) and Coronation Day (Mon 4 May) off; 1 May removed: a workday
    assert after(date(2026, 4, 30), 1, "TH") == date(2026, 5, 5)
    working = Calendar("TH", remove=(date(2026, 5, 1),))
    assert after(date(2026, 4, 30), 1, working) == date(2026, 5, 1)


def test_categories_bank_and_government() -> None:
    public, bank, government = (Calendar("TH", (c,)) for c in ("public", "bank", "government"))
    # Buddhist Lent Day, Thu 30 July 2026: a public holiday; banks are open
    assert not is_business_day(date(2026, 7, 30), public)
    assert is_business_day(date(2026, 7, 30), bank)
    # National Labour Day, Fri 1 May 2026: off for the private sector only; government
    # offices work, and close on the Royal Ploughing Ceremony, Wed 13 May 2026
    assert not is_business_day(date(2026, 5, 1), public)
    assert is_business_day(date(2026, 5, 1), government)
    assert not is_business_day(date(2026, 5, 13), government)
    assert is_business_day(date(2026, 5, 13), public)
    both = Calendar("TH", ("public", "government"))
    assert not is_business_day(date(2026, 5, 13), both)
    assert not is_business_day(date(2026, 5, 1), both)


def test_the_operator_adds_days_to_every_calendar_of_a_country() -> None:
    assert after(date(2026, 6, 8), 1, "TH") == date(2026, 6, 9)
    add_operator_days({"TH": {"2026-06-09": "Declared late by the cabinet"}})
    assert after(date(2026, 6, 8), 1, "TH") == date(2026, 6, 10)
    assert after(date(2026, 6, 8), 1, Calendar("TH", ("bank",))) == date(2026, 6, 10)
    assert after(date(2026, 6, 8), 1, "SA", RIYADH) == date(2026, 6, 9)
    # a country's days reach its subdivisions' calendars; a subdivision's stay there
    add_operator_days({"US": {"2026-06-09": "Everywhere"}, "US-TX": {"2026-06-10": "Texas"}})
    assert after(date(2026, 6, 8), 1, "US-CA") == date(2026, 6, 10)
    assert after(date(2026, 6, 8), 1, "US-TX") == date(2026, 6, 11)
    assert after(date(2026, 6, 8), 1, "US") == date(2026, 6, 10)


LONG_FORM = """\
journey: calendar-long
version: 1
timezone: Asia/Riyadh
calendar:
  country: TH
  categories: [public]
  weekend: [fri, sat]
  add: {2026-06-09: Special holiday}
  remove: [2026-05-01]
stages:
  a:
    initial: true
    follow_ups:
      - {id: check, after: 1 business day, action: flag, flag: checked}
  b: {final: true}
transitions: [{trigger: go, from: a, to: b}]
"""


def test_the_long_form_in_a_journey() -> None:
    journey = compile_journey(LONG_FORM)
    calendar = calendar_of(journey.calendar)
    assert calendar == Calendar("TH", ("public",), (4, 5),
                                ((date(2026, 6, 9), "Special holiday"),), (date(2026, 5, 1),))
    one = parse_duration("1 business day")
    start = datetime(2026, 3, 5, 9, tzinfo=RIYADH)  # Thursday
    assert one.add(start, timezone=journey.timezone, calendar=journey.calendar).date() == (
        date(2026, 3, 8))
    assert after(date(2026, 6, 8), 1, journey.calendar, RIYADH) == date(2026, 6, 10)
    assert after(date(2026, 4, 30), 1, journey.calendar, RIYADH) == date(2026, 5, 3)


@pytest.mark.parametrize(("calendar", "message"), [
    ("{country: TH, categories: [banks]}",
     ("unknown holiday category 'banks' for 'TH'; categories: armed_forces, bank, "
     "government, public, school, workday")),
    ("{country: XX}", "unknown holiday calendar 'XX'"),
    ("{country: TH, weekend: [friday]}", "calendar.weekend[0]"),
    ("{country: TH, add: {not-a-date: x}}", "calendar.add"),
    ("{country: TH, colour: red}", "unknown key 'colour'"),
])
def test_a_bad_long_form_is_a_diagnostic(calendar: str, message: str) -> None:
    text = LONG_FORM.replace(LONG_FORM[LONG_FORM.index("calendar:"):
                                       LONG_FORM.index("stages:")], f"calendar: {calendar}\n")
    with pytest.raises(DefinitionError) as info:
        compile_journey(text)
    assert any(message in str(d) for d in info.value.diagnostics), [
        str(d) for d in info.value.diagnostics]
