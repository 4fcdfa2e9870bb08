"""The JSON API against a real ``bompao serve``: every operation, its status codes, the
project's ETag and If-Match, cursor pages, the change feed, problem documents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from web_harness import PROBLEM, Server, new_project, problem_of

from bompao.storage.tables import SCHEMA_VERSION


@pytest.fixture(scope="module")
def team(server: Server) -> Server:
    """cmu's coach and committee member, a program manager of every partner."""
    server.add_user("somchai", "Somchai Coach", "coach@cmu")
    server.add_user("kanya", "Kanya Committee", "committee@cmu")
    server.add_user("pm", "Pranee Manager", "program_manager", "coach")
    return server


def test_healthz_answers_with_the_databases_state(server: Server) -> None:
    with server.client() as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["database"], body["schema_version"]) == (
        "ok", "current", SCHEMA_VERSION)
    assert body["dialect"] == server.url.split(":")[0].split("+")[0]


def test_the_openapi_document_lists_every_api_route(server: Server) -> None:
    with server.client() as client:
        document = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/projects", "/api/v1/projects/{project_id}",
            "/api/v1/projects/{project_id}/fields", "/api/v1/projects/{project_id}/evidence",
            "/api/v1/projects/{project_id}/approvals", "/api/v1/projects/{project_id}/advance",
            "/api/v1/projects/{project_id}/check/{trigger}",
            "/api/v1/projects/{project_id}/history", "/api/v1/projects/{project_id}/followups",
            "/api/v1/events", "/api/v1/journeys", "/api/v1/events/stream",
            "/api/v1/reports/{name}", "/api/v1/followups",
            "/api/v1/projects/{project_id}/assignments"} <= set(document["paths"])
    assert document["paths"]["/api/v1/reports/{name}"]["get"]["parameters"][0]["schema"][
        "enum"] == ["funnel", "stages", "at-risk", "coaches", "impact"]
    assert set(document["paths"]["/api/v1/projects/{project_id}/fields"]) == {"patch"}


def test_create_answers_201_with_location_and_etag_and_get_repeats_it(team: Server) -> None:
    with team.as_user("somchai") as client:
        created = client.post("/api/v1/projects", json={
            "journey": "social-incubator", "name": "Clean river", "cohort": "2027",
            "fields": {"interviews_done": 3}})
        assert created.status_code == 201, created.text
        body = created.json()
        assert created.headers["location"] == f"/api/v1/projects/{body['id']}"
        assert created.headers["etag"] == '"1"'
        assert (body["partner"], body["stage"], body["fields"]["interviews_done"]) == (
            "cmu", "idea", 3)
        again = client.get(created.headers["location"])
    assert again.status_code == 200
    assert again.headers["etag"] == '"1"'
    assert again.json() == body


def test_if_match_guards_changes_and_a_stale_etag_is_412(team: Server) -> None:
    with team.as_user("somchai") as client:
        project = new_project(client, "Guarded")
        url = f"/api/v1/projects/{project['id']}"
        first = client.patch(f"{url}/fields", json={"interviews_done": 4},
                             headers={"If-Match": '"1"'})
        assert first.status_code == 200, first.text
        assert first.headers["etag"] == '"2"'
        stale = client.patch(f"{url}/fields", json={"interviews_done": 5},
                             headers={"If-Match": '"1"'})
        assert stale.status_code == 412
        assert problem_of(stale) == (f"project {project['id']} has changed: it is at version "
                                     "2, not 1 (the ETag or expected version given); "
                                     "nothing was written: read it again and retry")
        assert client.get(url).json()["fields"]["interviews_done"] == 4
        stale_evidence = client.post(f"{url}/evidence", json={"name": "stakeholder_map",
                                                              "note": "x"},
                                     headers={"If-Match": '"1"'})
        assert stale_evidence.status_code == 412
        assert client.get(url).json()["evidence"] == {}


