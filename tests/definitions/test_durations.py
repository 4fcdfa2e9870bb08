"""Durations: calendar months, business days with Thai public holidays, local time kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bompao.definitions import Duration, parse_duration
from bompao.definitions.durations import business_days_after, is_business_day

BANGKOK = ZoneInfo("Asia/Bangkok")
BERLIN = ZoneInfo("Europe/Berlin")
ALLOWED = "N day(s), week(s), month(s), year(s) or business day(s), e.g. '14 days'"


def bkk(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)  # type: ignore[misc]


@pytest.mark.parametrize(("text", "count", "unit", "shown"), [
    ("1 day", 1, "day", "1 day"),
    ("14 days", 14, "day", "14 days"),
    ("2 weeks", 2, "week", "2 weeks"),
    ("1 month", 1, "month", "1 month"),
    ("6 months", 6, "month", "6 months"),
    ("1 year", 1, "year", "1 year"),
    ("10 business days", 10, "business day", "10 business days"),
    ("1 business day", 1, "business day", "1 business day"),
    ("  3   business   days  ", 3, "business day", "3 business days"),
    ("0 days", 0, "day", "0 days"),
])
def test_parse(text: str, count: int, unit: str, shown: str) -> None:
    duration = parse_duration(text)
    assert duration == Duration(count, unit)
    assert str(duration) == shown
    assert parse_duration(duration) is duration


@pytest.mark.parametrize("text", [
    "14", "days", "2 fortnights", "-1 days", "1.5 days", "1234567 days", "14 days ago",
    "fourteen days", "14days", "3 Days", "", "1 business", 14, None, 1.5, ["14 days"],
])
def test_parse_errors_list_the_allowed_units(text: object) -> None:
    with pytest.raises(ValueError, match="bad duration") as caught:
        parse_duration(text)
    assert str(caught.value) == f"bad duration {text!r}: expected {ALLOWED}"


@pytest.mark.parametrize(("start", "months", "expected"), [
    (bkk(2026, 1, 31, 9), 1, bkk(2026, 2, 28, 9)),   # non-leap year
    (bkk(2028, 1, 31, 9), 1, bkk(2028, 2, 29, 9)),   # leap year
    (bkk(2026, 3, 31, 9), 1, bkk(2026, 4, 30, 9)),
    (bkk(2026, 1, 31, 9), 2, bkk(2026, 3, 31, 9)),   # not Feb 28 + 1 month
    (bkk(2026, 8, 31, 9), 6, bkk(2027, 2, 28, 9)),
    (bkk(2026, 12, 15, 9), 1, bkk(2027, 1, 15, 9)),
])
def test_months_are_calendar_months(start: datetime, months: int, expected: datetime) -> None:
    assert parse_duration(f"{months} months").add(start, timezone="Asia/Bangkok") == expected


def test_times_multiplies_before_adding_so_month_ends_do_not_drift() -> None:
    month = parse_duration("1 month")
    start = bkk(2026, 1, 31, 9)
    assert [month.add(start, timezone="Asia/Bangkok", times=n) for n in (1, 2, 3)] == [
        bkk(2026, 2, 28, 9), bkk(2026, 3, 31, 9), bkk(2026, 4, 30, 9)]


def test_years_from_the_29th_of_february() -> None:
    assert parse_duration("1 year").add(bkk(2028, 2, 29, 9), timezone="Asia/Bangkok") == \
        bkk(2029, 2, 28, 9)


def test_days_and_weeks() -> None:
    start = bkk(2026, 2, 20, 9)
    assert parse_duration("14 days").add(start, timezone="Asia/Bangkok") == bkk(2026, 3, 6, 9)
    assert parse_duration("2 weeks").add(start, timezone="Asia/Bangkok") == bkk(2026, 3, 6, 9)


def test_months_are_counted_in_the_journeys_timezone() -> None:
    # 20:00 UTC on 31 January is already 03:00 on 1 February in Bangkok
    start = datetime(2026, 1, 31, 20, tzinfo=UTC)
    result = parse_duration("1 month").add(start, timezone="Asia/Bangkok")
    assert result == bkk(2026, 3, 1, 3)
    assert result.tzinfo is UTC  # handed back in the caller's zone
    assert parse_duration("1 month").add(start, timezone="UTC") == \
        datetime(2026, 2, 28, 20, tzinfo=UTC)


def test_bangkok_has_no_dst_and_keeps_local_time() -> None:
    start = bkk(2026, 3, 1, 9, 30)
    for text in ("1 month", "3 months", "6 months", "1 year", "30 days"):
        result = parse_duration(text).add(start, timezone="Asia/Bangkok")
        assert result.astimezone(BANGKOK).time() == start.time(), text
        assert result.utcoffset() == start.utcoffset()


def test_local_time_is_kept_across_a_dst_change() -> None:
    start = datetime(2026, 3, 28, 9, tzinfo=BERLIN)  # the day before summer time starts
    result = parse_duration("1 day").add(start, timezone="Europe/Berlin")
    assert result == datetime(2026, 3, 29, 9, tzinfo=BERLIN)
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)  # short day
    month = parse_duration("1 month").add(start, timezone="Europe/Berlin")
    assert month.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 4, 28, 9)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware datetimes only"):
        parse_duration("1 day").add(datetime(2026, 1, 1, 9))


# --- business days -------------------------------------------------------------------------

def test_business_days_skip_weekends() -> None:
    friday = bkk(2026, 3, 6, 9)
    one = parse_duration("1 business day")
    assert one.add(friday, timezone="Asia/Bangkok", calendar="TH") == bkk(2026, 3, 9, 9)
    assert parse_duration("5 business days").add(
        friday, timezone="Asia/Bangkok", calendar="TH") == bkk(2026, 3, 13, 9)


def test_business_days_skip_songkran() -> None:
    # Songkran 2026: Monday 13 to Wednesday 15 April
    friday = bkk(2026, 4, 10, 14)
    one = parse_duration("1 business day")
    assert one.add(friday, timezone="Asia/Bangkok", calendar="TH") == bkk(2026, 4, 16, 14)
    assert one.add(friday, timezone="Asia/Bangkok", calendar=None) == bkk(2026, 4, 13, 14)
    assert parse_duration("3 business days").add(
        friday, timezone="Asia/Bangkok", calendar="TH") == bkk(2026, 4, 20, 14)


def test_business_days_skip_chakri_day_and_cross_the_new_year() -> None:
    assert parse_duration("1 business day").add(
        bkk(2026, 4, 3, 9), timezone="Asia/Bangkok", calendar="TH") == bkk(2026, 4, 7, 9)
    # 31 Dec 2026 and 1 Jan 2027 are holidays, then a weekend
    assert parse_duration("2 business days").add(
        bkk(2026, 12, 30, 9), timezone="Asia/Bangkok", calendar="TH") == bkk(2027, 1, 5, 9)


def test_business_days_use_the_local_date() -> None:
    # Friday 20:00 UTC is Saturday 03:00 in Bangkok: the next business day is Monday
    start = datetime(2026, 3, 6, 20, tzinfo=UTC)
    result = parse_duration("1 business day").add(start, timezone="Asia/Bangkok", calendar="TH")
    assert result == bkk(2026, 3, 9, 3)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 4, 10), True), (date(2026, 4, 11), False), (date(2026, 4, 12), False),
    (date(2026, 4, 13), False), (date(2026, 4, 14), False), (date(2026, 4, 15), False),
    (date(2026, 4, 16), True), (date(2026, 12, 10), False), (date(2026, 12, 11), True),
])
def test_is_business_day_in_thailand(day: date, expected: bool) -> None:
    assert is_business_day(day, "TH") is expected


def test_zero_business_days_is_the_start() -> None:
    start = bkk(2026, 4, 11, 9)
    assert business_days_after(start, 0, "TH") == start


def test_approximate_days() -> None:
    assert parse_duration("2 weeks").approx_days() == 14
    assert parse_duration("6 months").approx_days() == pytest.approx(182.6, abs=0.1)
    assert parse_duration("5 business days").approx_days() == pytest.approx(7)
