"""The calendar feed against a real ``bompao serve``: ``bompao users feed`` prints a secret
URL once; the feed, parsed back with icalendar, holds the user's follow-ups and stage
deadlines and nothing of another partner; hostile names come through as text; a
revoked, replaced or unknown feed is 404."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from dateutil.relativedelta import relativedelta
from icalendar import Calendar
from web_harness import Server, new_project, problem_of

HOSTILE = 'Evil, "name"; a\\b <script>alert(1)</script>\nSUMMARY:injected\r\nEND:VEVENT'
SHOWN = HOSTILE.replace("\r\n", "\n")
"""iCalendar text escapes a line break as ``\\n``; a carriage return has no escape."""


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BOMPAO_PARTNER"}
    return subprocess.run([sys.executable, "-m", "bompao.cli", "--db", server.url, *args],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def _feed_url(server: Server, username: str) -> str:
    done = _cli(server, "users", "feed", username, "--url", server.base + "/")
    assert done.returncode == 0, done.stderr
    url = done.stdout.splitlines()[0]
    assert url.startswith(f"{server.base}/api/v1/calendar/bompaocal_")
    assert url.endswith(".ics")
    server.secrets.append(url.rsplit("/", 1)[1].removesuffix(".ics"))
    return url


def _assign(client: httpx.Client, project_id: int, person: str, role: str = "coach") -> None:
    answer = client.post(f"/api/v1/projects/{project_id}/assignments",
                         json={"role": role, "person": person})
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def desk(server: Server) -> dict[str, Any]:
    """Cal Coach of cmu, assigned (as coach) to a hostile-named project and (as committee)
    to another; a cmu project without them; a khonkaen project whose coach has the same
    display name."""
    server.add_user("cal-a", "Cal Coach", "coach@cmu", "program_manager@cmu")
    server.add_user("cal-b", "Cal Coach", "coach@khonkaen", "program_manager@khonkaen")
    with server.as_user("cal-a") as a, server.as_user("cal-b") as b:
        hostile = new_project(a, HOSTILE)
        assert hostile["name"] == HOSTILE
        committee = new_project(a, "Committee only")
        unassigned = new_project(a, "Someone else's")
        other = new_project(b, "Khon Kaen's")
        _assign(a, hostile["id"], "cal coach")  # the same person, spelt otherwise
        _assign(a, committee["id"], "Cal Coach", role="committee")
        _assign(a, unassigned["id"], "Somchai")
        _assign(b, other["id"], "Cal Coach")
        follow_ups = a.get("/api/v1/followups").json()
    return {"hostile": hostile, "committee": committee, "unassigned": unassigned,
            "other": other, "follow_ups": follow_ups, "url": _feed_url(server, "cal-a")}


def _calendar(url: str) -> tuple[httpx.Response, Calendar]:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer, Calendar.from_ical(answer.content)


def test_the_feed_holds_the_users_follow_ups_and_deadlines(
        server: Server, desk: dict[str, Any]) -> None:
    answer, feed = _calendar(desk["url"])
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    events = {str(e["uid"]): e for e in feed.walk("VEVENT")}
    hostile = desk["hostile"]
    # only the coach's own project: the committee role is not notified by idea_check_in
    expected = {f"follow-up-{f['id']}@bompao": f for f in desk["follow_ups"]
                if f["project"] == hostile["id"]}
    assert len(expected) == 1
    deadline_uids = {f"deadline-{hostile['id']}-1@bompao",
                     f"deadline-{desk['committee']['id']}-1@bompao"}
    assert set(events) == set(expected) | deadline_uids
    [(uid, follow_up)] = expected.items()
    event = events[uid]
    assert event.decoded("dtstart") == datetime.fromisoformat(follow_up["due_at"]).replace(
        microsecond=0)
    assert str(event["summary"]) == f"{SHOWN}: idea_check_in"
    assert str(event["description"]) == (f"Check in with {SHOWN} on its problem statement "
                                         "and stakeholder map.")
    created = datetime.fromisoformat(hostile["stage_entered_at"]).astimezone(
        ZoneInfo("Asia/Bangkok"))
    deadline = events[f"deadline-{hostile['id']}-1@bompao"]
    assert deadline.decoded("dtstart") == (created + relativedelta(months=1)).date()
    assert str(deadline["summary"]) == f"{SHOWN}: Idea ends (1 month)"
    _, thai = _calendar(desk["url"] + "?lang=th")
    [thai_deadline] = [e for e in thai.walk("VEVENT")
                       if str(e["uid"]) == f"deadline-{hostile['id']}-1@bompao"]
    assert str(thai_deadline["summary"]).startswith(f"{SHOWN}: ครบกำหนดขั้น")
    assert str(thai_deadline["summary"]).endswith("(1 เดือน)")


def test_hostile_text_is_escaped_not_obeyed(server: Server, desk: dict[str, Any]) -> None:
    answer, feed = _calendar(desk["url"])
    text = answer.content.decode("utf-8")
    unfolded = text.replace("\r\n ", "")
    lines = unfolded.split("\r\n")
    assert not any(line.startswith("SUMMARY:injected") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == len(
        list(feed.walk("VEVENT"))) == 3
    assert r"Evil\, \"name\"\; a\\b" in unfolded or r'Evil\, "name"\; a\\b' in unfolded
    assert r"\nSUMMARY:injected" in unfolded
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))


def test_no_other_partner_and_no_unassigned_project_in_the_feed(
        server: Server, desk: dict[str, Any]) -> None:
    answer, _ = _calendar(desk["url"])
    text = answer.content.decode("utf-8")
    assert "Khon Kaen" not in text
    assert "Someone else" not in text
    b_url = _feed_url(server, "cal-b")
    b_text = httpx.get(b_url, timeout=30).text
    assert "Khon Kaen's" in b_text
    assert "Evil" not in b_text


def test_a_replaced_revoked_or_unknown_feed_is_404(server: Server,
                                                   desk: dict[str, Any]) -> None:
    server.add_user("cal-c", "Cal Three", "coach@cmu")
    first = _feed_url(server, "cal-c")
    second = _feed_url(server, "cal-c")
    assert httpx.get(second, timeout=30).status_code == 200
    replaced = httpx.get(first, timeout=30)
    assert replaced.status_code == 404
    assert problem_of(replaced).startswith("no such calendar feed")
    api_token = httpx.get(f"{server.base}/api/v1/calendar/{server.tokens['cal-c']}.ics")
    assert api_token.status_code == 404
    feed_token = second.rsplit("/", 1)[1].removesuffix(".ics")
    as_bearer = httpx.get(f"{server.base}/api/v1/projects",
                          headers={"Authorization": f"Bearer {feed_token}"})
    assert as_bearer.status_code == 401
    revoked = _cli(server, "--json", "users", "feed", "cal-c", "--revoke")
    assert revoked.returncode == 0, revoked.stderr
    assert '"revoked": 1' in revoked.stdout
    assert httpx.get(second, timeout=30).status_code == 404
    third = _feed_url(server, "cal-c")
    server.accounts.set_disabled("cal-c")
    assert httpx.get(third, timeout=30).status_code == 404
    assert httpx.get(f"{server.base}/api/v1/calendar/bompaocal_guess.ics").status_code == 404


def test_feed_for_an_unknown_user_is_refused(server: Server) -> None:
    done = _cli(server, "users", "feed", "nobody")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: no user 'nobody'\n"


def test_the_coachs_sessions_are_in_their_feed(server: Server) -> None:
    """Sessions logged with ``project session`` appear in the coach's feed on their day,
    with their minutes and notes; not another coach's, not another partner's."""
    from pathlib import Path as FilePath  # noqa: PLC0415

    from bompao.engine.coaching import add_coach, log_session  # noqa: PLC0415

    call = FilePath(__file__).resolve().parents[1] / "fixtures" / "intake" / "call.yaml"
    server.engine.publish(call.read_text(encoding="utf-8").replace(
        "journey: call", "journey: cal-coaching").replace("  opens: 2027-01-01\n", "")
        .replace("  closes: 2027-02-28\n", ""))
    server.add_user("cal-s", "Sam Coach", "coach@cmu")
    server.add_user("cal-t", "Tam Coach", "coach@cmu")
    add_coach(server.engine, "Sam Coach", ["idea_development"], 3)
    add_coach(server.engine, "Tam Coach", ["idea_development"], 3)
    mine = server.engine.create_project("cal-coaching", "Sam's, a; b", partner="cmu")
    other = server.engine.create_project("cal-coaching", "Khon Kaen coaching",
                                         partner="khonkaen")
    today = datetime.now(ZoneInfo("Asia/Bangkok")).date()
    first = today.replace(day=1) if today.day > 1 else today
    log_session(server.engine, mine.id, "sam coach", first.isoformat(), 60,
                notes="Stakeholder map, line two\nand a <b>tag</b>")
    log_session(server.engine, mine.id, "Sam Coach", today.isoformat(), 45)
    log_session(server.engine, mine.id, "Tam Coach", today.isoformat(), 30)
    log_session(server.engine, other.id, "Sam Coach", today.isoformat(), 90)
    _, feed = _calendar(_feed_url(server, "cal-s"))
    sessions = [e for e in feed.walk("VEVENT")
                if "coaching-session" in [str(c) for c in e["categories"].cats]]
    got = sorted((e.decoded("dtstart"), str(e["summary"]), str(e.get("description", "")))
                 for e in sessions)
    assert got == sorted([
        (first, "Sam's, a; b: coaching session (60 min)",
         "Stakeholder map, line two\nand a <b>tag</b>"),
        (today, "Sam's, a; b: coaching session (45 min)", "")])
    assert all(e.decoded("dtend") - e.decoded("dtstart") == timedelta(days=1)
               for e in sessions)
    assert len({str(e["uid"]) for e in sessions}) == 2
    thai = Calendar.from_ical(httpx.get(_feed_url(server, "cal-s") + "?lang=th",
                                        timeout=30).content)
    assert "Sam's, a; b: การโค้ช (45 นาที)" in [str(e["summary"]) for e in thai.walk("VEVENT")]
    _, tam = _calendar(_feed_url(server, "cal-t"))
    assert [str(e["summary"]) for e in tam.walk("VEVENT")] == [
        "Sam's, a; b: coaching session (30 min)"]
