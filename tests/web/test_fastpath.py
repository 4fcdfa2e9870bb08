"""The hot API writes' fast path (``web/fastpath.py``): it answers what it serves exactly
as the FastAPI stack does, and it leaves everything else to that stack.

Against a real ``bompao serve``: each request is sent twice on twin projects, once as
an API client sends it (a bearer token the server has cached, no cookie: the fast
path) and once with an unrelated cookie (which the fast path leaves to FastAPI's own
stack); status, headers and body must be the same. In-process, the FastAPI stack
behind the fast path is counted: a cached token's write never reaches it, every other
request does.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send
from web_harness import CHEAP, PASSWORD, SECRET_KEY, Server, chunked, new_project, raw_request

from bompao.engine import Engine
from bompao.engine.config import Config
from bompao.web import fastpath
from bompao.web.accounts import Accounts, User
from bompao.web.app import create_app
from bompao.web.deps import Writers
from bompao.web.fastpath import FastWrites

SLOW = {"Cookie": "unrelated=1"}
"""A header that sends a request the full stack's way (a cookie may carry a session)."""
_VARYING = {"date", "content-length", "etag", "location"}
_MOMENTS = re.compile(r'"\d{4}-\d\d-\d\dT[^"]*"')


@pytest.fixture(scope="module")
def team(server: Server) -> Server:
    """cmu's coach, a program manager of every partner, and a coach of another partner."""
    server.add_user("fp-coach", "Fast Coach", "coach@cmu")
    server.add_user("fp-pm", "Fast Manager", "program_manager", "coach")
    server.add_user("fp-other", "Other Coach", "coach@ku")
    return server


def _same_shape(text: str, project_ids: tuple[int, int]) -> str:
    """The body with the twin's id and every moment made alike."""
    text = _MOMENTS.sub('"T"', text)
    for project_id in project_ids:
        text = re.sub(rf"\b{project_id}\b", "ID", text)
    return text


