"""The indicators API against a real ``bompao serve`` (SQLite and PostgreSQL):
``GET /api/v1/projects/{id}/indicators``, ``POST /api/v1/projects/{id}/measurements``
(types, periods, owner role, If-Match, partner scope), ``/api/v1/reports/impact`` and
``/api/v1/reports/alumni``.

Expected values come from :mod:`impact_harness`'s calendar arithmetic, not bompao's.
"""

from __future__ import annotations

from typing import Any

import pytest
from impact_harness import JOURNEY, World, seed
from web_harness import PROBLEM, Server, problem_of


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    """cmu's participant (the owner) and coach, khonkaen's participant; the projects."""
    server.add_user("a-team", "Team Member", "participant@cmu")
    server.add_user("a-coach", "Malee Coach", "coach@cmu")
    server.add_user("a-other", "Other Team", "participant@khonkaen")
    server.add_user("a-admin", "Admin", "program_manager")
    return seed(server.url)


def _indicator(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in body["indicators"] if i["name"] == name)


def test_indicators_show_values_corrections_missing_and_due(server: Server,
                                                            world: World) -> None:
    with server.as_user("a-coach") as client:
        answer = client.get(f"/api/v1/projects/{world.main}/indicators")
    assert answer.status_code == 200
    lock = server.engine.get(world.main).lock_version
    assert answer.headers["etag"] == f'"{lock}"'
    body = answer.json()
    assert (body["project"], body["journey"]) == (world.main, f"{JOURNEY}@1")
    assert [i["name"] for i in body["indicators"]] == ["reached", "share", "operating"]
    reached = _indicator(body, "reached")
    assert {v["period"]: v["value"] for v in reached["values"]} == world.values
    assert {v["period"]: v["corrected"] for v in reached["values"] if v["corrected"]} == \
        world.corrected
    assert reached["missing_periods"] == world.missing
    assert (reached["total"], reached["missing"], reached["target"]) == (52, 2, 100)
    assert reached["progress"] == pytest.approx(0.52)
    assert (reached["current_period"], reached["due_now"]) == (world.current, world.current)
    assert reached["title"] == {"en": "People reached", "th": "จำนวนผู้ได้รับประโยชน์"}
    assert reached["can_record"] is False  # a coach does not hold the owner role
    assert _indicator(body, "operating")["due_now"] is None  # due in done only


def test_the_owner_records_values_and_a_correction(server: Server, world: World) -> None:
    with server.as_user("a-team") as client:
        etag = client.get(f"/api/v1/projects/{world.main}/indicators").headers["etag"]
        answer = client.post(f"/api/v1/projects/{world.main}/measurements",
                             json={"indicator": "reached", "period": world.missing[0],
                                   "value": 9, "note": "late"}, headers={"If-Match": etag})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert (body["indicator"], body["period"], body["value"], body["note"], body["by"]) \
            == ("reached", world.missing[0], 9, "late", "Team Member")
        assert answer.headers["etag"] == f'"{body["lock_version"]}"'
        assert int(etag.strip('"')) + 1 == body["lock_version"]
        # text as the CLI takes it, and the current period by default
        assert client.post(f"/api/v1/projects/{world.main}/measurements",
                           json={"indicator": "share", "value": "45%"}).status_code == 201
        corrected = client.post(f"/api/v1/projects/{world.main}/measurements",
                                json={"indicator": "reached", "period": world.missing[0],
                                      "value": 11})
        assert corrected.status_code == 201
        after = client.get(f"/api/v1/projects/{world.main}/indicators").json()
    reached = _indicator(after, "reached")
    value = next(v for v in reached["values"] if v["period"] == world.missing[0])
    assert (value["value"], value["corrected"]) == (11, [9])
    assert reached["missing_periods"] == world.missing[1:]
    assert reached["total"] == 52 + 11
    share = _indicator(after, "share")
    assert share["values"][-1]["value"] == 45.0


def test_a_stale_if_match_is_412_and_writes_nothing(server: Server, world: World) -> None:
    before = server.engine.get(world.main).lock_version
    with server.as_user("a-team") as client:
        answer = client.post(f"/api/v1/projects/{world.main}/measurements",
                             json={"indicator": "reached", "value": 1},
                             headers={"If-Match": f'"{before - 1}"'})
    assert answer.status_code == 412
    assert answer.headers["content-type"] == PROBLEM
    assert server.engine.get(world.main).lock_version == before


