"""The pages against a real ``bompao serve``: sign-in, partner scopes on every page route,
CSRF on every form, escaping, uploads (limit, type, content; nothing stored when
refused), roles, refusals on the page, the board's filters, my work, the language
switch, the vendored files and the live stream."""

from __future__ import annotations

import hashlib
import html
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import Server, Session, new_project, sign_in_session

from bompao.web.pages import pages_router

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2048
SERVE_WEB = {"secure_cookies": "false", "upload_limit": str(LIMIT),
             "upload_types": '[".pdf", ".png", ".txt"]'}
"""This module's server: a small upload limit and a short list of allowed endings."""
PDF = b"%PDF-1.4\n% a tiny test file\n"

PAGE_POSTS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/projects/{project_id}"): {},
    ("GET", "/projects/{project_id}/files/{name}"): {},
    ("POST", "/projects/{project_id}/fields"): {"field.interviews_done": "7"},
    ("POST", "/projects/{project_id}/evidence"): {"name": "stakeholder_map", "note": "n"},
    ("POST", "/projects/{project_id}/approve"): {"role": "coach"},
    ("POST", "/projects/{project_id}/advance"): {"trigger": "withdraw"},
    ("POST", "/projects/{project_id}/measurements"): {"indicator": "people_reached",
                                                      "value": "1"},
    ("POST", "/projects/{project_id}/scores"): {"score.problem": "3", "score.target_group": "3",
                                                "score.change": "3", "score.team": "3"},
}
"""Every page route naming a project, with a valid form: each must be 404 for another
partner's project (the classification test fails until a new route is added here)."""
PAGE_UNSCOPED = {("GET", "/"), ("GET", "/me"), ("GET", "/events/stream"), ("POST", "/lang"),
                 ("GET", "/reports"), ("GET", "/journeys"), ("GET", "/journeys/playground"),
                 ("POST", "/journeys/playground"), ("GET", "/journeys/{key}"),
                 ("GET", "/reports/charts/{name}.svg")}


def _walk(routes: Any) -> Iterator[tuple[str, str]]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes)
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD"}):
            yield method, route.path


@pytest.fixture(scope="module")
def people(server: Server) -> dict[str, Any]:
    """cmu's coach (also committee), manager and participant; khonkaen's coach; a project
    of each partner."""
    server.add_user("p-coach", "Malee Coach", "coach@cmu", "committee@cmu")
    server.add_user("p-manager", "Ploy Manager", "program_manager@cmu")
    server.add_user("p-team", "Team Member", "participant@cmu")
    server.add_user("p-other", "Other Coach", "coach@khonkaen", "program_manager@khonkaen")
    with server.as_user("p-manager") as a, server.as_user("p-other") as b:
        mine = new_project(a, "Rice Bank", cohort="2026")
        theirs = new_project(b, "Khon Kaen Secret", cohort="2027")
    server.engine.assign(mine["id"], "coach", "Malee Coach")
    return {"a": mine, "b": theirs}


def _session(server: Server, username: str, **headers: str) -> Session:
    return sign_in_session(server, username, **headers)


def _fresh(server: Server, name: str) -> int:
    with server.as_user("p-manager") as client:
        return int(new_project(client, name)["id"])


def _error_line(page: str) -> str:
    found = re.search(r'<p class="error" role="alert" id="error">(.*?)</p>', page, re.S)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1))


def test_the_vendored_files_are_served_and_match_their_digests(server: Server) -> None:
    table = (ROOT / "web" / "static" / "VENDORED.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+\.js) \| (\S+) \| (\S+) \|.*\| ([0-9a-f]{64}) \|$", table,
                      re.M)
    assert {r[0] for r in rows} == {"htmx.min.js", "htmx-ext-sse.min.js"}
    with server.client() as client:
        for name, package, version, digest in rows:
            answer = client.get(f"/static/{name}")
            assert answer.status_code == 200
            assert hashlib.sha256(answer.content).hexdigest() == digest, name
            assert "javascript" in answer.headers["content-type"]
            assert answer.headers["x-content-type-options"] == "nosniff"
            if package == "htmx.org":
                assert f'version:"{version}"' in answer.text
        assert client.get("/static/app.css").status_code == 200
        assert client.get("/static/../web/app.py").status_code == 404


