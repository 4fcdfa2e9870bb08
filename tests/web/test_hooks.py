"""Inbound webhooks against a real ``bompao serve`` with a real HTTP client and real
HMAC-SHA256 signatures: a good delivery creates the application (its answers mapped
from a KoboToolbox- or Google-Forms-shaped JSON by dotted paths); a wrong or missing
signature, a closed call, a missing required field and an unknown hook are refused as
problem+json with nothing written; a replay, even many at once, creates one project."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from web_harness import Server, chunked, problem_of, raw_request

from bompao.web.hooks import MAX_BODY

CALL = Path(__file__).resolve().parents[1] / "fixtures" / "intake" / "call.yaml"
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).date()
KOBO_SECRET = "kobo-secret-" + "k" * 24
FORMS_SECRET = "forms-secret-" + "f" * 24
SERVE_TOML = f"""
[hooks.kobo]
secret = "{KOBO_SECRET}"
journey = "hook-call"
name = "project_name"
partner = "meta.partner"
delivery_path = "_uuid"
fields = {{ problem_statement = "intro/problem", team_size = "intro/team", needs = "needs" }}

[hooks.forms]
secret = "{FORMS_SECRET}"
journey = "hook-call"
name = "answers.0.value"
fields = {{ problem_statement = "answers.1.value", team_size = "answers.2.value" }}

