"""``/api/v1/events/stream``: the change feed as Server-Sent Events.

Each event of the user's partner's projects is one SSE message: ``id`` is the event id
(a reconnecting ``EventSource`` sends it back as ``Last-Event-ID`` and misses nothing),
``data`` the same JSON object ``/api/v1/events`` lists. The stream reads the event log
(:func:`bompao.storage.feeds.events_after`), so it sees every writer: other workers,
other machines, the CLI and the scheduler daemon. On PostgreSQL it reads when a commit
that appended events notifies (``LISTEN/NOTIFY``, :mod:`bompao.storage.notify`: one
listening connection per worker, fanned out to its streams by :class:`Wakeups`), and
every :data:`NOTIFIED_POLL_SECONDS` as a safety net; on SQLite it reads every
:data:`POLL_SECONDS` (``BOMPAO_STREAM_POLL_SECONDS`` overrides both). A comment line
every :data:`HEARTBEAT_SECONDS` keeps proxies from closing an idle stream, and the
user's credentials are checked again every :data:`RECHECK_SECONDS`: a revoked token or
a disabled user ends the stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from bompao.engine.engine import Engine
from bompao.storage import feeds
from bompao.web.deps import Engined, Signed
from bompao.web.security import authenticate

__all__ = ["HEARTBEAT_SECONDS", "NOTIFIED_POLL_SECONDS", "POLL_SECONDS", "RECHECK_SECONDS",
           "Wakeups", "poll_seconds", "router", "sse", "woken_by_changes"]

router = APIRouter(tags=["api"])
POLL_SECONDS = 0.5
"""Seconds between reads of the event log where nothing notifies (SQLite)."""
NOTIFIED_POLL_SECONDS = 5.0
"""Seconds between reads of the event log on PostgreSQL, where commits notify: only a
safety net (for a notification lost while the listener reconnected)."""
POLL_ENV = "BOMPAO_STREAM_POLL_SECONDS"
HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 30.0
_BATCH = 200


def sse(event: dict[str, Any]) -> str:
    """One event as an SSE message (JSON has no raw newline, so one ``data`` line)."""
    return f"id: {event['id']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


class Wakeups:
    """The open streams of one worker, woken by the PostgreSQL listener.

    The listener (:class:`~bompao.storage.notify.Listener`, one connection) starts with
    the first subscriber and stops when the last one leaves. Each subscriber is an
    :class:`asyncio.Event` of its own event loop, set from the listener's thread.

    Args:
        engine: the app's engine (on SQLite, nothing ever wakes a subscriber).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.notifies = engine.db.dialect == "postgresql"
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()
        self._listener: Any = None

    @property
    def listener(self) -> Any:
        """The running :class:`~bompao.storage.notify.Listener`, if any."""
        return self._listener

    def _woken(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, event in subscribers:
            with suppress(RuntimeError):  # a loop closed meanwhile
                loop.call_soon_threadsafe(event.set)

    @contextmanager
    def subscribed(self) -> Iterator[asyncio.Event]:
        """An event set whenever events are committed, while the block runs (call it on
        the event loop that waits on it)."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._subscribers.add(entry)
            if self.notifies and self._listener is None:
                from bompao.storage.notify import Listener  # noqa: PLC0415 - PostgreSQL

                self._listener = Listener(self.engine.db, self._woken)
                self._listener.start()
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.discard(entry)
                listener = self._listener if not self._subscribers else None
                if listener is not None:
                    self._listener = None
            if listener is not None:
                listener.stop(timeout=0)


_WAKEUPS_LOCK = threading.Lock()


def _wakeups(request: Request) -> Wakeups:
    state = request.app.state
    found: Wakeups | None = getattr(state, "wakeups", None)
    if found is None:
        with _WAKEUPS_LOCK:
            found = getattr(state, "wakeups", None)
            if found is None:
                found = Wakeups(state.engine)
                state.wakeups = found
    return found


def poll_seconds(notified: bool) -> float:
    """Seconds between reads of the event log (``BOMPAO_STREAM_POLL_SECONDS``, else
    :data:`NOTIFIED_POLL_SECONDS` where commits notify, else :data:`POLL_SECONDS`)."""
    given = os.environ.get(POLL_ENV)
    if given:
        try:
            return max(0.05, float(given))
        except ValueError:
            pass
    return NOTIFIED_POLL_SECONDS if notified else POLL_SECONDS


@contextmanager
def woken_by_changes(request: Request) -> Iterator[Any]:
    """For a stream of the event log (this one, the pages' own): a coroutine function
    ``wait()`` that returns when events may have been committed, on PostgreSQL as soon
    as a commit notifies, at the latest after :func:`poll_seconds` (or
    :data:`HEARTBEAT_SECONDS`, if sooner)."""
    wakeups = _wakeups(request)
    every = poll_seconds(wakeups.notifies)
    with wakeups.subscribed() as event:

        async def wait(at_most: float = min(every, HEARTBEAT_SECONDS)) -> None:
            with suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), at_most)
            event.clear()

        yield wait


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
        with woken_by_changes(request) as changed:
            async for message in _messages(changed):
                yield message

    async def _messages(changed: Any) -> AsyncIterator[str]:
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
            await changed()

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