def test_pages_send_a_signed_out_visitor_to_the_sign_in_page(
        server: Server, people: dict[str, Any]) -> None:
    with server.client() as client:
        for path in ("/", "/me", f"/projects/{people['a']['id']}"):
            answer = client.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path
        assert client.get("/events/stream").status_code == 401


def test_every_page_route_is_classified() -> None:
    routes = set(_walk(pages_router.routes))
    assert routes == set(PAGE_POSTS) | PAGE_UNSCOPED


def test_another_partners_project_is_404_on_every_page_route(
        server: Server, people: dict[str, Any]) -> None:
    b_id = people["b"]["id"]
    session = _session(server, "p-coach")
    for (method, path), form in PAGE_POSTS.items():
        url = path.replace("{project_id}", str(b_id)).replace("{name}", "0" * 32 + ".pdf")
        answer = session.get(url) if method == "GET" else session.post(url, form)
        assert answer.status_code == 404, (method, path, answer.text[:300])
        assert "Khon Kaen Secret" not in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    board = session.get("/")
    assert "Rice Bank" in board.text
    assert "Khon Kaen Secret" not in board.text
    filtered = session.get("/?partner=khonkaen").text
    assert "Khon Kaen Secret" not in filtered
    assert '<p class="count">0 project(s)</p>' in filtered
    with server.as_user("p-other") as owner:
        after = owner.get(f"/api/v1/projects/{b_id}").json()
    assert (after["lock_version"], after["stage"], after["evidence"]) == (1, "idea", {})


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
        server: Server, people: dict[str, Any]) -> None:
    project_id = _fresh(server, "Forged")
    session = _session(server, "p-manager")
    for (method, path), form in PAGE_POSTS.items():
        if method != "POST":
            continue
        url = path.replace("{project_id}", str(project_id))
        for label, extra in (("none", {}), ("wrong", {"csrf_token": "guess"})):
            answer = session.post(url, {**form, **extra}, token=False)
            assert answer.status_code == 403, (label, path, answer.text[:200])
    assert session.post("/lang", {"lang": "th", "next": "/"}, token=False).status_code == 403
    assert server.engine.get(project_id).lock_version == 1
    assert '<html lang="en">' in session.get("/").text


def test_html_in_names_fields_and_notes_is_shown_as_text(
        server: Server, people: dict[str, Any]) -> None:
    hostile = '<script>alert("x")</script>'
    with server.as_user("p-manager") as client:
        project_id = new_project(client, f"{hostile} Bank", cohort=hostile)["id"]
    session = _session(server, "p-manager")
    saved = session.post(f"/projects/{project_id}/fields",
                         {"field.problem_statement": f"{hostile} and <b>bold</b>"})
    assert saved.status_code == 303
    noted = session.post(f"/projects/{project_id}/evidence", {
        "name": "stakeholder_map", "url": "javascript:alert(1)",
        "note": '<img src=x onerror="alert(2)">'})
    assert noted.status_code == 303, noted.text[:300]
    for path in (f"/projects/{project_id}", "/", f"/?cohort={hostile}"):
        page = session.get(path).text
        assert "<script>alert" not in page, path
        assert "<img src=x" not in page, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page, path
    page = session.get(f"/projects/{project_id}").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    assert 'href="javascript:' not in page
    assert "<code>javascript:alert(1)</code>" in page


def _uploads(server: Server) -> list[Path]:
    assert server.folder is not None
    folder = server.folder / "uploads"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize(("filename", "content", "status", "says"), [
    ("big.pdf", PDF + b"x" * LIMIT, 413, "at most 2,048 may be uploaded"),
    ("page.html", b"<script>alert(1)</script>", 415,
     "is not of an allowed type; allowed: .pdf, .png, .txt"),
    ("fake.pdf", b"MZ\x90\x00 an executable", 415, "does not hold what its ending '.pdf' says"),
    ("notes.txt", b"\xff\xfe not utf-8 \x00", 415, "does not hold what its ending '.txt' says"),
    ("noending", b"plain", 415, "is not of an allowed type"),
])
def test_refused_uploads_store_nothing(server: Server, people: dict[str, Any], filename: str,
                                       content: bytes, status: int, says: str) -> None:
    project_id = _fresh(server, f"Upload {filename}")
    session = _session(server, "p-manager")
    before = _uploads(server)
    answer = session.client.post(
        f"/projects/{project_id}/evidence",
        data={"name": "stakeholder_map", "csrf_token": session.csrf},
        files={"file": (filename, content, "application/octet-stream")},
        headers={"Cookie": f"bompao_session={session.cookie}"})
    assert answer.status_code == status, answer.text[:300]
    assert says in _error_line(answer.text)
    assert _uploads(server) == before
    assert server.engine.get(project_id).evidence == {}


