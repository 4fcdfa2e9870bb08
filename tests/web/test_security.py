"""The web app's defences against a real ``bompao serve``: partner scopes on every route,
credentials, CSRF, the session cookie, sign-in rotation, the login throttle, escaping,
security headers, and no secret in any answer or log."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import (
    LOGIN_ATTEMPTS,
    PASSWORD,
    SECRET_KEY,
    Server,
    cookie_value,
    new_project,
    problem_of,
    session_of,
    set_cookie,
)

from bompao.engine import Engine
from bompao.engine.config import Config
from bompao.web.app import create_app
from bompao.web.security import SharedThrottle

_ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))
"""Client addresses (a documentation range) sent as X-Forwarded-For, one per sign-in
scenario, so the per-address throttle of one test does not hold another."""

BODIES: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/projects/{project_id}"): None,
    ("PATCH", "/api/v1/projects/{project_id}/fields"): {"interviews_done": 1},
    ("POST", "/api/v1/projects/{project_id}/evidence"): {"name": "stakeholder_map",
                                                         "note": "n"},
    ("POST", "/api/v1/projects/{project_id}/approvals"): {"role": "coach"},
    ("GET", "/api/v1/projects/{project_id}/check"): None,
    ("GET", "/api/v1/projects/{project_id}/check/{trigger}"): None,
    ("POST", "/api/v1/projects/{project_id}/advance"): {"trigger": "withdraw"},
    ("GET", "/api/v1/projects/{project_id}/history"): None,
    ("GET", "/api/v1/projects/{project_id}/followups"): None,
}
"""A valid request for every route that names a project: a new route must be added here
(the route test below fails until it is), so none escapes the partner-scope check."""
UNSCOPED = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
            ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/journeys"),
            ("GET", "/api/v1/journeys/{key}"), ("GET", "/api/v1/projects"),
            ("POST", "/api/v1/projects"), ("GET", "/api/v1/events")}
"""Routes that name no project."""
PUBLIC = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login"),
          ("GET", "/api/v1/openapi.json")}

# the API's reports, follow-ups, assignments, event stream and calendar feed
BODIES[("POST", "/api/v1/projects/{project_id}/assignments")] = {"role": "coach",
                                                                 "person": "Somchai"}
UNSCOPED |= {("GET", "/api/v1/reports/{name}"), ("GET", "/api/v1/followups"),
             ("GET", "/api/v1/events/stream"), ("GET", "/api/v1/calendar/{token}.ics")}
PUBLIC |= {("GET", "/api/v1/calendar/{token}.ics")}  # the secret is in the URL itself
# the indicators (web/api_indicators.py) and the alumni report
BODIES[("GET", "/api/v1/projects/{project_id}/indicators")] = None
BODIES[("POST", "/api/v1/projects/{project_id}/measurements")] = {
    "indicator": "people_reached", "value": 1}
UNSCOPED |= {("GET", "/api/v1/reports/alumni")}
NOT_A_PROJECT = {("GET", "/api/v1/journeys/{key}"), ("GET", "/api/v1/reports/{name}"),
                 ("GET", "/api/v1/calendar/{token}.ics")}
"""Routes with a path parameter that is not a project id (each has its own tests)."""
# the intake doors: anonymous by design (tests/web/test_apply.py, tests/web/test_hooks.py)
_INTAKE = {("GET", "/apply/{journey}"), ("POST", "/apply/{journey}"),
           ("GET", "/apply/{journey}/status/{reference}"), ("POST", "/hooks/{name}")}
UNSCOPED |= _INTAKE
PUBLIC |= _INTAKE
NOT_A_PROJECT |= _INTAKE


def _walk(routes: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.16x includes lazily
        if inner is not None:
            yield from _walk(inner.routes, prefix + route.include_context.prefix)
            continue
        methods = getattr(route, "methods", None) or set()
        yield from ((m, prefix + route.path) for m in sorted(methods - {"HEAD"}))


def _routes(server: Server) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, read from the app itself (the pages'
    routes are checked route by route in test_pages.py)."""
    from bompao.web.pages import pages_router  # noqa: PLC0415

    pages = set(_walk(pages_router.routes))
    found = [r for r in _walk(create_app(server.engine, Config(), secret_key=SECRET_KEY).routes)
             if r not in pages]
    assert len(found) > len(UNSCOPED)
    return found