@pytest.mark.parametrize(("body", "says"), [
    ({"indicator": "reached", "value": "many"}, "'many'"),
    ({"indicator": "reached", "value": 4.5}, "reached"),
    ({"indicator": "reached", "value": True}, "reached"),
    ({"indicator": "share", "value": 120}, "share"),
    ({"indicator": "reached", "value": 5, "period": "2999-01"}, "2999-01"),
    ({"indicator": "reached", "value": 5, "period": "2026-Q1"}, "2026-Q1"),
    ({"indicator": "nope", "value": 1}, "nope"),
])
def test_refusals_are_problem_documents_in_the_callers_language(
        server: Server, world: World, body: dict[str, Any], says: str) -> None:
    before = server.engine.get(world.main).lock_version
    with server.as_user("a-team") as client:
        english = client.post(f"/api/v1/projects/{world.main}/measurements", json=body)
        thai = client.post(f"/api/v1/projects/{world.main}/measurements", json=body,
                           headers={"Accept-Language": "th"})
    assert english.status_code == thai.status_code == 422
    assert says in problem_of(english)
    assert says in problem_of(thai)
    assert any("\u0e00" <= c <= "\u0e7f" for c in problem_of(thai)), problem_of(thai)
    assert server.engine.get(world.main).lock_version == before


def test_an_unknown_body_key_is_422(server: Server, world: World) -> None:
    with server.as_user("a-team") as client:
        answer = client.post(f"/api/v1/projects/{world.main}/measurements",
                             json={"indicator": "reached", "value": 1, "extra": 1})
    assert answer.status_code == 422
    assert "extra" in problem_of(answer)


def test_a_coach_is_refused_with_403(server: Server, world: World) -> None:
    before = server.engine.get(world.main).lock_version
    with server.as_user("a-coach") as client:
        answer = client.post(f"/api/v1/projects/{world.main}/measurements",
                             json={"indicator": "reached", "value": 3})
    assert answer.status_code == 403
    assert "participant" in problem_of(answer)
    assert server.engine.get(world.main).lock_version == before


def test_another_partners_project_is_404(server: Server, world: World) -> None:
    with server.as_user("a-other") as client:
        for answer in (client.get(f"/api/v1/projects/{world.main}/indicators"),
                       client.post(f"/api/v1/projects/{world.main}/measurements",
                                   json={"indicator": "reached", "value": 3}),
                       client.post(f"/api/v1/projects/{world.main}/measurements",
                                   json={"indicator": "reached", "value": 3},
                                   headers={"If-Match": '"1"'})):
            assert answer.status_code == 404
            assert "Rice Bank" not in answer.text
        own = client.get(f"/api/v1/projects/{world.other}/indicators")
        assert own.status_code == 200
        assert _indicator(own.json(), "reached")["values"][0]["value"] == 999
        assert _indicator(own.json(), "reached")["can_record"] is True


def test_the_impact_and_alumni_reports_count_the_users_partner_only(
        server: Server, world: World) -> None:
    with server.as_user("a-coach") as client:
        impact = client.get(f"/api/v1/reports/impact?journey={JOURNEY}")
        alumni = client.get(f"/api/v1/reports/alumni?journey={JOURNEY}")
        refused = client.get(f"/api/v1/reports/alumni?journey={JOURNEY}&partner=khonkaen")
    assert impact.status_code == alumni.status_code == 200
    assert impact.json()["partner"] == "cmu"
    assert 999 not in [p["indicators"]["reached"]["total"] for p in impact.json()["projects"]]
    assert {p["id"] for p in impact.json()["projects"]} == {world.main, world.alumni}
    body = alumni.json()
    assert (body["journey"], body["partner"], body["check_ins"]) == (JOURNEY, "cmu",
                                                                     ["6 months"])
    assert body["cohorts"] == {"2025": {"6 months": {"due": 1, "reported": 1,
                                                     "operating": 1, "share": 1.0}}}
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    with server.as_user("a-other") as other:
        theirs = other.get(f"/api/v1/reports/alumni?journey={JOURNEY}").json()
    assert theirs["cohorts"] == {}
    with server.as_user("a-admin") as admin:
        everyone = admin.get(f"/api/v1/reports/alumni?journey={JOURNEY}&partner=cmu").json()
    assert everyone["cohorts"] == body["cohorts"]


def test_the_openapi_document_lists_the_new_routes(server: Server) -> None:
    with server.client() as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/projects/{project_id}/measurements"]
    assert "get" in paths["/api/v1/projects/{project_id}/indicators"]
    assert "get" in paths["/api/v1/reports/alumni"]
