"""What the web tests share besides fixtures: the running server's handle, cookie
readers and API helpers."""

from __future__ import annotations

import base64
import json
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
