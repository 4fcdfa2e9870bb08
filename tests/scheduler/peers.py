"""Helpers for the follow-up and scheduler tests: a clock, real peers, the CLI.

The peers are real servers on 127.0.0.1: an HTTP sink (pytest-httpserver, threaded)
that records every request it receives and answers as a test says, and an SMTP
server (aiosmtpd) that records every message and login. Imported as
``scheduler.peers`` (``tests`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bompao.engine.config import Config, load_config

__all__ = ["T0", "Cli", "Mail", "MutableClock", "Received", "Sink", "SmtpBox", "bompao",
           "free_port", "make_config", "running_sink", "running_smtp", "sleeping"]

T0 = datetime(2027, 1, 4, 3, 0, tzinfo=UTC)
"""Monday 4 January 2027, 10:00 in Bangkok."""

Cli = Callable[..., tuple[int, str, str]]
"""The ``cli`` fixture (``tests/conftest.py``): ``cli(*args)`` runs bompao's command line
in this process and gives (exit code, stdout, stderr)."""


class MutableClock:
    """The engine's clock: returns ``now``, which tests move by hand instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


def make_config(tmp_path: Path, text: str, name: str = "bompao.toml") -> Config:
    """Write ``text`` as an operator configuration file and load it (ignoring the env)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={})


def bompao(*args: str, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``bompao`` command in a fresh Python process."""
    return subprocess.run([sys.executable, "-m", "bompao.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


@dataclass
class Received:
    """One request the sink received."""

    path: str
    key: str | None
    headers: dict[str, str]
    body: Any
    at: float


Answer = Callable[[Received, int], Response]


@dataclass
class Sink:
    """A real HTTP server that records requests; ``answers[path]`` decides responses."""

    server: HTTPServer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: dict[str, Answer] = field(default_factory=dict)
    """``answers[path](request, n)`` with ``n`` counting the requests on that path (from 1)."""
    counts: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget what was received and answer 200 again."""
        with self.lock:
            self.received.clear()
            self.answers.clear()
            self.counts.clear()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the sink."""
        return str(self.server.url_for(path))

    def keys(self, path: str | None = None) -> list[str | None]:
        """The ``Idempotency-Key`` headers received (on ``path`` if given), in order."""
        with self.lock:
            return [r.key for r in self.received if path is None or r.path == path]

    def on(self, path: str) -> list[Received]:
        """The requests received on ``path``."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    def handle(self, request: Request) -> Response:
        """Record the request, then answer it."""
        text = request.get_data(as_text=True)
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        seen = Received(request.path, request.headers.get("Idempotency-Key"),
                        dict(request.headers), body, time.monotonic())
        with self.lock:
            self.received.append(seen)
            count = self.counts[request.path] = self.counts.get(request.path, 0) + 1
            answer = self.answers.get(request.path)
        if answer is not None:
            return answer(seen, count)
        return Response("ok", status=200)


@contextmanager
def running_sink() -> Iterator[Sink]:
    """A threaded HTTP server on 127.0.0.1 answering 200 to every POST unless told otherwise."""
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # no access log line per request
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    result = Sink(server)
    server.expect_request(re.compile(r"/.*"), method="POST").respond_with_handler(result.handle)
    try:
        yield result
    finally:
        server.clear()
        if server.is_running():
            server.stop()
        werkzeug_log.setLevel(level)


def sleeping(seconds: float) -> Answer:
    """An answer that hangs for ``seconds`` before answering 200."""

    def answer(_: Received, __: int) -> Response:
        time.sleep(seconds)
        return Response("late", status=200)

    return answer


def failing(times: int | None, status: int = 500) -> Answer:
    """An answer that fails with ``status`` the first ``times`` requests (always if None)."""

    def answer(_: Received, n: int) -> Response:
        if times is None or n <= times:
            return Response("nope", status=status)
        return Response("ok", status=200)

    return answer


@dataclass
class Mail:
    """One message the SMTP server accepted."""

    sender: str
    rcpt: list[str]
    message: Message


@dataclass
class SmtpBox:
    """A real SMTP server (aiosmtpd) with the messages and logins it received."""

    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    password: str = "smtp-s3cret-pw"

    def authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str,
                     data: Any) -> AuthResult:
        """Accept the login whose password is :attr:`password`."""
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == self.password)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        """Keep the message."""
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos),
                               message_from_bytes(envelope.original_content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp() -> Iterator[SmtpBox]:
    """An aiosmtpd server on 127.0.0.1 accepting AUTH LOGIN/PLAIN without TLS."""
    box = SmtpBox("127.0.0.1", free_port())
    controller = Controller(box, hostname=box.host, port=box.port,
                            authenticator=box.authenticate, auth_require_tls=False,
                            loop=asyncio.new_event_loop())
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
