"""The public application form ``/apply/{journey}`` against a real ``bompao serve``:
over HTTP (the form's fields, help texts in Thai and English, the opening dates, CSRF,
problem+json for JSON clients, hostile text shown as text, the status page showing the
stage and nothing else) and in Debian's Chromium through Playwright (an applicant
applies and follows the reference; a required field left empty; the honeypot; the
rate limit). Every refusal asserts nothing was written."""

from __future__ import annotations

import itertools
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from web_harness import PROBLEM, Pages, Server, cookie_value, problem_of, set_cookie

CALL = Path(__file__).resolve().parents[1] / "fixtures" / "intake" / "call.yaml"
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).date()
POSTS = 4
SERVE_WEB = {"secure_cookies": "false", "apply_posts": str(POSTS), "apply_window": "3600"}
HOSTILE = '<script>alert("x")</script>'
_ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))


def _journey(key: str, opens: Any, closes: Any) -> str:
    text = CALL.read_text(encoding="utf-8")
    for old, new in (
            ("journey: call", f"journey: {key}"),
            ("opens: 2027-01-01", f"opens: {opens}"),
            ("closes: 2027-02-28", f"closes: {closes}"),
            ("  problem_statement: string\n",
             "  problem_statement: {type: string, title: {en: Problem, th: ปัญหา}}\n"),
            ("  team_size: int\n",
             "  team_size: {type: int, min: 1, max: 50, title: {en: Team size, th: ขนาดทีม}}\n"),
            ("  applied: {initial: true}",
             "  applied: {initial: true, title: {en: Applied, th: สมัครแล้ว}}")):
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module", autouse=True)
def calls(server: Server) -> None:
    """``form-call`` open today; ``form-closed`` closed yesterday; ``form-later`` opens
    next week."""
    server.engine.publish(_journey("form-call", TODAY - timedelta(days=3),
                                   TODAY + timedelta(days=3)))
    server.engine.publish(_journey("form-closed", TODAY - timedelta(days=9),
                                   TODAY - timedelta(days=1)))
    server.engine.publish(_journey("form-later", TODAY + timedelta(days=7),
                                   TODAY + timedelta(days=30)))


def _names(server: Server, journey: str = "form-call") -> list[str]:
    return [p.name for p in server.engine.list_projects(journey=journey)]