def test_a_bad_field_is_422_with_the_clis_message(team: Server) -> None:
    with team.as_user("somchai") as client:
        project = new_project(client, "Typed")
        answer = client.patch(f"/api/v1/projects/{project['id']}/fields",
                              json={"interviews_done": "many"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert "interviews_done" in problem_of(answer)
    assert answer.json()["status"] == 422


def test_gate_check_approve_as_oneself_and_advance(team: Server) -> None:
    with team.as_user("somchai") as coach:
        project = new_project(coach, "Gated")
        url = f"/api/v1/projects/{project['id']}"
        report = coach.get(f"{url}/check/validate").json()
        assert (report["passable"], [c["met"] for c in report["criteria"]]) == (
            False, [False, False, False])
        refused = coach.post(f"{url}/advance", json={"trigger": "validate"})
        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM
        assert [c["met"] for c in refused.json()["report"]["criteria"]] == [False, False, False]
        coach.patch(f"{url}/fields", json={"problem_statement": "Plastic in the Ping river"})
        coach.post(f"{url}/evidence", json={"name": "stakeholder_map",
                                            "url": "https://example.org/map"})
        approved = coach.post(f"{url}/approvals", json={"role": "coach"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["approvals"] == {"coach": 1}
        assert coach.get(f"{url}/check").json()[0]["passable"] is True
        moved = coach.post(f"{url}/advance", json={"trigger": "validate"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["stage"] == "validation"
        history = coach.get(f"{url}/history").json()
    approvals = [e for e in history if e["kind"] == "approved"]
    assert [(e["actor"], e["role"]) for e in approvals] == [("Somchai Coach", "coach")]
    assert (history[-1]["kind"], history[-1]["actor"], history[-1]["to"]) == (
        "advanced", "Somchai Coach", "validation")


def test_approving_in_a_role_one_does_not_hold_is_403(team: Server) -> None:
    with team.as_user("somchai") as coach:
        project = new_project(coach, "Committee only")
        answer = coach.post(f"/api/v1/projects/{project['id']}/approvals",
                            json={"role": "committee"})
        assert answer.status_code == 403
        assert problem_of(answer) == ("'Somchai Coach' does not hold the role 'committee' and "
                                      "cannot approve as it; 'Somchai Coach' holds: coach")
        assert coach.get(f"/api/v1/projects/{project['id']}").json()["approvals"] == {}


def test_a_transition_for_another_role_is_403(team: Server) -> None:
    with team.as_user("somchai") as coach:
        project = new_project(coach, "Not mine to withdraw")
        answer = coach.post(f"/api/v1/projects/{project['id']}/advance",
                            json={"trigger": "withdraw"})
    assert answer.status_code == 403
    with team.as_user("pm") as manager:
        moved = manager.post(f"/api/v1/projects/{project['id']}/advance",
                             json={"trigger": "withdraw"})
    assert (moved.status_code, moved.json()["stage"]) == (200, "withdrawn")


def test_an_override_needs_a_reason_and_an_allowed_role(team: Server) -> None:
    with team.as_user("pm") as manager:
        project = new_project(manager, "Overridden", partner="cmu")
        url = f"/api/v1/projects/{project['id']}"
        no_reason = manager.post(f"{url}/advance", json={"trigger": "validate",
                                                         "override": True})
        assert no_reason.status_code == 422
        assert problem_of(no_reason) == "an override needs a reason (--reason TEXT)"
        assert manager.get(url).json()["stage"] == "idea"


def test_an_unknown_trigger_is_404_and_one_the_stage_does_not_offer_is_409(
        team: Server) -> None:
    with team.as_user("somchai") as coach:
        project = new_project(coach, "Triggers")
        url = f"/api/v1/projects/{project['id']}"
        unknown = coach.post(f"{url}/advance", json={"trigger": "fly"})
        elsewhere = coach.post(f"{url}/advance", json={"trigger": "present"})
    assert unknown.status_code == 404
    assert elsewhere.status_code == 409
    assert "'idea'" in problem_of(elsewhere)


def test_follow_ups_of_a_project(team: Server) -> None:
    with team.as_user("somchai") as coach:
        project = new_project(coach, "Followed")
        found = coach.get(f"/api/v1/projects/{project['id']}/followups").json()
    assert found, "the idea stage plans follow-ups"
    assert {f["project"] for f in found} == {project["id"]}
    assert {f["status"] for f in found} == {"pending"}


def _all_pages(client: httpx.Client, **filters: Any) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = 0
    while True:
        page = client.get("/api/v1/projects", params={**filters, "cursor": cursor}).json()
        pages.append([p["id"] for p in page["items"]])
        if page["next"] is None:
            return pages
        cursor = page["next"]


def test_cursor_pages_cover_every_project_once_with_filters(team: Server) -> None:
    with team.as_user("kanya") as client:
        ids = [new_project(client, f"Paged {i}", cohort="paged")["id"] for i in range(5)]
        pages = _all_pages(client, cohort="paged", limit=2)
        assert pages == [ids[:2], ids[2:4], ids[4:]]
        assert _all_pages(client, cohort="paged", stage="validation") == [[]]
        too_big = client.get("/api/v1/projects", params={"limit": 100000})
    assert too_big.status_code == 422
    assert too_big.headers["content-type"] == PROBLEM


def test_the_change_feed_gives_events_after_an_id(team: Server) -> None:
    with team.as_user("kanya") as client:
        start = client.get("/api/v1/events", params={"limit": 500})
        cursor = start.json()["next"]
        while True:
            page = client.get("/api/v1/events", params={"after": cursor, "limit": 500}).json()
            if not page["items"]:
                break
            cursor = page["next"]
        project = new_project(client, "Fed")
        client.patch(f"/api/v1/projects/{project['id']}/fields", json={"interviews_done": 2})
        fresh = client.get("/api/v1/events", params={"after": cursor}).json()
        nothing = client.get("/api/v1/events", params={"after": fresh["next"]}).json()
    assert [(e["project"], e["seq"], e["kind"]) for e in fresh["items"]] == [
        (project["id"], 1, "created"), (project["id"], 2, "fields_set")]
    assert fresh["next"] == fresh["items"][-1]["id"]
    assert nothing == {"items": [], "next": fresh["next"]}


def test_a_script_in_a_name_comes_back_as_plain_json(team: Server) -> None:
    name = '<script>alert("x")</script>&amp;'
    with team.as_user("somchai") as client:
        project = new_project(client, name)
        answer = client.get(f"/api/v1/projects/{project['id']}")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["name"] == name
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_journeys_are_listed_and_shown(team: Server) -> None:
    with team.as_user("somchai") as client:
        listed = client.get("/api/v1/journeys").json()
        shown = client.get("/api/v1/journeys/social-incubator").json()
        missing = client.get("/api/v1/journeys/nope")
    assert "social-incubator" in {j["journey"] for j in listed}
    assert shown["initial"] == "idea"
    assert "validate" in shown["stages"]["idea"]["triggers"]
    assert missing.status_code == 404