[hooks.late]
secret = "{KOBO_SECRET}"
journey = "hook-closed"
name = "project_name"
fields = {{ problem_statement = "intro/problem" }}
"""


def _journey(key: str, opens: Any, closes: Any) -> str:
    return CALL.read_text(encoding="utf-8").replace("journey: call", f"journey: {key}") \
        .replace("opens: 2027-01-01", f"opens: {opens}") \
        .replace("closes: 2027-02-28", f"closes: {closes}")


@pytest.fixture(scope="module", autouse=True)
def calls(server: Server) -> None:
    """``hook-call`` open today, ``hook-closed`` closed yesterday."""
    server.engine.publish(_journey("hook-call", TODAY - timedelta(days=3),
                                   TODAY + timedelta(days=3)))
    server.engine.publish(_journey("hook-closed", TODAY - timedelta(days=9),
                                   TODAY - timedelta(days=1)))
    server.secrets.extend([KOBO_SECRET, FORMS_SECRET])


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _kobo(name: str, **extra: Any) -> dict[str, Any]:
    return {"_uuid": str(uuid.uuid4()), "project_name": name,
            "intro/problem": "clean water for the village", "intro/team": 4,
            "needs": ["impact_measurement"], "meta": {"partner": "cmu"}, **extra}


def _post(server: Server, hook: str, payload: dict[str, Any] | bytes, *,
          secret: str | None = KOBO_SECRET, signature: str | None = None,
          **headers: str) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if signature is None and secret is not None:
        signature = _signature(secret, body)
    if signature is not None:
        headers["X-Bompao-Signature"] = signature
    with server.client() as client:
        return client.post(f"/hooks/{hook}", content=body,
                           headers={"Content-Type": "application/json", **headers})


def _projects(server: Server, journey: str = "hook-call") -> list[Any]:
    return list(server.engine.list_projects(journey=journey))


def test_a_signed_delivery_creates_the_application(server: Server) -> None:
    before = len(_projects(server))
    answer = _post(server, "kobo", _kobo("Water for Ban Mae"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["replay"] is False
    assert len(body["reference"]) >= 32
    project = server.engine.get(body["project"])
    assert (project.journey, project.name, project.partner, project.stage) == (
        "hook-call", "Water for Ban Mae", "cmu", "applied")
    assert project.fields["problem_statement"] == "clean water for the village"
    assert project.fields["team_size"] == 4
    assert project.fields["needs"] == ["impact_measurement"]
    assert len(_projects(server)) == before + 1
    status = httpx.get(server.base + body["status_url"],
                       headers={"Accept": "application/json"}, timeout=30)
    assert status.status_code == 200
    assert status.json() == {"journey": "hook-call", "stage": "applied",
                             "stage_title": "applied"}


def test_a_google_forms_shape_maps_list_items(server: Server) -> None:
    payload = {"responseId": "ACYDBNi", "answers": [
        {"question": "Project", "value": "Rice bank"},
        {"question": "Problem", "value": "seed prices"},
        {"question": "Team", "value": "3"}]}
    answer = _post(server, "forms", payload, secret=FORMS_SECRET,
                   **{"X-Bompao-Delivery": "forms-1"})
    assert answer.status_code == 201, answer.text
    project = server.engine.get(answer.json()["project"])
    assert (project.name, project.fields["problem_statement"], project.fields["team_size"]) \
        == ("Rice bank", "seed prices", 3)


@pytest.mark.parametrize(("signature", "detail"), [
    (None, "missing signature"),
    ("sha256=" + "0" * 64, "wrong signature"),
    ("sha1=abc", "wrong signature"),
    ("", "missing signature"),
])
def test_a_wrong_or_missing_signature_is_401_and_writes_nothing(
        server: Server, signature: str | None, detail: str) -> None:
    before = len(_projects(server))
    answer = _post(server, "kobo", _kobo("Unsigned"), secret=None, signature=signature)
    assert answer.status_code == 401
    assert problem_of(answer).startswith(detail)
    assert len(_projects(server)) == before


def test_a_signature_with_another_hooks_secret_or_another_body_is_401(server: Server) -> None:
    before = len(_projects(server))
    payload = _kobo("Forged")
    assert _post(server, "kobo", payload, secret=FORMS_SECRET).status_code == 401
    signed_other = _signature(KOBO_SECRET, json.dumps(_kobo("Other")).encode())
    assert _post(server, "kobo", payload, signature=signed_other).status_code == 401
    assert len(_projects(server)) == before


def test_a_replay_does_nothing_twice(server: Server) -> None:
    payload = _kobo("Replayed")
    first = _post(server, "kobo", payload)
    assert first.status_code == 201, first.text
    count = len(_projects(server))
    again = _post(server, "kobo", payload)
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "replay": True}
    assert len(_projects(server)) == count
    # the same delivery id with another body is the same delivery
    changed = _post(server, "kobo", {**payload, "project_name": "Replayed, edited"})
    assert changed.status_code == 200
    assert changed.json()["reference"] == first.json()["reference"]
    assert len(_projects(server)) == count
    assert [p.name for p in _projects(server)].count("Replayed") == 1


def test_concurrent_deliveries_of_one_id_create_one_project(server: Server) -> None:
    payload = _kobo("Raced")
    body = json.dumps(payload).encode()
    gate = threading.Barrier(8)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def deliver() -> None:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            gate.wait()
            answer = client.post("/hooks/kobo", content=body, headers={
                "Content-Type": "application/json",
                "X-Bompao-Signature": _signature(KOBO_SECRET, body)})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], \
        [a.text for a in answers]
    assert len({a.json()["reference"] for a in answers}) == 1
    assert len({a.json()["project"] for a in answers}) == 1
    assert [p.name for p in _projects(server)].count("Raced") == 1


def test_a_closed_call_is_refused_with_the_catalogue_message(server: Server) -> None:
    closed = TODAY - timedelta(days=1)
    answer = _post(server, "late", _kobo("Too late"))
    assert answer.status_code == 409
    assert problem_of(answer) == (f"applications to hook-closed@1 closed on {closed}; today "
                                  f"is {TODAY} (the journey's timezone); nothing was imported")
    thai = _post(server, "late", _kobo("Too late"), **{"Accept-Language": "th"})
    assert problem_of(thai).startswith("การรับสมัครของ hook-closed@1 ปิดไปแล้วเมื่อวันที่")
    assert _projects(server, "hook-closed") == []


def test_a_missing_required_field_is_422_naming_it(server: Server) -> None:
    before = len(_projects(server))
    payload = _kobo("No problem given")
    del payload["intro/problem"]
    answer = _post(server, "kobo", payload)
    assert answer.status_code == 422
    assert problem_of(answer) == ("the application misses the required field "
                                  "'problem_statement'; required: problem_statement")
    assert answer.json()["field"] == "problem_statement"
    blank = _post(server, "kobo", _kobo("Blank", **{"intro/problem": "   "}))
    assert blank.status_code == 422
    assert blank.json()["field"] == "problem_statement"
    bad = _post(server, "kobo", _kobo("Bad team", **{"intro/team": "many"}))
    assert bad.status_code == 422
    assert bad.json()["field"] == "team_size"
    assert "'team_size'" in problem_of(bad)
    assert len(_projects(server)) == before
    # nothing was recorded either: the same delivery, now complete, is taken in
    fixed = _post(server, "kobo", {**payload, "intro/problem": "now given"})
    assert fixed.status_code == 201, fixed.text


def test_an_unknown_hook_is_404(server: Server) -> None:
    before = len(_projects(server))
    answer = _post(server, "nope", _kobo("Nowhere"))
    assert answer.status_code == 404
    assert problem_of(answer) == "no inbound hook 'nope' is configured"
    assert len(_projects(server)) == before


def test_a_body_that_is_not_a_json_object_is_400(server: Server) -> None:
    before = len(_projects(server))
    for body in (b"not json", b"[1, 2]"):
        answer = _post(server, "kobo", body)
        assert answer.status_code == 400
        assert problem_of(answer).startswith("the body is not a JSON object")
    assert len(_projects(server)) == before


def test_no_secret_is_ever_answered(server: Server) -> None:
    _post(server, "kobo", _kobo("Check"), secret=FORMS_SECRET)
    for text in server.answered:
        assert KOBO_SECRET not in text
        assert FORMS_SECRET not in text


def test_the_database_constraint_stops_a_replay_that_passed_the_first_look(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two deliveries of one id that both found no receipt on their first look (as two
    at once can): the unique (source, delivery_id) lets one project through."""
    from bompao.engine import applications  # noqa: PLC0415

    real = applications._existing
    looks: list[str] = []

    def first_look_misses(engine: Any, source: str, delivery_id: str) -> Any:
        looks.append(delivery_id)
        return None if len(looks) <= 2 else real(engine, source, delivery_id)

    monkeypatch.setattr(applications, "_existing", first_look_misses)
    gate = threading.Barrier(2)
    results: list[Any] = []

    def submit() -> None:
        gate.wait()
        results.append(applications.submit(
            server.engine, "hook-call", name="Constraint", source="hook:kobo",
            delivery_id="raced-in-process", answers={"problem_statement": "p"}))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert sorted(r.replay for r in results) == [False, True]
    assert len({(r.reference, r.project_id) for r in results}) == 1
    assert [p.name for p in _projects(server)].count("Constraint") == 1
    assert len(looks) == 3  # two first looks, then the loser's look after its rollback