@pytest.fixture(scope="module")
def partners(server: Server) -> Iterator[dict[str, Any]]:
    """cmu's coach-and-manager, khonkaen's, each partner's project."""
    server.add_user("a-coach", "A Coach", "coach@cmu", "program_manager@cmu")
    server.add_user("b-coach", "B Coach", "coach@khonkaen", "program_manager@khonkaen")
    with server.as_user("a-coach") as a, server.as_user("b-coach") as b:
        yield {"a": new_project(a, "A's project"), "b": new_project(b, "B's project")}


def _fill(path: str, project_id: int) -> str:
    return path.replace("{project_id}", str(project_id)).replace("{trigger}", "validate")


def test_every_route_is_classified(server: Server) -> None:
    routes = set(_routes(server))
    unknown = routes - set(BODIES) - UNSCOPED
    assert not unknown, f"classify these routes in BODIES or UNSCOPED: {sorted(unknown)}"
    assert {r for r in routes if "{" in r[1]} - NOT_A_PROJECT == set(
        BODIES), "every route with a project id is checked against another partner's id"


def test_another_partners_project_is_404_on_every_route(
        server: Server, partners: dict[str, Any]) -> None:
    b_id = partners["b"]["id"]
    with server.as_user("a-coach") as client:
        for (method, path), body in BODIES.items():
            answer = client.request(method, _fill(path, b_id), json=body)
            assert answer.status_code == 404, (method, path, answer.text)
            assert problem_of(answer) == f"no project with id {b_id}", (method, path)
        listed = client.get("/api/v1/projects", params={"limit": 500}).json()["items"]
        scoped = client.get("/api/v1/projects", params={"partner": "khonkaen"}).json()
        feed = client.get("/api/v1/events", params={"limit": 500}).json()["items"]
    assert b_id not in {p["id"] for p in listed}
    assert partners["a"]["id"] in {p["id"] for p in listed}
    assert scoped == {"items": [], "next": None}
    assert b_id not in {e["project"] for e in feed}
    with server.as_user("b-coach") as owner:
        after = owner.get(f"/api/v1/projects/{b_id}").json()
    assert (after["lock_version"], after["stage"], after["evidence"]) == (1, "idea", {})


def test_creating_for_another_partner_is_403(server: Server, partners: dict[str, Any]) -> None:
    with server.as_user("a-coach") as client:
        answer = client.post("/api/v1/projects", json={
            "journey": "social-incubator", "name": "Smuggled", "partner": "khonkaen"})
    assert answer.status_code == 403
    assert problem_of(answer) == ("'A Coach' acts for partner 'cmu' and cannot create "
                                  "projects for 'khonkaen'")


def test_every_api_route_is_401_without_credentials(
        server: Server, partners: dict[str, Any]) -> None:
    revoked_id, revoked = server.accounts.create_token("a-coach", "old")
    server.accounts.revoke_token(revoked_id)
    server.add_user("gone", "Gone User", "coach@cmu")
    server.accounts.set_disabled("gone")
    bad = {"none": {}, "garbage": {"Authorization": "Bearer bompao_nonsense"},
           "basic": {"Authorization": "Basic YTpi"}, "revoked": {
               "Authorization": f"Bearer {revoked}"},
           "disabled": {"Authorization": f"Bearer {server.tokens['gone']}"}}
    for (method, path) in _routes(server):
        if (method, path) in PUBLIC or not path.startswith("/api/"):
            continue
        url = _fill(path, partners["a"]["id"]).replace("{key}", "social-incubator").replace(
            "{name}", "funnel")
        for label, headers in bad.items():
            with server.client(**headers) as client:
                answer = client.request(method, url, json=BODIES.get((method, path), {}))
            assert answer.status_code == 401, (label, method, path)
            assert answer.headers["www-authenticate"] == 'Bearer realm="bompao"'
            problem_of(answer)


