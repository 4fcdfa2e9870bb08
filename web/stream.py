"""``/api/v1/events/stream``: the change feed as Server-Sent Events.

Each event of the user's partner's projects is one SSE message: ``id`` is the event id
(a reconnecting ``EventSource`` sends it back as ``Last-Event-ID`` and misses nothing),
``data`` the same JSON object ``/api/v1/events`` lists. The stream reads the event log
(:func:`bompao.storage.feeds.events_after`) every :data:`POLL_SECONDS`, so it sees every
writer: other workers, other machines, the CLI and the scheduler daemon. A comment line
every :data:`HEARTBEAT_SECONDS` keeps proxies from closing an idle stream, and the
user's credentials are checked again every :data:`RECHECK_SECONDS`: a revoked token or
a disabled user ends the stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from bompao.engine.engine import Engine
from bompao.storage import feeds
from bompao.web.deps import Engined, Signed
from bompao.web.security import authenticate

__all__ = ["HEARTBEAT_SECONDS", "POLL_SECONDS", "RECHECK_SECONDS", "router", "sse"]

router = APIRouter(tags=["api"])
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 30.0
_BATCH = 200


def sse(event: dict[str, Any]) -> str:
    """One event as an SSE message (JSON has no raw newline, so one ``data`` line)."""
    return f"id: {event['id']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def _scope(partner: str | None) -> dict[str, Any]:
    return {} if partner is None else {"partner": partner}


def _start(engine: Engine, partner: str | None, after: int | None,
           last_event_id: str | None) -> int:
    if last_event_id is not None and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    if after is not None:
        return after
    with engine.db.begin(write=False) as conn:
        return feeds.last_event_id(conn, **_scope(partner))


@router.get("/events/stream", summary="The change feed as Server-Sent Events",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`id: EVENT_ID` and `data: EVENT_JSON` per event"}})
async def events_stream(
        request: Request, user: Signed, engine: Engined,
        after: Annotated[int | None, Query(ge=0, description="start after this event id "
                                           "(default: only events from now on)")] = None,
        last_event_id: Annotated[str | None, Header(description="sent by a reconnecting "
                                                    "EventSource; wins over `after`")] = None,
) -> StreamingResponse:
    """Events of the user's partner's projects, oldest first, as they are written."""
    partner = user.partner
    cursor = await anyio.to_thread.run_sync(_start, engine, partner, after, last_event_id)
    accounts = request.app.state.accounts

    def read(since: int) -> list[dict[str, Any]]:
        with engine.db.begin(write=False) as conn:
            return feeds.events_after(conn, after=since, limit=_BATCH, **_scope(partner))

    def still_allowed() -> bool:
        try:
            return authenticate(request, accounts).id == user.id
        except HTTPException:
            return False

    async def messages() -> AsyncIterator[str]:
        nonlocal cursor
        yield "retry: 2000\n\n"
        beat = checked = time.monotonic()
        while True:
            found = await anyio.to_thread.run_sync(read, cursor)
            for event in found:
                yield sse(event)
            if found:
                cursor = found[-1]["id"]
                beat = time.monotonic()
                if len(found) == _BATCH:
                    continue
            now = time.monotonic()
            if now - checked >= RECHECK_SECONDS:
                if not await anyio.to_thread.run_sync(still_allowed):
                    return
                checked = now
            if now - beat >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                beat = now
            await anyio.sleep(POLL_SECONDS)

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
