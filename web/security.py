"""Who is asking, and the defences around it: headers, CSRF, the login throttle.

A request is authenticated by ``Authorization: Bearer TOKEN`` (the API's clients) or by
the signed session cookie (the pages, and htmx calling the API from them). A request
on the session that changes something must carry the session's CSRF token, as the form
field ``csrf_token`` or the header ``X-CSRF-Token``; a bearer request carries no ambient
credential and needs none. The session is a Starlette signed cookie (HttpOnly,
SameSite=Lax, Secure when configured); signing in replaces its whole content with a new
random session id and CSRF token, so an identifier planted before sign-in is worthless.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bompao.storage import accounts as stored
from bompao.storage.database import Database
from bompao.web.accounts import Accounts, User

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "SAFE_METHODS", "HeadersMiddleware", "LoginThrottle",
           "SharedThrottle",
           "authenticate", "check_csrf", "csrf_token", "sign_in", "sign_out",
           "with_security_headers"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HEADERS = [
    (b"content-security-policy",
     (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def with_security_headers(headers: list[tuple[bytes, bytes]], *, static: bool = False
                          ) -> list[tuple[bytes, bytes]]:
    """``headers`` (a response's, lower-case names) with the security headers added, and
    ``Cache-Control: no-store`` unless ``static`` or the response chose its own."""
    headers.extend(_HEADERS)
    # a route that chose its own caching (the report charts) keeps it
    if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
        headers.append((b"cache-control", b"no-store"))
    return headers


class HeadersMiddleware:
    """Adds the security headers to every response, and ``Cache-Control: no-store`` to
    every response that is not a static file (pages and API answers carry user data)
    and sets no ``Cache-Control`` of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``send`` to add the headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(
                    list(message.get("headers", [])), static=static)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginThrottle:
    """At most ``attempts`` failed sign-ins per username and per client address within
    ``window`` seconds; then sign-ins for that name or address are refused until the
    oldest failure leaves the window. Kept in one process's memory (the tests'; a
    server shares :class:`SharedThrottle` between its workers).

    Args:
        attempts: failures allowed within the window.
        window: seconds.
        clock: monotonic seconds (tests may pass their own).
    """

    def __init__(self, attempts: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] >= self.window:
            found.popleft()
        return found

    def retry_after(self, *keys: str) -> int:
        """Seconds until a sign-in for these keys is allowed again (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [self.window - (now - failures[0]) for key in keys
                     if len(failures := self._recent(key, now)) >= self.attempts]
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, *keys: str) -> None:
        """Count a failed sign-in against each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, username_key: str) -> None:
        """Forget the failures of a name that just signed in."""
        with self._lock:
            self._failures.pop(username_key, None)


class SharedThrottle:
    """:class:`LoginThrottle`'s rule, counted in the database (``throttle_hits``), so
    that every worker process and every machine of one install count the same attempts.

    Each call is one short transaction (blocking: call it from a thread). A failure
    also deletes this throttle's attempts that have left the window.

    Args:
        db: the install's database.
        scope: this throttle's name, prefixed to its keys (``login``, ``apply``).
        attempts: attempts allowed within the window.
        window: seconds.
        clock: the time now, timezone-aware (tests may pass their own).
    """

    def __init__(self, db: Database, scope: str, attempts: int, window: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.scope = scope
        self.attempts = attempts
        self.window = window
        self.clock = clock

    def _keys(self, keys: tuple[str, ...]) -> list[str]:
        return [f"{self.scope}:{key}"[:300] for key in keys]

    def retry_after(self, *keys: str) -> int:
        """Seconds until an attempt for these keys is allowed again (0: allowed now)."""
        now = self.clock()
        with self.db.begin(write=False) as conn:
            found = stored.throttle_recent(conn, self._keys(keys),
                                           now - timedelta(seconds=self.window))
        waits = [self.window - (now - oldest).total_seconds()
                 for count, oldest in found.values() if count >= self.attempts]
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, *keys: str) -> None:
        """Count an attempt against each key."""
        now = self.clock()
        with self.db.begin() as conn:
            stored.throttle_prune(conn, f"{self.scope}:", now - timedelta(seconds=self.window))
            stored.throttle_add(conn, self._keys(keys), now)

    def succeeded(self, username_key: str) -> None:
        """Forget the attempts of a name that just signed in."""
        with self.db.begin() as conn:
            stored.throttle_forget(conn, self._keys((username_key,))[0])


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf(session: MutableMapping[str, Any], given: str | None) -> None:
    """Refuse a state-changing session request without the session's CSRF token.

    Raises:
        HTTPException: 403 when the token is missing or wrong.
    """
    expected = session.get("csrf")
    if not (isinstance(expected, str) and expected and given
            and hmac.compare_digest(expected.encode(), given.encode())):
        raise HTTPException(403, "missing or wrong CSRF token: send the form's csrf_token "
                                 "(or the X-CSRF-Token header) of this session")


def sign_in(session: MutableMapping[str, Any], user: User) -> None:
    """Start a fresh session for ``user``: everything before is dropped (no fixation)."""
    lang = session.get("lang")
    session.clear()
    session.update({"sid": secrets.token_urlsafe(24), "uid": user.id,
                    "csrf": secrets.token_urlsafe(32)})
    if lang in ("en", "th"):
        session["lang"] = lang


def sign_out(session: MutableMapping[str, Any]) -> None:
    """End the session."""
    session.clear()


_UNAUTHORISED = {"WWW-Authenticate": 'Bearer realm="bompao"'}


def authenticate(request: Request, accounts: Accounts) -> User:
    """The signed-in user of ``request`` (bearer token, else session cookie).

    Blocking (it reads the database): call it from a worker thread, as FastAPI does
    with a plain ``def`` dependency.

    Raises:
        HTTPException: 401 without valid credentials (or for a disabled user), 403 for a
            state-changing session request without its CSRF token.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        user = accounts.token_user(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise HTTPException(401, "invalid, revoked or disabled API token",
                                headers=_UNAUTHORISED)
        return user
    session = request.session
    uid = session.get("uid")
    user = accounts.by_id(uid) if isinstance(uid, int) else None
    if user is None or user.disabled:
        session.clear()
        raise HTTPException(401, "sign in first (POST /login), or send Authorization: "
                                 "Bearer TOKEN", headers=_UNAUTHORISED)
    if request.method not in SAFE_METHODS:
        check_csrf(session, request.headers.get(CSRF_HEADER))
    return user