def _sign_in_page(client: httpx.Client) -> str:
    page = client.get("/login")
    header = set_cookie(page)
    assert header is not None
    return cookie_value(header)


def _sign_in(client: httpx.Client, username: str, password: str = PASSWORD,
             cookie: str | None = None) -> httpx.Response:
    cookie = cookie or _sign_in_page(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": session_of(cookie)["csrf"]},
                       headers={"Cookie": f"bompao_session={cookie}"})


def _client(server: Server) -> httpx.Client:
    return server.client(**{"X-Forwarded-For": next(_ADDRESSES)})


def test_the_session_cookie_is_httponly_samesite_lax_and_secure(server: Server) -> None:
    with _client(server) as client:
        header = set_cookie(client.get("/login"))
    assert header is not None
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite=lax", "secure", "path=/", "max-age=28800"} <= flags


def test_signing_in_rotates_the_session(server: Server, partners: dict[str, Any]) -> None:
    with _client(server) as client:
        planted = _sign_in_page(client)
        before = session_of(planted)
        answer = _sign_in(client, "a-coach", cookie=planted)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
        header = set_cookie(answer)
        assert header is not None
        after = session_of(cookie_value(header))
        assert after["csrf"] != before["csrf"]
        assert after["sid"]
        assert "sid" not in before
        assert set(after) <= {"sid", "uid", "csrf", "lang"}
        url = f"/api/v1/projects/{partners['a']['id']}"
        old = client.get(url, headers={"Cookie": f"bompao_session={planted}"})
        new = client.get(url, headers={"Cookie": f"bompao_session={cookie_value(header)}"})
    assert old.status_code == 401
    assert new.status_code == 200


def test_a_post_on_the_session_without_its_csrf_token_is_refused(
        server: Server, partners: dict[str, Any]) -> None:
    with _client(server) as client:
        header = set_cookie(_sign_in(client, "a-coach"))
        assert header is not None
        cookie = cookie_value(header)
        jar = {"Cookie": f"bompao_session={cookie}"}
        url = f"/api/v1/projects/{partners['a']['id']}/fields"
        forged = client.patch(url, json={"interviews_done": 9}, headers=jar)
        wrong = client.patch(url, json={"interviews_done": 9},
                             headers={**jar, "X-CSRF-Token": "guess"})
        assert (forged.status_code, wrong.status_code) == (403, 403)
        assert problem_of(forged).startswith("missing or wrong CSRF token")
        assert client.get(url.removesuffix("/fields"), headers=jar).json()[
            "fields"]["interviews_done"] == 0
        good = client.patch(url, json={"interviews_done": 9},
                            headers={**jar, "X-CSRF-Token": session_of(cookie)["csrf"]})
        assert good.status_code == 200, good.text
        logout = client.post("/logout", headers=jar)
        no_token_login = client.post("/login", data={"username": "a-coach",
                                                     "password": PASSWORD})
    assert logout.status_code == 403
    assert no_token_login.status_code == 403
    assert set_cookie(no_token_login) is None


