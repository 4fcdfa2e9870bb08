"""``/events/stream``: Server-Sent Events from the event log, for the pages to refresh.

The stream reads the event log after the last id it sent (the page's ``after``, else
``Last-Event-ID``, else the newest), within the signed-in user's partner scope: on
PostgreSQL as soon as a commit notifies (``LISTEN/NOTIFY``, with a slow poll as the
safety net), on SQLite by polling (:func:`bompao.web.stream.woken_by_changes`).
Each event is sent twice: as ``changed`` (the board listens) and as
``project-ID`` (that project's page listens); the data is the event's id, project,
kind and stage, nothing more. A stream ends after :data:`STREAM_SECONDS` (the browser
reconnects with ``Last-Event-ID``), so a server stopping never waits on an idle page.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from bompao.engine.engine import Engine
from bompao.storage import feeds
from bompao.storage.latest import latest_event_id
from bompao.web.accounts import User
from bompao.web.pages.common import engine_of, user_or_none
from bompao.web.stream import woken_by_changes

__all__ = ["STREAM_SECONDS", "last_event", "router"]

router = APIRouter(include_in_schema=False)
STREAM_SECONDS = 120.0
_BATCH = 200


def last_event(engine: Engine, user: User) -> int:
    """The newest event id the user may see (where a page's stream starts)."""
    with engine.db.begin(write=False) as conn:
        return latest_event_id(conn, user.partner)


def _read(engine: Engine, user: User, after: int) -> list[dict[str, object]]:
    scope = {} if user.partner is None else {"partner": user.partner}
    with engine.db.begin(write=False) as conn:
        return feeds.events_after(conn, after=after, limit=_BATCH, **scope)


def _frame(event: dict[str, object]) -> str:
    data = json.dumps({"id": event["id"], "project": event["project"], "kind": event["kind"],
                       "to": event["to"]})
    return (f"id: {event['id']}\nevent: changed\ndata: {data}\n\n"
            f"event: project-{event['project']}\ndata: {data}\n\n")


@router.get("/events/stream")
async def stream(request: Request,
                 after: Annotated[int | None, Query(ge=0)] = None) -> StreamingResponse:
    """The change feed as ``text/event-stream``.

    Raises:
        HTTPException: 401 without a signed-in session.
    """
    engine = engine_of(request)
    user = await anyio.to_thread.run_sync(user_or_none, request)
    if user is None:
        raise HTTPException(401, "sign in first (POST /login)")
    header = request.headers.get("last-event-id", "")
    start = int(header) if header.isdigit() else after
    if start is None:
        start = await anyio.to_thread.run_sync(last_event, engine, user)

    async def frames() -> AsyncIterator[str]:
        cursor = start
        yield "retry: 2000\n\n"
        ends = time.monotonic() + STREAM_SECONDS
        with woken_by_changes(request) as changed:
            while time.monotonic() < ends:
                if await request.is_disconnected():
                    return
                found = await anyio.to_thread.run_sync(_read, engine, user, cursor)
                for event in found:
                    cursor = int(str(event["id"]))
                    yield _frame(event)
                if len(found) < _BATCH:
                    await changed()
                    yield ": idle\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
