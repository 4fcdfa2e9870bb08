"""What every API route depends on: the signed-in user, the shared engine, the partner a
request may look at.

A bearer token's user is remembered for :data:`TOKEN_CACHE_SECONDS` per worker, keyed by
the token's SHA-256 (never the token): looking a token up cost more than the advance a
request makes (``bench/web.py``). So a token revoked, or a user disabled, stops working
within that many seconds on every worker, not at once; sessions are read every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request

from bompao.definitions.messages import Message
from bompao.engine.engine import Engine
from bompao.errors import PermissionDenied
from bompao.web.accounts import User
from bompao.web.security import authenticate

__all__ = ["HAND_BACK_BATCH", "TOKEN_CACHE_SECONDS", "Engined", "IfMatch", "Signed", "Writers",
           "cached_token_user", "cached_user", "current_engine", "current_user",
           "in_engine_thread", "partner_scope", "token_key", "writer_pool", "writer_threads"]

T = TypeVar("T")
TOKEN_CACHE_SECONDS = 2.0
POSTGRES_WRITERS = 8
"""Threads per worker for writing engine calls on PostgreSQL (within the pool's 5 + 10
connections, leaving some for reads); ``BOMPAO_WRITER_THREADS`` overrides it."""
WRITERS_ENV = "BOMPAO_WRITER_THREADS"
HAND_BACK_BATCH = 8
"""At most this many outcomes of the one writer thread (SQLite) wait to go back to the
loop together (while more calls are queued; when none are, they go back at once)."""
_CACHE_SIZE = 10_000
_cache: dict[tuple[int, str], tuple[float, User]] = {}
_cache_lock = threading.Lock()


def token_key(app: object, header: str | None) -> tuple[int, str] | None:
    """The cache key of an ``Authorization`` header's bearer token for ``app`` (the
    token's SHA-256, never the token), or ``None`` when it names no bearer token."""
    if header is None or header[:7].lower() != "bearer ":
        return None
    return id(app), hashlib.sha256(header[7:].strip().encode()).hexdigest()


def _token_key(request: Request) -> tuple[int, str] | None:
    return token_key(request.app, request.headers.get("authorization"))


def cached_token_user(key: tuple[int, str] | None) -> User | None:
    """The user cached under ``key`` (:func:`token_key`) while fresh, else ``None``.
    Never blocks: safe on the event loop."""
    if key is None:
        return None
    found = _cache.get(key)
    if found is not None and time.monotonic() - found[0] < TOKEN_CACHE_SECONDS:
        return found[1]
    return None


def cached_user(request: Request) -> User | None:
    """The bearer token's user while the cache has it fresh, else ``None`` (then call
    :func:`current_user` in a thread). Never blocks: safe on the event loop."""
    return cached_token_user(_token_key(request))


def current_user(request: Request) -> User:
    """The request's user (bearer token or session; see :func:`authenticate`); a bearer
    token's user comes from the cache while it is fresh.

    Raises:
        HTTPException: as :func:`authenticate`.
    """
    key = _token_key(request)
    if key is None:
        return authenticate(request, request.app.state.accounts)
    now = time.monotonic()
    found = _cache.get(key)
    if found is not None and now - found[0] < TOKEN_CACHE_SECONDS:
        return found[1]
    user = authenticate(request, request.app.state.accounts)  # 401 is never cached
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = (now, user)
    return user


_Item = tuple["asyncio.Future[Any] | None", Callable[..., Any], tuple[Any, ...]]
"""A queued call: the asyncio future its outcome settles (``None``: the call hands its
outcome back itself), the function and its arguments."""