CASES: dict[str, tuple[str, str, str, Any, dict[str, str]]] = {
    # name: (user, method, path suffix, JSON body, headers)
    "advance": ("fp-pm", "POST", "advance", {"trigger": "withdraw"}, {}),
    "advance refused by its gate (409)": ("fp-coach", "POST", "advance",
                                          {"trigger": "validate"}, {}),
    "advance refused, in Thai": ("fp-coach", "POST", "advance", {"trigger": "validate"},
                                 {"Accept-Language": "th"}),
    "advance by an unknown trigger (404)": ("fp-coach", "POST", "advance",
                                            {"trigger": "fly"}, {}),
    "advance of another role's transition (403)": ("fp-coach", "POST", "advance",
                                                   {"trigger": "withdraw"}, {}),
    "advance with a stale If-Match (412)": ("fp-pm", "POST", "advance",
                                            {"trigger": "withdraw"}, {"If-Match": '"7"'}),
    "advance with a current If-Match": ("fp-pm", "POST", "advance", {"trigger": "withdraw"},
                                        {"If-Match": '"1"'}),
    "advance of another partner's project (404)": ("fp-other", "POST", "advance",
                                                   {"trigger": "withdraw"}, {}),
    "advance with a field it does not know (422)": ("fp-pm", "POST", "advance",
                                                    {"trigger": "withdraw", "x": 1}, {}),
    "advance with a body that is not JSON (422)": ("fp-pm", "POST", "advance", b"{trig", {}),
    "set fields": ("fp-coach", "PATCH", "fields", {"interviews_done": 4}, {}),
    "set a field of the wrong type (422)": ("fp-coach", "PATCH", "fields",
                                            {"interviews_done": "many"}, {}),
    "set fields from a list (422)": ("fp-coach", "PATCH", "fields", [1, 2], {}),
    "evidence": ("fp-coach", "POST", "evidence",
                 {"name": "stakeholder_map", "url": "https://example.org/map"}, {}),
    "evidence not declared": ("fp-coach", "POST", "evidence", {"name": "nope", "note": "x"},
                              {}),
    "evidence without its name (422)": ("fp-coach", "POST", "evidence", {"note": "x"}, {}),
    "approve": ("fp-coach", "POST", "approvals", {"role": "coach"}, {}),
    "approve in a role not held (403)": ("fp-coach", "POST", "approvals",
                                         {"role": "committee"}, {}),
    "assign": ("fp-pm", "POST", "assignments", {"role": "coach", "person": "Somsri"}, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_path_answers_as_the_full_stack_does(team: Server, case: str) -> None:
    username, method, suffix, body, headers = CASES[case]
    with team.as_user("fp-pm") as manager:
        twins = (new_project(manager, case, partner="cmu")["id"],
                 new_project(manager, case, partner="cmu")["id"])
    answers = []
    with team.as_user(username) as client:
        client.get("/api/v1/journeys")  # the server caches the token: the fast path's case
        for project_id, extra in zip(twins, ({}, SLOW), strict=True):
            content = body if isinstance(body, bytes) else httpx.Request(
                "POST", "/", json=body).content
            answers.append(client.request(
                method, f"/api/v1/projects/{project_id}/{suffix}", content=content,
                headers={"Content-Type": "application/json", **headers, **extra}))
    fast, slow = answers
    assert fast.status_code == slow.status_code, (fast.text, slow.text)
    assert {k: v for k, v in fast.headers.items() if k not in _VARYING} == {
        k: v for k, v in slow.headers.items() if k not in _VARYING}
    assert ("etag" in fast.headers) == ("etag" in slow.headers)
    assert _same_shape(fast.text, twins) == _same_shape(slow.text, twins)
    assert fast.headers["x-content-type-options"] == "nosniff"
    assert fast.headers["cache-control"] == "no-store"


class _Counted:
    """An ASGI app that counts the requests reaching ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


@pytest.fixture
def counted(tmp_path: Any) -> Iterator[tuple[TestClient, _Counted, str, int]]:
    """An app in this process on a SQLite file, its FastAPI stack behind the fast path
    counted: (client, counter, a program manager's token, a project's id)."""
    engine = Engine.from_url(f"sqlite:///{tmp_path / 'fast.db'}")
    engine.init()
    accounts = Accounts(engine.db, hasher=CHEAP)
    accounts.add_user("pm", "Manager", PASSWORD, ["program_manager"])
    _, token = accounts.create_token("pm")
    project = engine.create_project("social-incubator", "Counted", "cmu")
    app = create_app(engine, Config(), secret_key=SECRET_KEY, accounts=accounts)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            fast: FastWrites = app.fast_writes  # type: ignore[attr-defined]
            counter = fast.app = _Counted(fast.app)
            yield client, counter, token, project.id
    finally:
        engine.close()


def test_a_cached_tokens_writes_never_reach_the_fastapi_stack(
        counted: tuple[TestClient, _Counted, str, int]) -> None:
    client, counter, token, project_id = counted
    bearer = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/projects/{project_id}"
    first = client.patch(f"{url}/fields", json={"interviews_done": 2}, headers=bearer)
    assert first.status_code == 200, first.text  # not cached yet: FastAPI's way, caching it
    assert counter.calls == [f"PATCH {url}/fields"]
    counter.calls.clear()
    for method, suffix, body in (
            ("PATCH", "fields", {"interviews_done": 3}),
            ("POST", "evidence", {"name": "stakeholder_map", "note": "seen"}),
            ("POST", "assignments", {"role": "coach", "person": "Somsri"}),
            ("POST", "approvals", {"role": "program_manager"}),
            ("POST", "advance", {"trigger": "withdraw"})):
        answer = client.request(method, f"{url}/{suffix}", json=body, headers=bearer)
        assert answer.status_code in (200, 403, 409), answer.text
    assert counter.calls == []
    assert client.get(url, headers=bearer).json()["stage"] == "withdrawn"
    assert counter.calls == [f"GET {url}"]


@pytest.mark.parametrize("shape", ["cookie", "form body", "not JSON", "refused by the model",
                                   "no token", "another route"])
def test_every_other_request_goes_the_fastapi_way(
        counted: tuple[TestClient, _Counted, str, int], shape: str) -> None:
    client, counter, token, project_id = counted
    bearer = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/projects/{project_id}"
    client.get(url, headers=bearer)  # the token is cached now
    counter.calls.clear()
    headers, content, path = {**bearer, "Content-Type": "application/json"}, \
        b'{"trigger": "withdraw"}', f"{url}/advance"
    if shape == "cookie":
        headers["Cookie"] = "bompao_session=planted"
    elif shape == "form body":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif shape == "not JSON":
        content = b'{"trigger": '
    elif shape == "refused by the model":
        content = b'{"trigger": "withdraw", "extra": true}'
    elif shape == "no token":
        del headers["Authorization"]
    else:
        path = f"{url}/advance/"
    answer = client.post(path, content=content, headers=headers)
    assert counter.calls == [f"POST {path}"], answer.text
    if shape in ("not JSON", "refused by the model"):
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
    if shape == "no token":
        assert answer.status_code == 401


def test_an_unexpected_error_on_the_fast_path_is_answered_as_starlette_would(
        counted: tuple[TestClient, _Counted, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path is in front of Starlette's ServerErrorMiddleware: it answers an
    error that is not a BompaoError with the app's 500 problem document itself, then
    re-raises it for the server to log, as that middleware does."""
    client, counter, token, project_id = counted
    client.get(f"/api/v1/projects/{project_id}", headers={"Authorization": f"Bearer {token}"})
    counter.calls.clear()

    def broken(*_args: Any) -> Any:
        raise RuntimeError("a fault of no bompao kind")

    monkeypatch.setitem(fastpath.WRITES, ("POST", "advance"),
                        fastpath.Write(fastpath.WRITES["POST", "advance"].model, 200, broken))
    request = {"url": f"/api/v1/projects/{project_id}/advance", "json": {"trigger": "withdraw"},
               "headers": {"Authorization": f"Bearer {token}"}}
    with pytest.raises(RuntimeError, match="no bompao kind"):
        client.post(**request)  # type: ignore[arg-type]
    quiet = TestClient(client.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    answer = quiet.post(**request)  # type: ignore[arg-type]
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 500
    assert "no bompao kind" not in answer.text  # only the server's log has it
    assert counter.calls == []  # answered in front of the FastAPI stack


def test_the_writer_threads_run_calls_in_order_and_hand_back_outcomes() -> None:
    """:class:`Writers`: the loop's ``call`` and the executor's ``submit`` share one
    queue (one thread: in order), results and errors reach the caller, a cancelled
    caller does not stop the thread."""
    writers = Writers(1, name="test-writer")
    ran: list[tuple[str, str]] = []

    def step(label: str) -> str:
        ran.append((label, threading.current_thread().name))
        return label.upper()

    def fail() -> None:
        raise ValueError("refused")

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        gate = threading.Event()
        first = writers.call(loop, gate.wait)  # holds the thread until every call is queued
        second = writers.call(loop, step, "a")
        third = loop.run_in_executor(writers, step, "b")
        fourth = writers.call(loop, step, "c")
        failing = writers.call(loop, fail)
        second.cancel()  # its caller went away: the call still runs, its outcome is dropped
        gate.set()
        assert await first is True
        assert await third == "B"
        assert await fourth == "C"
        with pytest.raises(ValueError, match="refused"):
            await failing
        assert await writers.call(loop, step, "d") == "D"

    try:
        asyncio.run(scenario())
    finally:
        writers.shutdown()
    assert [label for label, _ in ran] == ["a", "b", "c", "d"]
    assert {name for _, name in ran} == {"test-writer_0"}
    with pytest.raises(RuntimeError, match="shut down"):
        writers.submit(step, "e")


def test_a_users_actor_is_built_once() -> None:
    """The token cache hands the same User to every request: its actor (roles parsed)
    is built on the first, not on each."""
    user = User(1, "u", "A User", None, ("coach@cmu", "committee@cmu"), False,
                datetime.now(UTC))
    actor = user.actor()
    assert user.actor() is actor
    assert actor.roles == frozenset({"coach", "committee"})
    assert actor.partner == user.partner == "cmu"


def _write_head(path: str, extra: bytes) -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n%s\r\n"
            % (path.encode(), extra))


@pytest.mark.parametrize("how", ["chunked, never finished", "a Content-Length over it",
                                 "a session's write (FastAPI's way)",
                                 "a new token's first write (FastAPI's way)",
                                 "a project's creation (another route)"])
def test_an_api_body_over_the_limit_is_refused_and_nothing_written(team: Server,
                                                                  how: str) -> None:
    """An API write with a body over fastpath.MAX_BODY, whichever way it would go: 413
    problem+json without the server waiting for (or holding) the rest, nothing written."""
    client = team.as_user("fp-pm")
    project_id = new_project(client, "Too big")["id"]
    client.get(f"/api/v1/projects/{project_id}")  # the token cached
    token = team.tokens["fp-pm"].encode()
    path = f"/api/v1/projects/{project_id}/advance"
    bearer = b"Authorization: Bearer %s\r\n" % token
    chunks = b"Transfer-Encoding: chunked\r\n"
    body = chunked(fastpath.MAX_BODY + 100_000)
    if how == "a Content-Length over it":
        head, body = _write_head(path, bearer + b"Content-Length: 50000000\r\n"), [b'{"t": "']
    elif how.startswith("a session"):
        head = _write_head(path, b"Cookie: bompao_session=x\r\n" + chunks)
    elif how.startswith("a new token"):
        _, fresh = team.accounts.create_token("fp-pm")  # not cached by the server yet
        head = _write_head(path, b"Authorization: Bearer %s\r\n" % fresh.encode() + chunks)
    elif how.startswith("a project's creation"):
        head = _write_head("/api/v1/projects", bearer + chunks)
    else:
        head = _write_head(path, bearer + chunks)
    answer = raw_request(team, head, body)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"application/problem+json" in answer
    assert b"nothing was written" in answer
    assert b"x-content-type-options: nosniff" in answer.lower()
    assert client.get(f"/api/v1/projects/{project_id}").json()["stage"] != "withdrawn"
