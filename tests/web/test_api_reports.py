"""Reports, follow-ups and assignments through the API against a real ``bompao serve``:
the same JSON as the CLI's ``report NAME --json`` for the same partner, and another
partner's projects never counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from web_harness import Server, new_project, problem_of

REPORTS = ("funnel", "stages", "at-risk", "coaches", "impact")
A_PROJECTS, B_PROJECTS = 3, 5


@pytest.fixture(scope="module")
def portfolio(server: Server) -> dict[str, Any]:
    """cmu with 3 projects (one flagged at risk, coaches assigned), khonkaen with 5 (two
    flagged, another coach), a program manager of every partner."""
    server.add_user("a-lead", "A Lead", "coach@cmu", "program_manager@cmu")
    server.add_user("b-lead", "B Lead", "coach@khonkaen", "program_manager@khonkaen")
    server.add_user("all", "All Partners", "program_manager")
    made: dict[str, list[int]] = {"a": [], "b": []}
    for side, user, count, coach in (("a", "a-lead", A_PROJECTS, "Somchai"),
                                     ("b", "b-lead", B_PROJECTS, "Boonmee")):
        with server.as_user(user) as client:
            for n in range(count):
                project = new_project(client, f"{side} {n}", cohort="2027")
                made[side].append(project["id"])
                answer = client.post(f"/api/v1/projects/{project['id']}/assignments",
                                     json={"role": "coach", "person": coach})
                assert answer.status_code == 200, answer.text
    server.engine.flag(made["a"][0], "at_risk")
    for project_id in made["b"][:2]:
        server.engine.flag(project_id, "at_risk")
    return made


def _cli_json(server: Server, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "BOMPAO_PARTNER"}
    done = subprocess.run([sys.executable, "-m", "bompao.cli", "--db", server.url, *args],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", REPORTS)
def test_a_report_is_the_clis_json_for_the_users_partner(
        server: Server, portfolio: dict[str, Any], name: str) -> None:
    with server.as_user("a-lead") as client:
        answer = client.get(f"/api/v1/reports/{name}",
                            params={"journey": "social-incubator"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == _cli_json(server, "--partner", "cmu", "--json", "report", name,
                                      "--journey", "social-incubator")


def _funnel_idea(rows: list[dict[str, Any]]) -> tuple[int, int]:
    [idea] = [r for r in rows if r["stage"] == "idea"]
    return idea["reached"], idea["now"]


def test_another_partners_projects_are_never_counted(
        server: Server, portfolio: dict[str, Any]) -> None:
    with server.as_user("a-lead") as a, server.as_user("b-lead") as b, \
            server.as_user("all") as everyone:
        assert _funnel_idea(a.get("/api/v1/reports/funnel").json()) == (A_PROJECTS,) * 2
        assert _funnel_idea(b.get("/api/v1/reports/funnel").json()) == (B_PROJECTS,) * 2
        both = A_PROJECTS + B_PROJECTS
        assert _funnel_idea(everyone.get("/api/v1/reports/funnel").json()) == (both, both)
        narrowed = everyone.get("/api/v1/reports/funnel", params={"partner": "khonkaen"})
        assert _funnel_idea(narrowed.json()) == (B_PROJECTS,) * 2
        assert {r["id"] for r in a.get("/api/v1/reports/at-risk").json()} == {
            portfolio["a"][0]}
        assert {r["id"] for r in b.get("/api/v1/reports/at-risk").json()} == set(
            portfolio["b"][:2])
        assert a.get("/api/v1/reports/coaches").json() == [
            {"person": "Somchai", "role": "coach", "projects": A_PROJECTS,
             "due_follow_ups": 0}]
        impact = a.get("/api/v1/reports/impact").json()
        assert impact["partner"] == "cmu"
        # every project is cmu's and listed; none has yet been where an indicator is due
        assert len(impact["projects"]) == A_PROJECTS
        assert {row["projects"] for row in impact["indicators"].values()} == {0}
        smuggled = a.get("/api/v1/reports/funnel", params={"partner": "khonkaen"})
        unknown = a.get("/api/v1/reports/velocity")
    assert smuggled.status_code == 403
    assert problem_of(smuggled) == ("'A Lead' acts for partner 'cmu' and cannot see partner "
                                    "'khonkaen''s projects")
    assert unknown.status_code == 422
    assert "funnel" in problem_of(unknown)


def test_a_bad_time_filter_is_422_with_the_clis_message(
        server: Server, portfolio: dict[str, Any]) -> None:
    with server.as_user("a-lead") as client:
        answer = client.get("/api/v1/reports/stages", params={"since": "last tuesday"})
    assert answer.status_code == 422
    assert "last tuesday" in problem_of(answer)


def test_follow_ups_list_only_the_users_partners(
        server: Server, portfolio: dict[str, Any]) -> None:
    with server.as_user("a-lead") as client:
        listed = client.get("/api/v1/followups").json()
        one = client.get("/api/v1/followups", params={"project": portfolio["a"][1]}).json()
        due = client.get("/api/v1/followups", params={"due": "true"}).json()
        other = client.get("/api/v1/followups", params={"project": portfolio["b"][0]})
        bad = client.get("/api/v1/followups", params={"status": "maybe"})
    assert {f["project"] for f in listed} == set(portfolio["a"])
    assert {f["spec"] for f in listed} == {"idea_check_in"}
    assert [f["project"] for f in one] == [portfolio["a"][1]]
    assert due == []  # the first check-in is 14 days away
    assert other.status_code == 404
    assert problem_of(other) == f"no project with id {portfolio['b'][0]}"
    assert bad.status_code == 422
    assert "maybe" in problem_of(bad)


def test_assigning_records_the_user_and_respects_if_match(
        server: Server, portfolio: dict[str, Any]) -> None:
    with server.as_user("a-lead") as client:
        project = new_project(client, "Assigned")
        url = f"/api/v1/projects/{project['id']}"
        stale = client.post(f"{url}/assignments", json={"role": "coach", "person": "X"},
                            headers={"If-Match": '"0"'})
        done = client.post(f"{url}/assignments", json={"role": "committee",
                                                       "person": "Kanya"},
                           headers={"If-Match": '"1"'})
        unknown_role = client.post(f"{url}/assignments", json={"role": "wizard",
                                                               "person": "Merlin"})
        history = client.get(f"{url}/history").json()
    assert stale.status_code == 412
    assert (done.status_code, done.headers["etag"]) == (200, '"2"')
    assert done.json()["assignments"] == {"committee": ["Kanya"]}
    assert unknown_role.status_code == 422
    assert "wizard" in problem_of(unknown_role)
    assert [(e["kind"], e["actor"], e["role"]) for e in history][-1] == (
        "assigned", "A Lead", "committee")