class Writers(Executor):
    """Threads for engine calls that write, fed by one queue.

    :meth:`call` is the event loop's cheap way in: the caller's asyncio future is
    settled by one ``loop.call_soon_threadsafe`` when the call returns, instead of
    ``run_in_executor``'s concurrent future chained to an asyncio one (a condition
    variable, callbacks and a state copy on each side, ``bench/web.py``). :meth:`submit`
    keeps the :class:`~concurrent.futures.Executor` interface (``run_in_executor``)
    for the FastAPI routes; both go through the same queue, in order.

    The threads are daemons: a server stopping waits for its requests in flight, so for
    their calls, before the interpreter exits.

    Args:
        count: how many threads.
        name: their name's prefix.
    """

    def __init__(self, count: int, name: str = "bompao-writer") -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True)
                         for n in range(count)]
        self._closed = False
        # one thread (SQLite) hands outcomes back in batches; several (PostgreSQL) wait on
        # the network, where holding an outcome while the next call runs only adds latency
        self._batch = HAND_BACK_BATCH if count == 1 else 1
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        get, empty = self._queue.get, self._queue.empty
        done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        while (item := get()) is not None:
            future, fn, args = item
            if future is None:
                fn(*args)
                continue
            try:
                done.append((future, fn(*args), None))
            except BaseException as error:  # handed to the caller
                done.append((future, None, error))
            del item, future
            # the outcomes of calls queued together go back in one wake-up of the loop
            # (call_soon_threadsafe: a system call with the GIL held), not one each
            if len(done) >= self._batch or empty():
                _hand_back(done)
                done = []
        _hand_back(done)

    def call(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., T], *args: Any
             ) -> asyncio.Future[T]:
        """``fn(*args)`` on a writer thread; a future of ``loop`` settled with its result.

        Raises:
            RuntimeError: after :meth:`shutdown`.
        """
        if self._closed:
            raise RuntimeError("the writer threads are shut down")
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((future, fn, args))
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """``fn(*args, **kwargs)`` on a writer thread (the :class:`Executor` way).

        Raises:
            RuntimeError: after :meth:`shutdown`.
        """
        if self._closed:
            raise RuntimeError("the writer threads are shut down")
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return  # cancelled while queued
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)

        self._queue.put((None, run, ()))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking calls; the threads end after the calls queued (``wait``: join
        them). ``cancel_futures`` is not supported: the queued calls still run."""
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


def _hand_back(done: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """Settle each future of ``done`` on its own loop (one wake-up per loop)."""
    loops: dict[asyncio.AbstractEventLoop, list[Any]] = {}
    for outcome in done:
        loops.setdefault(outcome[0].get_loop(), []).append(outcome)
    for loop, outcomes in loops.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, exc in outcomes:
        if future.cancelled():
            continue  # its caller went away
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)


def writer_threads(request: Request) -> Writers:
    """The app's threads for engine calls that write (:func:`writer_pool`)."""
    return writer_pool(request.app.state)


def writer_pool(state: Any) -> Writers:
    """The threads of the app whose ``state`` this is, for engine calls that write: one
    on SQLite (the file has one write lock, so one thread writes and the others' changes
    queue in order, instead of many threads waking, taking the GIL and waiting on the
    lock in turn), :data:`POSTGRES_WRITERS` on PostgreSQL. Created on first use."""
    found: Writers | None = getattr(state, "writer_threads", None)
    if found is None:
        with _cache_lock:
            found = getattr(state, "writer_threads", None)
            if found is None:
                engine: Engine = state.engine
                count = 1 if engine.db.dialect == "sqlite" else int(
                    os.environ.get(WRITERS_ENV) or POSTGRES_WRITERS)
                found = Writers(count)
                state.writer_threads = found
    return found


async def in_engine_thread(request: Request, call: Callable[[], T]) -> T:
    """``call()`` (a blocking engine call that writes) on :func:`writer_threads`; the
    route's own coroutine waits without holding a thread."""
    return await writer_threads(request).call(asyncio.get_running_loop(), call)


async def current_engine(request: Request) -> Engine:
    """The app's one engine (async: no thread needed to read an attribute)."""
    engine: Engine = request.app.state.engine
    return engine


Signed = Annotated[User, Depends(current_user)]
Engined = Annotated[Engine, Depends(current_engine)]
IfMatch = Annotated[str | None, Header(description="The ETag last read; 412 when stale")]


def partner_scope(user: User, partner: str | None) -> str | None:
    """The partner a request about many projects covers: the user's own partner (a
    ``partner`` filter may only repeat it), else the filter given (``None``: every one).

    Raises:
        PermissionDenied: a partner-scoped user names another partner.
    """
    scope = user.partner
    if scope is None:
        return partner
    if partner is not None and partner != scope:
        raise PermissionDenied(Message("permission.other_partner", who=user.display_name,
                                       scope=scope, partner=partner))
    return scope