class _Visitor:
    """An anonymous visitor over HTTP from its own address, keeping its cookie."""

    def __init__(self, server: Server, lang: str = "en") -> None:
        self.client = server.client(**{"X-Forwarded-For": next(_ADDRESSES),
                                       "Accept-Language": lang})
        self.cookie = ""

    def get(self, path: str, **headers: str) -> httpx.Response:
        answer = self.client.get(path, headers={"Cookie": f"bompao_session={self.cookie}",
                                                **headers})
        header = set_cookie(answer)
        if header is not None:
            self.cookie = cookie_value(header)
        return answer

    def post(self, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
        return self.client.post(path, data=data, headers={
            "Cookie": f"bompao_session={self.cookie}", **headers})


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_form_shows_the_declared_fields_in_the_pages_language(server: Server) -> None:
    english = _Visitor(server).get("/apply/form-call")
    assert english.status_code == 200
    page = english.text
    for name in ("name", "f.problem_statement", "f.team_size", "f.needs", "f.conflicts",
                 "website"):
        assert f'name="{name}"' in page
    assert re.search(r'<label for="f-problem_statement">Problem <abbr', page)
    assert "What problem do you solve?" in page
    assert 'type="number" min="1" max="50"' in page
    assert re.search(r'<label for="f-team_size">Team size</label>', page)  # not required
    assert "content-security-policy" in english.headers
    assert "script-src 'self'" in english.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    assert " style=" not in page
    assert "<style" not in page
    thai = _Visitor(server, "th").get("/apply/form-call").text
    assert "คุณแก้ปัญหาอะไร" in thai
    assert re.search(r'<label for="f-problem_statement">ปัญหา <abbr', thai)
    assert "ส่งใบสมัคร" in thai


def test_outside_the_dates_get_and_post_say_so_and_write_nothing(server: Server) -> None:
    closed = TODAY - timedelta(days=1)
    visitor = _Visitor(server)
    page = visitor.get("/apply/form-closed")
    assert page.status_code == 403
    assert (f"Applications to Open call closed on {closed}; today is {TODAY}. Nothing was "
            "sent.") in page.text
    assert 'name="f.problem_statement"' not in page.text
    posted = visitor.post("/apply/form-closed", {
        "csrf_token": _token(visitor.get("/apply/form-call").text), "name": "Late",
        "f.problem_statement": "too late"})
    assert posted.status_code == 403
    assert f"closed on {closed}" in posted.text
    thai = _Visitor(server, "th").get("/apply/form-closed").text
    assert f"ปิดไปแล้วเมื่อวันที่ {closed} วันนี้คือ {TODAY}" in thai
    later = _Visitor(server).get("/apply/form-later")
    assert later.status_code == 403
    assert f"open on {TODAY + timedelta(days=7)}; today is {TODAY}" in later.text
    as_json = httpx.post(f"{server.base}/apply/form-closed", json={
        "name": "Late", "fields": {"problem_statement": "x"}}, timeout=30,
        headers={"X-Forwarded-For": next(_ADDRESSES)})
    assert as_json.status_code == 403
    assert problem_of(as_json).startswith("applications to form-closed@1 closed on")
    assert _names(server, "form-closed") == []


def test_a_post_without_the_sessions_token_is_refused(server: Server) -> None:
    visitor = _Visitor(server)
    visitor.get("/apply/form-call")
    answer = visitor.post("/apply/form-call", {"name": "No token",
                                               "f.problem_statement": "x"})
    assert answer.status_code == 403
    assert "this form has expired" in answer.text
    assert 'value="No token"' in answer.text  # what was typed is kept
    forged = visitor.post("/apply/form-call", {"name": "Forged", "csrf_token": "x" * 43,
                                               "f.problem_statement": "x"})
    assert forged.status_code == 403
    assert "No token" not in _names(server)
    assert "Forged" not in _names(server)


def test_bad_input_is_shown_next_to_its_field_and_hostile_text_as_text(
        server: Server) -> None:
    visitor = _Visitor(server)
    token = _token(visitor.get("/apply/form-call").text)
    answer = visitor.post("/apply/form-call", {
        "csrf_token": token, "name": HOSTILE, "f.problem_statement": "",
        "f.team_size": "many", "f.needs": HOSTILE})
    assert answer.status_code == 422
    page = answer.text
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    problem = re.search(r'data-field="problem_statement">(.*?)</div>', page, re.S)
    assert problem is not None
    assert "the application misses the required field &#39;problem_statement&#39;" \
        in problem.group(1)
    team = re.search(r'data-field="team_size">(.*?)</div>', page, re.S)
    assert team is not None
    assert 'aria-invalid="true"' in team.group(1)
    assert "team_size" in team.group(1)
    assert "field-error" in team.group(1)
    assert HOSTILE not in _names(server)


def test_a_json_client_gets_a_reference_or_problem_json(server: Server) -> None:
    address = next(_ADDRESSES)
    with server.client(**{"X-Forwarded-For": address}) as client:
        bad = client.post("/apply/form-call", json={"name": "JSON", "fields": {
            "team_size": 3}})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == PROBLEM
        assert bad.json()["field"] == "problem_statement"
        assert "JSON" not in _names(server)
        good = client.post("/apply/form-call", json={"name": "JSON", "fields": {
            "problem_statement": "roads", "team_size": 3, "needs": ["model_and_plan"]}})
        assert good.status_code == 201, good.text
        follow = good.json()["status_url"]
        assert good.headers["location"] == follow
        status = client.get(follow, headers={"Accept": "application/json"})
    assert status.json() == {"journey": "form-call", "stage": "applied",
                             "stage_title": "Applied"}
    [project] = [p for p in server.engine.list_projects(journey="form-call")
                 if p.name == "JSON"]
    assert project.fields["needs"] == ["model_and_plan"]
    assert project.partner is None


def test_the_status_page_shows_the_stage_and_nothing_else(server: Server) -> None:
    with server.client(**{"X-Forwarded-For": next(_ADDRESSES)}) as client:
        made = client.post("/apply/form-call", json={"name": "Secret project name",
                                                     "fields": {"problem_statement":
                                                                "private answer"}})
        assert made.status_code == 201, made.text
        reference = made.json()["reference"]
        page = client.get(f"/apply/form-call/status/{reference}")
        assert page.status_code == 200
        assert 'data-stage="applied">Applied<' in page.text
        assert "Secret project name" not in page.text
        assert "private answer" not in page.text
        other = client.get(f"/apply/form-later/status/{reference}")
        assert other.status_code == 404
        guessed = client.get(f"/apply/form-call/status/{reference[:-2]}xx")
        assert guessed.status_code == 404
        assert "no application has this reference" in guessed.text
    assert len(reference) >= 32


def test_a_journey_without_a_form_is_404(server: Server) -> None:
    answer = _Visitor(server).get("/apply/incubator-builder")
    assert answer.status_code == 404
    assert "takes no applications" in answer.text
    assert _Visitor(server).get("/apply/no-such-journey").status_code == 404
    assert _Visitor(server).get("/apply/social-incubator").status_code == 200  # @3 has a call


# in Chromium --------------------------------------------------------------------------


def _page(pages: Pages, lang: str = "en-GB") -> Any:
    """A desktop-sized page from an address of its own (the form's throttle is per
    address)."""
    return pages.open(lang, phone=False, headers={"X-Forwarded-For": next(_ADDRESSES)})


@pytest.mark.slow
def test_an_applicant_applies_and_follows_the_reference(server: Server, pages: Pages,
                                                       tmp_path: Path) -> None:
    page = _page(pages, "th-TH")
    page.goto(f"{server.base}/apply/form-call")
    assert "คุณแก้ปัญหาอะไร" in page.inner_text('[data-field="problem_statement"]')
    page.fill("#f-name", "ธนาคารน้ำชุมชน")
    page.fill("#f-problem_statement", "หมู่บ้านขาดน้ำสะอาดในหน้าแล้ง")
    page.fill("#f-team_size", "5")
    page.fill("#f-needs", "impact_measurement, model_and_plan")
    shots = Path(os.environ.get("BOMPAO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "apply-th.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_selector("#follow")
    reference = page.inner_text("#reference-text")
    assert "รหัสอ้างอิงของคุณคือ" in reference
    page.click("#follow")
    page.wait_for_selector("#status-stage")
    assert page.inner_text("#status-stage") == "สมัครแล้ว"
    [project] = [p for p in server.engine.list_projects(journey="form-call")
                 if p.name == "ธนาคารน้ำชุมชน"]
    assert project.fields == {**project.fields, "team_size": 5,
                              "problem_statement": "หมู่บ้านขาดน้ำสะอาดในหน้าแล้ง",
                              "needs": ["impact_measurement", "model_and_plan"]}
    assert page.url.endswith(reference.split("คือ ")[1].split(" ")[0])
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
    page.context.close()


@pytest.mark.slow
def test_a_required_field_left_empty_shows_its_error(server: Server, pages: Pages) -> None:
    page = _page(pages)
    page.goto(f"{server.base}/apply/form-call")
    page.fill("#f-name", "Left empty")
    page.fill("#f-team_size", "2")
    page.click("button[type=submit]")
    error = page.wait_for_selector('[data-field="problem_statement"] .field-error')
    assert error.inner_text() == ("the application misses the required field "
                                  "'problem_statement'; required: problem_statement")
    assert page.input_value("#f-name") == "Left empty"  # kept
    assert page.input_value("#f-team_size") == "2"
    assert page.get_attribute("#f-problem_statement", "aria-invalid") == "true"
    assert "Left empty" not in _names(server)
    page.fill("#f-problem_statement", "now it is given")
    page.click("button[type=submit]")
    page.wait_for_selector("#follow")
    assert "Left empty" in _names(server)
    page.context.close()


@pytest.mark.slow
def test_a_filled_honeypot_is_thanked_and_dropped(server: Server, pages: Pages) -> None:
    page = _page(pages)
    page.goto(f"{server.base}/apply/form-call")
    box = page.locator("#f-website").bounding_box()
    assert box is not None
    assert box["x"] < 0
    page.fill("#f-name", "Robot")
    page.fill("#f-problem_statement", "buy pills")
    page.fill("#f-website", "https://spam.example")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == "Thank you."
    assert page.locator("#follow").count() == 0
    assert "Robot" not in _names(server)
    page.context.close()


@pytest.mark.slow
def test_the_rate_limit_per_address(server: Server, pages: Pages) -> None:
    page = _page(pages)
    before = len(_names(server))
    for number in range(POSTS):
        page.goto(f"{server.base}/apply/form-call")
        page.fill("#f-name", f"Burst {number}")
        page.fill("#f-problem_statement", "p")
        page.click("button[type=submit]")
        page.wait_for_selector("#follow")
    page.goto(f"{server.base}/apply/form-call")
    page.fill("#f-name", "One too many")
    page.fill("#f-problem_statement", "p")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button[type=submit]")
    assert posted.value.status == 429
    assert posted.value.headers["retry-after"].isdigit()
    page.wait_for_selector("#message")
    assert page.inner_text("#message").startswith(
        f"too many applications from your address: at most {POSTS} per hour")
    assert len(_names(server)) == before + POSTS
    assert "One too many" not in _names(server)
    other = _page(pages)  # another address is not held back
    other.goto(f"{server.base}/apply/form-call")
    other.fill("#f-name", "Another address")
    other.fill("#f-problem_statement", "p")
    other.click("button[type=submit]")
    other.wait_for_selector("#follow")
    for each in (page, other):
        each.context.close()


def test_an_oversized_post_is_413_and_writes_nothing(server: Server) -> None:
    with server.client(**{"X-Forwarded-For": next(_ADDRESSES)}) as client:
        answer = client.post("/apply/form-call", data={
            "name": "Huge", "f.problem_statement": "x" * 300_000})
    assert answer.status_code == 413
    assert problem_of(answer).startswith("an application is at most 200,000 bytes")
    assert "Huge" not in _names(server)
