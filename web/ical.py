"""The calendar feed: each user's follow-ups and stage deadlines as iCalendar (RFC 5545).

A user's calendar holds what bompao would tell them about, on the projects their roles
and partner let them see:

- every pending ``notify`` follow-up that names a role in which the user is assigned on
  the project (the people the scheduler daemon notifies), at its due time, with the
  message it will send;
- the deadline of each stage such a user's project is in: stage entry plus the stage's
  ``expected_duration`` (the at-risk report counts a project past it as overdue), as an
  all-day event;
- every coaching session the user gave (``bompao project session ID --coach NAME``,
  the coach matched to the user's display name as the engine compares names), on a
  project they can see, as an all-day event on its date with its minutes and notes.

The feed lives at a secret URL, ``/api/v1/calendar/TOKEN.ics``: calendar applications
(Google Calendar, Outlook) cannot send a bearer header. The token is 256 random bits;
only its SHA-256 is stored (``feed_tokens``), it reads this one calendar and nothing
else, and making a new one (``bompao users feed USERNAME``) revokes the old. An unknown
or revoked token, or a disabled user, is 404. The icalendar library writes the text, so
commas, semicolons, backslashes and newlines in names are escaped and long lines folded.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from icalendar import Calendar, Event

from bompao.definitions.messages import text
from bompao.definitions.texts import duration_text, pick
from bompao.engine.actions import ActionContext
from bompao.engine.actor import person_key
from bompao.engine.config import Config
from bompao.engine.engine import Engine
from bompao.errors import NotFound
from bompao.storage import accounts as rows
from bompao.storage.coaches import journey_events
from bompao.storage.records import Project
from bompao.web.accounts import Accounts, User
from bompao.web.deps import Engined

__all__ = ["FEED_PREFIX", "calendar", "feed_user", "new_feed", "revoke_feeds", "router"]

router = APIRouter(tags=["calendar"])
FEED_PREFIX = "bompaocal_"
"""What every feed token starts with (it is not an API token: ``bompao_`` is)."""
_PRODID = "-//bompao//calendar feed//EN"
_FOLLOW_UP_MINUTES = 30


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_feed(accounts: Accounts, username: str) -> str:
    """A new feed token for ``username`` (its earlier ones revoked); not stored itself.

    Raises:
        NotFound: no such user.
    """
    user = accounts.get(username)
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    now = accounts.clock()
    with accounts.db.begin() as conn:
        rows.revoke_feed_tokens(conn, user.id, now)
        rows.insert_feed_token(conn, user.id, _digest(token), now)
    return token


def revoke_feeds(accounts: Accounts, username: str) -> int:
    """Revoke ``username``'s feed tokens; how many were live.

    Raises:
        NotFound: no such user.
    """
    user = accounts.get(username)
    with accounts.db.begin() as conn:
        return rows.revoke_feed_tokens(conn, user.id, accounts.clock())


def feed_user(accounts: Accounts, token: str) -> User | None:
    """The enabled user whose live feed token this is, or ``None``."""
    if not token.startswith(FEED_PREFIX) or len(token) > 200:
        return None
    with accounts.db.begin(write=False) as conn:
        row = rows.feed_owner(conn, _digest(token))
    if row is None or row.disabled:
        return None
    return User.from_row(row)


def _assigned_roles(project: Project, name: str) -> set[str]:
    key = person_key(name)
    return {role for role, people in project.assignments.items()
            if any(person_key(p) == key for p in people)}


def _message(engine: Engine, project: Project, row: dict[str, Any], follow_up: Any, *,
             due: datetime, lang: str) -> str:
    journey = engine.journey(project.journey, project.version)
    context = ActionContext(project, journey, follow_up, row["occurrence"], due,
                            row["idempotency_key"], Config(), engine.now(), lang)
    try:
        return context.message()
    except Exception:
        return f"{project.name}: {follow_up.name}"


def calendar(engine: Engine, user: User, *, lang: str = "en") -> bytes:
    """The user's calendar as iCalendar bytes (see the module's docstring)."""
    actor = user.actor()
    projects = {p.id: p for p in engine.list_projects(actor=actor)}
    mine = {pid: roles for pid, p in projects.items()
            if (roles := _assigned_roles(p, user.display_name))}
    feed = Calendar()
    feed.add("prodid", _PRODID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", f"bompao: {user.display_name}")
    stamp = engine.now().astimezone(UTC)
    for row in engine.list_follow_ups(status="pending", actor=actor, limit=None):
        project = projects.get(row["project"])
        if project is None or row["project"] not in mine or row["stage"] != project.stage:
            continue
        journey = engine.journey(project.journey, project.version)
        follow_up = next((f for f in journey.stages[project.stage].follow_ups
                          if f.name == row["spec"]), None)
        if follow_up is None or follow_up.action != "notify" \
                or not set(follow_up.spec.to) & mine[project.id]:
            continue
        due = datetime.fromisoformat(row["due_at"])  # an offset, not a zone: write UTC
        event = Event()
        event.add("uid", f"follow-up-{row['id']}@bompao")
        event.add("dtstamp", stamp)
        event.add("dtstart", due.astimezone(UTC))
        event.add("dtend", due.astimezone(UTC) + timedelta(minutes=_FOLLOW_UP_MINUTES))
        event.add("summary", f"{project.name}: {pick(follow_up.spec.title, lang, row['spec'])}")
        event.add("description", _message(engine, project, row, follow_up, due=due, lang=lang))
        event.add("categories", ["follow-up"])
        feed.add_component(event)
    for project_id in mine:
        project = projects[project_id]
        journey = engine.journey(project.journey, project.version)
        stage = journey.stages[project.stage]
        if stage.final or stage.expected_duration is None:
            continue
        ends = stage.expected_duration.add(project.stage_entered_at,
                                           timezone=journey.timezone,
                                           calendar=journey.calendar)
        event = Event()
        event.add("uid", f"deadline-{project.id}-{project.visit}@bompao")
        event.add("dtstamp", stamp)
        event.add("dtstart", ends.date())
        event.add("dtend", ends.date() + timedelta(days=1))
        event.add("summary", text("calendar.deadline_ends", lang, project=project.name,
                                  stage=stage.label(lang),
                                  duration=duration_text(stage.expected_duration, lang)))
        event.add("categories", ["deadline"])
        feed.add_component(event)
    for event in _sessions(engine, user, projects, stamp, lang):
        feed.add_component(event)
    return bytes(feed.to_ical())


def _sessions(engine: Engine, user: User, projects: dict[int, Project], stamp: datetime,
              lang: str) -> list[Event]:
    """The coaching sessions ``user`` gave on ``projects`` (the ones they may see)."""
    me = person_key(user.display_name)
    partner = user.actor().partner
    found: list[Event] = []
    for journey in sorted({p.journey for p in projects.values()}):
        with engine.db.begin(write=False) as conn:
            logged = journey_events(conn, journey, ("coached",), partner=partner)
        for row in logged:
            project = projects.get(row.project_id)
            payload = row.payload or {}
            if project is None or person_key(str(payload.get("coach", ""))) != me:
                continue
            day = datetime.fromisoformat(str(payload["on"])).date()
            event = Event()
            event.add("uid", f"session-{row.project_id}-{row.seq}@bompao")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", text("ical.session", lang, project=project.name,
                                      minutes=int(payload.get("minutes", 0))))
            if payload.get("notes"):
                event.add("description", str(payload["notes"]))
            event.add("categories", ["coaching-session"])
            found.append(event)
    return found


@router.get("/calendar/{token}.ics", summary="A user's calendar feed (the secret URL)",
            response_class=Response,
            responses={200: {"content": {"text/calendar": {}}},
                       404: {"description": "unknown or revoked feed, or a disabled user"}})
def calendar_feed(request: Request, engine: Engined,
                  token: Annotated[str, Path(max_length=200)],
                  lang: Annotated[str, Query(pattern="^(en|th)$")] = "en") -> Response:
    """Follow-ups due, stage deadlines and coaching sessions of ``bompao users feed
    USERNAME``'s user."""
    user = feed_user(request.app.state.accounts, token)
    if user is None:
        raise NotFound("no such calendar feed: it was revoked or never existed; ask for a "
                       "new one ('bompao users feed USERNAME')")
    return Response(calendar(engine, user, lang=lang),
                    media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="bompao.ics"'})
