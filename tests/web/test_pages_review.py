"""The review form on the project page: an assigned reviewer scores on the rubric;
everyone else sees no form and is refused; bad scores are refused with nothing written."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from web_harness import Server, new_project, sign_in_session

SERVE_WEB = {"secure_cookies": "false"}


@pytest.fixture(scope="module")
def review(server: Server) -> dict[str, Any]:
    """cmu's project in the call (social-incubator@3, stage idea) with one assigned
    reviewer, an unassigned committee member, and khonkaen's manager."""
    server.add_user("r-rev", "Rev Reviewer", "committee")
    server.add_user("r-idle", "Idle Member", "committee")
    server.add_user("r-manager", "Ploy Manager", "program_manager@cmu")
    server.add_user("r-other", "Other Manager", "program_manager@khonkaen", "committee@khonkaen")
    with server.as_user("r-manager") as client:
        project = new_project(client, "Water <b>for</b> Ban Mae", partner="cmu")
    server.engine.assign(project["id"], "committee", "Rev Reviewer")
    return project


def _scored(server: Server, project_id: int) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in server.engine.history(project_id) if e.kind == "scored"]


def _rubric(server: Server) -> dict[str, Any]:
    spec = server.engine.journey("social-incubator").doc.scoring
    assert spec is not None
    return dict(spec.rubric)


def _error(page: str) -> str:
    found = re.search(r'<p class="error" role="alert" id="error">(.*?)</p>', page, re.S)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1))


def test_an_assigned_reviewer_scores_on_the_rubric(server: Server,
                                                   review: dict[str, Any]) -> None:
    rubric = _rubric(server)
    session = sign_in_session(server, "r-rev")
    page = session.get(f"/projects/{review['id']}").text
    assert "<section id=\"review\">" in page, server.log.read_text()[-3000:]
    form = page.split("<section id=\"review\">")[1].split("</section>")[0]
    assert re.findall(r'name="score\.([a-z_]+)"', form) == list(rubric)
    for name, criterion in rubric.items():  # every value of its scale, nothing more
        options = form.split(f'name="score.{name}"')[1].split("</select>")[0]
        assert re.findall(r'<option value="(\d+)"', options) == [
            str(v) for v in range(criterion.scale.low, criterion.scale.high + 1)]
    sent = {f"score.{name}": str(criterion.scale.high - i % 2)
            for i, (name, criterion) in enumerate(rubric.items())}
    answer = session.post(f"/projects/{review['id']}/scores", {**sent, "note": "clear <i>"})
    assert answer.status_code == 303, answer.text[:500]
    [first] = _scored(server, review["id"])
    assert first["reviewer"] == "Rev Reviewer"
    assert first["scores"] == {k.removeprefix("score."): int(v) for k, v in sent.items()}
    assert first["note"] == "clear <i>"
    shown = session.get(f"/projects/{review['id']}").text
    assert "Your scores are recorded" in shown
    assert "clear &lt;i&gt;" in shown
    name = next(iter(rubric))
    assert re.search(rf'name="score\.{name}".*?<option value="{sent["score." + name]}" '
                     r"selected>", shown, re.S)
    # scoring again replaces the set (both stay in the history)
    again = {**sent, f"score.{name}": "1"}
    assert session.post(f"/projects/{review['id']}/scores", again).status_code == 303
    assert [s["scores"][name] for s in _scored(server, review["id"])] == [
        int(sent["score." + name]), 1]
    thai = sign_in_session(server, "r-rev", **{"Accept-Language": "th"})
    assert "การให้คะแนนของคุณ" in thai.get(f"/projects/{review['id']}").text


def test_bad_scores_are_refused_and_nothing_is_written(server: Server,
                                                       review: dict[str, Any]) -> None:
    rubric = _rubric(server)
    session = sign_in_session(server, "r-rev")
    before = len(_scored(server, review["id"]))
    full = {f"score.{name}": str(c.scale.low) for name, c in rubric.items()}
    first = next(iter(rubric))
    off = session.post(f"/projects/{review['id']}/scores", {**full, f"score.{first}": "9"})
    assert off.status_code == 422
    assert _error(off.text) == (f"score '9' for {first!r} is off its scale; give a whole "
                                f"number in {rubric[first].scale}")
    missing = session.post(f"/projects/{review['id']}/scores",
                           {k: v for k, v in full.items() if k != f"score.{first}"})
    assert missing.status_code == 422
    assert first in _error(missing.text)
    forged = session.post(f"/projects/{review['id']}/scores", full, token=False)
    assert forged.status_code == 403
    assert len(_scored(server, review["id"])) == before


def test_nobody_else_may_score(server: Server, review: dict[str, Any]) -> None:
    rubric = _rubric(server)
    full = {f"score.{name}": str(c.scale.low) for name, c in rubric.items()}
    before = len(_scored(server, review["id"]))
    idle = sign_in_session(server, "r-idle")
    page = idle.get(f"/projects/{review['id']}").text
    assert '<section id="review">' not in page  # not assigned: no form
    refused = idle.post(f"/projects/{review['id']}/scores", full)
    assert refused.status_code == 403
    assert "Idle Member" in _error(refused.text)
    manager = sign_in_session(server, "r-manager")
    assert '<section id="review">' not in manager.get(f"/projects/{review['id']}").text
    assert manager.post(f"/projects/{review['id']}/scores", full).status_code == 403
    other = sign_in_session(server, "r-other")  # another partner: the project is not there
    assert other.post(f"/projects/{review['id']}/scores", full).status_code == 404
    assert len(_scored(server, review["id"])) == before