def test_an_upload_is_stored_served_to_its_partner_only_and_as_an_attachment(
        server: Server, people: dict[str, Any]) -> None:
    project_id = _fresh(server, "Uploaded")
    session = _session(server, "p-manager")
    before = set(_uploads(server))
    answer = session.client.post(
        f"/projects/{project_id}/evidence",
        data={"name": "test_plan", "csrf_token": session.csrf},
        files={"file": ("../../plan <v2>.pdf", PDF, "application/pdf")},
        headers={"Cookie": f"bompao_session={session.cookie}"})
    assert answer.status_code == 303, answer.text[:300]
    [stored] = set(_uploads(server)) - before
    assert stored.parent.name == str(project_id)
    assert stored.read_bytes() == PDF
    item = server.engine.get(project_id).evidence["test_plan"]
    assert item["url"] == f"/projects/{project_id}/files/{stored.name}"
    assert item["note"] == ".. .. plan <v2>.pdf"
    served = session.get(item["url"])
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["content-type"] == "application/octet-stream"
    other = _session(server, "p-other")
    assert other.get(item["url"]).status_code == 404
    unknown = session.get(f"/projects/{project_id}/files/..%2F..%2Fbompao.toml")
    assert unknown.status_code == 404
    # an unknown evidence name is refused before the file is written
    refused = session.client.post(
        f"/projects/{project_id}/evidence", data={"name": "nosuch", "csrf_token": session.csrf},
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers={"Cookie": f"bompao_session={session.cookie}"})
    assert refused.status_code == 422
    assert "nosuch" in _error_line(refused.text)
    assert set(_uploads(server)) - before == {stored}


def test_a_participant_cannot_approve_or_advance_where_their_role_may_not(
        server: Server, people: dict[str, Any]) -> None:
    project_id = _fresh(server, "Roles")
    team = _session(server, "p-team")
    page = team.get(f"/projects/{project_id}").text
    assert "data-approve=" not in page  # no approve button for a role the user lacks
    assert 'data-advance="withdraw"' not in page
    approve = team.post(f"/projects/{project_id}/approve", {"role": "coach"})
    assert approve.status_code == 403
    assert _error_line(approve.text) == ("'Team Member' does not hold the role 'coach' and "
                                         "cannot approve as it; 'Team Member' holds: participant")
    withdraw = team.post(f"/projects/{project_id}/advance", {"trigger": "withdraw"})
    assert withdraw.status_code == 403
    assert "withdraw" in _error_line(withdraw.text)
    assert "Traceback" not in withdraw.text
    override = team.post(f"/projects/{project_id}/advance",
                         {"trigger": "validate", "override": "1", "reason": "because"})
    assert override.status_code == 403
    assert server.engine.get(project_id).lock_version == 1


def test_a_refused_gate_says_what_is_missing_on_the_page(
        server: Server, people: dict[str, Any]) -> None:
    project_id = _fresh(server, "Gate")
    manager = _session(server, "p-manager")
    refused = manager.post(f"/projects/{project_id}/advance", {"trigger": "validate"})
    assert refused.status_code == 409
    line = _error_line(refused.text)
    assert "A stakeholder map is attached" in line
    assert refused.text.count('class="unmet"') >= 3
    no_reason = manager.post(f"/projects/{project_id}/advance",
                             {"trigger": "present", "override": "1", "reason": " "})
    assert no_reason.status_code in (409, 422)
    coach = _session(server, "p-coach")
    assert coach.post(f"/projects/{project_id}/fields", {
        "field.problem_statement": "Farmers lose a third of their harvest",
        "field.interviews_done": "0"}).status_code == 303
    assert coach.post(f"/projects/{project_id}/evidence", {
        "name": "stakeholder_map", "url": "https://example.org/map"}).status_code == 303
    page = coach.get(f"/projects/{project_id}").text
    assert 'data-approve="coach"' in page
    assert coach.post(f"/projects/{project_id}/approve", {"role": "coach"}).status_code == 303
    assert 'data-approve="coach"' not in coach.get(f"/projects/{project_id}").text
    moved = manager.post(f"/projects/{project_id}/advance", {"trigger": "validate"})
    assert moved.status_code == 303
    project = server.engine.get(project_id)
    assert project.stage == "validation"
    assert [e["by"] for e in project.approvals.get("coach", [])] == []
    last = server.engine.history(project_id)[-1]
    assert (last.from_stage, last.to_stage, last.actor) == ("idea", "validation", "Ploy Manager")


