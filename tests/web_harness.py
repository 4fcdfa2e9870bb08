"""What the web tests share besides fixtures: the running server's handle, cookie
readers and API helpers."""

from __future__ import annotations

import base64
import json
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from bompao.engine import Engine
from bompao.web.accounts import Accounts

PROBLEM = "application/problem+json"
SECRET_KEY = "test-web-secret-key-" + "9" * 24
PASSWORD = "correct horse battery staple"
LOGIN_ATTEMPTS = 3
CHEAP = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
"""Hashes made by the tests verify on the server (Argon2 keeps its parameters in the
hash) and cost little; the server rehashes them with its own parameters at sign-in."""


@dataclass
class Server:
    """A running server, the accounts in its database and what it answered."""

    base: str
    url: str
    log: Path
    accounts: Accounts
    engine: Engine
    answered: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    """Username -> their API token."""
    secrets: list[str] = field(default_factory=list)
    folder: Path | None = None
    """The server's working folder (its configuration; uploads in ``uploads/``)."""

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        """An HTTP client (with ``token`` as bearer) that records every response."""
        if token:
            headers["Authorization"] = f"Bearer {token}"

        def record(response: httpx.Response) -> None:
            response.read()
            self.answered.append(str(response.headers) + response.text)

        return httpx.Client(base_url=self.base, headers=headers, timeout=30,
                            event_hooks={"response": [record]})

    def as_user(self, username: str) -> httpx.Client:
        """A client with ``username``'s token."""
        return self.client(self.tokens[username])

    def add_user(self, username: str, name: str, *roles: str) -> str:
        """Create a user with :data:`PASSWORD` and a token; return the token."""
        self.accounts.add_user(username, name, PASSWORD, roles)
        _, token = self.accounts.create_token(username)
        self.tokens[username] = token
        self.secrets.append(token)
        return token


def session_of(cookie: str) -> dict[str, Any]:
    """The (unverified) content of a Starlette session cookie value."""
    payload = cookie.split(".", 1)[0]
    return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))


def set_cookie(response: httpx.Response, name: str = "bompao_session") -> str | None:
    """The raw ``Set-Cookie`` header for ``name``, if the response sets it."""
    return next((h for h in response.headers.get_list("set-cookie")
                 if h.startswith(f"{name}=")), None)


def cookie_value(header: str) -> str:
    """The value of a ``Set-Cookie`` header."""
    return header.split(";", 1)[0].split("=", 1)[1]



def new_project(client: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    """Create a social-incubator project through the API; its JSON."""
    answer = client.post("/api/v1/projects", json={"journey": "social-incubator",
                                                   "name": name, **extra})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def problem_of(answer: httpx.Response) -> str:
    """The ``detail`` of a problem document (asserting it is one)."""
    assert answer.headers["content-type"] == PROBLEM, answer.text
    body = answer.json()
    assert body["status"] == answer.status_code
    return str(body["detail"])


# the pages: a signed-in browser session over plain HTTP --------------------------------

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Session:
    """A signed-in session on the pages: the client, its cookie and its CSRF token."""

    client: httpx.Client
    cookie: str
    csrf: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET with the session cookie."""
        return self.client.get(path, headers={"Cookie": f"bompao_session={self.cookie}",
                                              **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, *, token: bool = True,
             **kwargs: Any) -> httpx.Response:
        """POST a form with the session cookie (and its CSRF token unless ``token`` is
        False); a new session cookie it sets is kept."""
        form = {**(data or {}), **({"csrf_token": self.csrf} if token else {})}
        answer = self.client.post(path, data=form, headers={
            "Cookie": f"bompao_session={self.cookie}", **kwargs.pop("headers", {})}, **kwargs)
        header = set_cookie(answer)
        if header is not None and cookie_value(header):
            self.cookie = cookie_value(header)
        return answer


def sign_in_session(server: Server, username: str, address: str = "203.0.113.9",
                    **headers: str) -> Session:
    """Sign ``username`` in through the real form; the session (cookie flags are ignored,
    as a browser behind HTTPS would send the cookie)."""
    client = server.client(**{"X-Forwarded-For": address, **headers})
    page = client.get("/login")
    cookie = cookie_value(set_cookie(page) or "")
    token = session_of(cookie)["csrf"]
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token},
                         headers={"Cookie": f"bompao_session={cookie}"})
    assert answer.status_code == 303, answer.text
    cookie = cookie_value(set_cookie(answer) or "")
    return Session(client, cookie, session_of(cookie)["csrf"])


def csrf_in(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF_INPUT.search(page)
    assert found is not None, page[:500]
    return found.group(1)


class Pages:
    """New Chromium pages on one module's server, each in a context of its own (its own
    cookies), recording the console's errors as ``page.errors``."""

    def __init__(self, browser: Any, server: Server) -> None:
        self.browser = browser
        self.server = server

    def open(self, lang: str = "th-TH", *, phone: bool = True,
             headers: dict[str, str] | None = None) -> Any:
        """A page in ``lang`` (the locale and ``Accept-Language``), phone-sized unless
        told otherwise, sending ``headers`` on every request."""
        size = {"viewport": {"width": 412, "height": 915}} if phone else {}
        context = self.browser.new_context(
            locale=lang, extra_http_headers={"Accept-Language": lang, **(headers or {})},
            **size)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.errors = errors
        return page

    def signed_in(self, username: str, lang: str = "th-TH") -> Any:
        """A phone-sized page signed in as ``username`` through the login form, on the
        board."""
        page = self.open(lang)
        page.goto(f"{self.server.base}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.server.base}/")
        return page


def raw_request(server: Server, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send ``head`` and ``body_parts`` on a raw socket, never finishing the body, and
    return what the server answers within 10 s (``b""`` if nothing: it is still
    waiting for the rest)."""
    host, port = server.base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        sock.settimeout(10)
        answer = b""
        try:
            while True:
                head, found, body = answer.partition(b"\r\n\r\n")
                length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                if found and length and len(body) >= int(length.group(1)):
                    return answer
                more = sock.recv(65536)
                if not more:
                    return answer
                answer += more
        except TimeoutError:
            return answer


def chunked(size: int, piece: int = 64_000) -> list[bytes]:
    """``size`` bytes as chunks of a chunked body (its end never sent)."""
    parts = []
    while size > 0:
        n = min(piece, size)
        parts.append(b"%x\r\n%s\r\n" % (n, b"x" * n))
        size -= n
    return parts