def test_a_signature_in_upper_case_hex_is_the_same_signature(server: Server) -> None:
    payload = json.dumps(_kobo("Upper case")).encode()
    digest = hmac.new(KOBO_SECRET.encode(), payload, hashlib.sha256).hexdigest().upper()
    answer = _post(server, "kobo", payload, signature=f"sha256={digest}")
    assert answer.status_code == 201, answer.text
    assert "Upper case" in [p.name for p in _projects(server)]


_HEAD = (b"POST /hooks/kobo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
         b"X-Bompao-Signature: sha256=00\r\n")


def test_a_chunked_body_over_the_limit_is_refused_before_it_ends(server: Server) -> None:
    """1.1 MB sent in chunks without a Content-Length and the body never finished: the
    server answers 413 without waiting for the rest, which it would never get."""
    answer = raw_request(server, _HEAD + b"Transfer-Encoding: chunked\r\n\r\n",
                  chunked(MAX_BODY + 100_000))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"nothing was written" in answer


def test_a_content_length_over_the_limit_is_refused_unread(server: Server) -> None:
    """A Content-Length of 3 MB with 10 bytes sent: 413 at once, nothing read."""
    answer = raw_request(server, _HEAD + b"Content-Length: 3000000\r\n\r\n", [b"{" * 10])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_content_length_under_the_limit_does_not_lift_it(server: Server) -> None:
    """A body at the limit exactly is read and judged (here: its signature is wrong,
    401); a small Content-Length does not let more through: the server takes that many
    bytes as the body (judged: 401) and the rest as a next request it refuses (400)."""
    body = b"x" * MAX_BODY
    answer = raw_request(server, _HEAD + b"Content-Length: %d\r\n\r\n" % len(body), [body])
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    before = len(_projects(server))
    short = raw_request(server, _HEAD + b"Content-Length: 10\r\n\r\n", [b"x" * (MAX_BODY + 10)])
    assert short[:12] in (b"HTTP/1.1 401", b"HTTP/1.1 400"), short[:200]
    assert len(_projects(server)) == before