def test_fields_are_typed_by_the_journey(server: Server, people: dict[str, Any]) -> None:
    project_id = _fresh(server, "Typed")
    session = _session(server, "p-manager")
    page = session.get(f"/projects/{project_id}").text
    assert 'type="number" step="1" name="field.interviews_done"' in page
    assert 'type="date" name="field.demo_day"' in page
    bad = session.post(f"/projects/{project_id}/fields", {"field.interviews_done": "many"})
    assert bad.status_code == 422
    assert _error_line(bad.text) == "field 'interviews_done': expected int, got 'many'"
    good = session.post(f"/projects/{project_id}/fields", {
        "field.interviews_done": "12", "field.demo_day": "2027-02-03",
        "field.partners_committed": "City Hall, Rotary"})
    assert good.status_code == 303
    fields = server.engine.get(project_id).fields
    assert (fields["interviews_done"], str(fields["demo_day"])[:10],
            fields["partners_committed"]) == (12, "2027-02-03", ["City Hall", "Rotary"])
    # an unchanged form writes no event
    lock = server.engine.get(project_id).lock_version
    form = {f"field.{k}": v for k, v in re.findall(
        r'name="field\.(\w+)" value="([^"]*)"', session.get(f"/projects/{project_id}").text)}
    assert session.post(f"/projects/{project_id}/fields", form).status_code == 303
    assert server.engine.get(project_id).lock_version == lock


def test_the_board_filters_and_flags(server: Server, people: dict[str, Any]) -> None:
    flagged = _fresh(server, "Flagged Farm")
    server.engine.flag(flagged, "at_risk")
    session = _session(server, "p-coach")
    board = session.get("/").text
    card = board.split(f'id="card-{flagged}"')[1].split("</li>")[0]
    assert 'class="flag risk"' in card
    assert "0 day(s) in stage" in card
    assert board.index('data-stage="idea"') < board.index('data-stage="validation"')
    cohort = session.get("/?cohort=2026").text.split('id="board"')[1]
    assert "Rice Bank" in cohort
    assert "Flagged Farm" not in cohort
    coach = session.get("/?coach=malee+coach").text.split('id="board"')[1]
    assert "Rice Bank" in coach
    assert "Flagged Farm" not in coach


def test_my_work_lists_my_projects_and_what_waits_for_me(
        server: Server, people: dict[str, Any]) -> None:
    page = _session(server, "p-coach").get("/me").text
    mine = page.split('id="my-projects"')[1]
    assert f'data-project="{people["a"]["id"]}"' in mine
    waiting = page.split('id="my-approvals"')[1].split("</section>")[0]
    assert f'data-project="{people["a"]["id"]}"' in waiting
    assert "as coach" in waiting
    assert "Khon Kaen Secret" not in page


def test_the_language_is_the_users_choice_else_accept_language(
        server: Server, people: dict[str, Any]) -> None:
    thai = _session(server, "p-coach", **{"Accept-Language": "th-TH,th;q=0.9"})
    assert '<html lang="th">' in thai.get("/").text
    assert "กระดานโครงการของรุ่น" in thai.get("/").text
    english = _session(server, "p-coach")
    assert english.post("/lang", {"lang": "th", "next": "https://evil.example/"}
                        ).headers["location"] == "/"
    page = english.get(f"/projects/{people['a']['id']}").text
    assert '<html lang="th">' in page
    assert "ขั้นตอนถัดไป" in page
    assert english.post("/lang", {"lang": "en", "next": "/me"}).headers["location"] == "/me"
    assert '<html lang="en">' in english.get("/").text


def _events(server: Server, session: Session, after: int, until: float,
            found: list[str]) -> None:
    headers = {"Cookie": f"bompao_session={session.cookie}"}
    with httpx.Client(base_url=server.base, timeout=10) as client, client.stream(
            "GET", f"/events/stream?after={after}", headers=headers) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("event: "):
                found.append(line.removeprefix("event: "))
            if time.monotonic() > until or "project-stop" in found:
                return