def test_the_login_throttle_holds_per_name_and_per_address(
        server: Server, partners: dict[str, Any]) -> None:
    server.add_user("target", "Target User", "coach@cmu")
    with _client(server) as client:
        for _ in range(LOGIN_ATTEMPTS):
            assert _sign_in(client, "target", "wrong password!").status_code == 401
        held = _sign_in(client, "target")
    assert held.status_code == 429
    assert 0 < int(held.headers["retry-after"]) <= 601
    assert set_cookie(held) is None or "uid" not in session_of(cookie_value(set_cookie(held)))
    with _client(server) as elsewhere:  # the name is held from any address
        assert _sign_in(elsewhere, "target").status_code == 429
    with _client(server) as guesser:  # one address guessing many names is held too
        for n in range(LOGIN_ATTEMPTS):
            assert _sign_in(guesser, f"nobody{n}", "wrong password!").status_code == 401
        assert _sign_in(guesser, "a-coach").status_code == 429
    with _client(server) as other:
        assert _sign_in(other, "a-coach").status_code == 303


def test_a_disabled_user_cannot_sign_in(server: Server) -> None:
    server.add_user("leaver", "Leaver", "coach@cmu")
    server.accounts.set_disabled("leaver")
    with _client(server) as client:
        assert _sign_in(client, "leaver").status_code == 401


def test_html_in_what_a_user_types_is_shown_as_text(server: Server) -> None:
    typed = '<script>alert("x")</script>'
    with _client(server) as client:
        page = _sign_in(client, typed, "wrong password!")
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert typed not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/projects", "/nowhere"])
def test_security_headers_on_pages_api_and_errors(server: Server, path: str) -> None:
    with server.client() as client:
        answer = client.get(path)
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["cache-control"] == "no-store"
    assert "server" not in answer.headers


def test_the_thai_login_page(server: Server) -> None:
    with server.client(**{"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"}) as client:
        page = client.get("/login")
    assert '<html lang="th">' in page.text
    assert "เข้าสู่ระบบ" in page.text


def test_zz_no_password_hash_token_or_key_in_any_answer_or_log(
        server: Server, partners: dict[str, Any]) -> None:
    """Runs last in the module: everything answered so far, and the server's log."""
    assert len(server.answered) > 50
    shown = {"answers": "\n".join(server.answered), "log": server.log.read_text()}
    assert '"GET /login HTTP/1.1" 200' in shown["log"]  # the access log is on (conftest)
    for where, text in shown.items():
        assert "$argon2" not in text, where
        for secret in server.secrets:
            assert secret not in text, f"a secret was shown in the {where}"


def test_the_shared_throttle_counts_attempts_from_every_process(tmp_path: Path) -> None:
    """Two database handles on one file, as two workers or machines have: failures
    counted through one hold the other back; old ones leave the window."""
    url = f"sqlite:///{tmp_path / 'throttle.db'}"
    first, second = Engine.from_url(url), Engine.from_url(url)
    now = [datetime(2027, 1, 1, 9, 0, tzinfo=UTC)]
    try:
        first.init()
        here = SharedThrottle(first.db, "login", 2, 60, clock=lambda: now[0])
        there = SharedThrottle(second.db, "login", 2, 60, clock=lambda: now[0])
        other = SharedThrottle(second.db, "apply", 2, 60, clock=lambda: now[0])
        here.failed("user:anan", "addr:1")
        assert there.retry_after("user:anan") == 0
        there.failed("user:anan", "addr:2")
        assert here.retry_after("user:anan") == there.retry_after("user:anan") == 61
        assert here.retry_after("addr:1") == 0
        assert other.retry_after("user:anan") == 0  # another throttle's keys of its own
        now[0] += timedelta(seconds=30)
        assert there.retry_after("user:bee", "user:anan") == 31
        here.succeeded("user:anan")
        assert there.retry_after("user:anan") == 0
        there.failed("addr:1")
        assert here.retry_after("addr:1") == 61 - 30
        now[0] += timedelta(seconds=31)
        assert here.retry_after("addr:1") == 0
        here.failed("addr:9")  # prunes what left the window
        with first.db.begin(write=False) as conn:
            left = conn.exec_driver_sql("SELECT key FROM throttle_hits ORDER BY key").all()
        assert [row[0] for row in left] == ["login:addr:1", "login:addr:9"]
    finally:
        first.close()
        second.close()