def test_the_live_stream_sends_the_users_partners_events_only(
        server: Server, people: dict[str, Any]) -> None:
    session = _session(server, "p-coach")
    page = session.get("/").text
    after = int(re.search(r"/events/stream\?after=(\d+)", page).group(1))  # type: ignore[union-attr]
    found: list[str] = []
    reader = threading.Thread(target=_events, args=(server, session, after,
                                                    time.monotonic() + 8, found))
    reader.start()
    server.engine.flag(people["b"]["id"], "seen_by_b")
    server.engine.flag(people["a"]["id"], "seen_by_a")
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and f"project-{people['a']['id']}" not in found:
        time.sleep(0.1)
    reader.join(timeout=10)
    assert f"project-{people['a']['id']}" in found
    assert "changed" in found
    assert f"project-{people['b']['id']}" not in found


def test_reports_count_the_users_partner_only(server: Server, people: dict[str, Any]) -> None:
    server.engine.flag(people["b"]["id"], "at_risk")
    page = _session(server, "p-coach").get("/reports").text
    assert "Khon Kaen Secret" not in page
    funnel = page.split('data-report="funnel"')[1].split("</table>")[0]
    idea_now = re.search(r"<td>Idea</td><td>(\d+)</td><td>(\d+)</td>", funnel)
    assert idea_now is not None, funnel
    cmu = [p for p in server.engine.list_projects(partner="cmu") if p.stage == "idea"]
    assert int(idea_now.group(2)) == len(cmu)
    assert 'data-report="coaches"' in page


def test_journeys_list_show_and_another_partners_journey(
        server: Server, people: dict[str, Any]) -> None:
    session = _session(server, "p-coach")
    listing = session.get("/journeys").text
    assert 'href="/journeys/social-incubator"' in listing
    shown = session.get("/journeys/social-incubator")
    assert shown.status_code == 200
    assert "<svg" in shown.text
    assert "stakeholder_map" in shown.text
    assert session.get("/journeys/nosuch").status_code == 404


BROKEN = """journey: play
version: 1
title: {en: Play}
roles: [coach]
stages:
  idea: {initial: true}
  done: {final: true}
transitions:
  - trigger: finish
    from: idea
    to: nowhere
"""


def test_the_playground_shows_problems_at_their_lines_and_a_diagram(
        server: Server, people: dict[str, Any]) -> None:
    session = _session(server, "p-coach")
    page = session.get("/journeys/playground?start=social-incubator").text
    assert "journey: social-incubator" in page
    assert "No problems: social-incubator@3" in page
    broken = session.post("/journeys/playground", {"source": BROKEN}).text
    assert 'data-line="11"' in broken
    assert "nowhere" in broken
    assert "<svg" not in broken
    fixed = session.post("/journeys/playground",
                         {"source": BROKEN.replace("nowhere", "done")}).text
    assert "No problems: play@1" in fixed
    assert "<svg" in fixed
    assert session.post("/journeys/playground", {"source": BROKEN},
                        token=False).status_code == 403
    hostile = BROKEN.replace("title: {en: Play}", 'title: {en: "<script>x</script>"}').replace(
        "nowhere", "done")
    drawn = session.post("/journeys/playground", {"source": hostile}).text
    assert "<script>x" not in drawn


def test_my_work_names_follow_ups_and_actions_in_the_users_language(
        server: Server, people: dict[str, Any]) -> None:
    server.engine.publish("""\
journey: me-due
version: 1
roles: [coach]
stages:
  start:
    initial: true
    follow_ups:
      - {id: soon_check_in, after: 2 days, action: notify, to: [coach],
         message: {en: "Check in.", th: "ติดตามผล"}}
  end: {final: true}
transitions:
  - {trigger: finish, from: start, to: end}
""")
    project = server.engine.create_project("me-due", "Due Soon", partner="cmu")
    server.engine.assign(project.id, "coach", "Malee Coach")
    english = _session(server, "p-coach").get("/me").text
    thai = _session(server, "p-coach", **{"Accept-Language": "th"}).get("/me").text
    due_en = english.split('id="my-due"')[1].split("</section>")[0]
    due_th = thai.split('id="my-due"')[1].split("</section>")[0]
    assert "soon_check_in <small>(notify)</small>" in due_en
    assert "(notify)" not in due_th
    assert "(แจ้งเตือน)" in due_th
