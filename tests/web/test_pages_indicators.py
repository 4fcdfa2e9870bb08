"""The project page's indicators and measurement form, and the impact, alumni and chart
views of ``/reports``, against a real ``bompao serve`` (SQLite and PostgreSQL).

The expected values, corrections and missing periods come from the clock the projects
were written on (:mod:`impact_harness`), by calendar arithmetic, not bompao's code.
"""

from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from impact_harness import JOURNEY, World, seed
from web_harness import Pages, Server, Session, sign_in_session

SERVE_WEB = {"secure_cookies": "false"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""The pages' policy as docs/web.md states it: charts must not loosen it."""
THAI = re.compile(r"[\u0e00-\u0e7f]")


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    """cmu's participant (the indicators' owner), coach and manager; khonkaen's
    participant; the seeded projects."""
    server.add_user("i-team", "Team Member", "participant@cmu")
    server.add_user("i-coach", "Malee Coach", "coach@cmu")
    server.add_user("i-manager", "Ploy Manager", "program_manager@cmu")
    server.add_user("i-other", "Other Team", "participant@khonkaen", "coach@khonkaen")
    return seed(server.url)


def _th(server: Server, username: str) -> Session:
    return sign_in_session(server, username, **{"Accept-Language": "th"})


def _en(server: Server, username: str) -> Session:
    return sign_in_session(server, username, **{"Accept-Language": "en"})


def _article(page: str, name: str) -> str:
    found = re.search(rf'<article class="indicator" id="indicator-{name}".*?</article>', page,
                      re.S)
    assert found is not None, page[:2000]
    return found.group(0)


def _measured(server: Server, project_id: int) -> list[tuple[str, Any]]:
    return [(e.payload["period"], e.payload["value"]) for e in server.engine.history(project_id)
            if e.kind == "measured"]


def test_the_page_shows_each_indicator_with_values_corrections_and_missing_periods(
        server: Server, world: World) -> None:
    page = _en(server, "i-manager").get(f"/projects/{world.main}")
    assert page.status_code == 200
    reached = _article(page.text, "reached")
    assert "People reached" in reached
    assert "(people)" in reached
    assert re.search(r"data-baseline>0<", reached)
    assert re.search(r"data-target>100<", reached)
    assert re.search(r"data-total>52<", reached)  # 40 + 12 (the correction counts)
    assert "52%" in reached
    rows = dict(re.findall(r'<tr data-period="([^"]+)"><td>[^<]*</td><td class="num" '
                           r"data-value>(\d+)", reached))
    assert rows == {period: str(value) for period, value in world.values.items()}
    assert f"corrected from {world.corrected[world.months[1]][0]}" in reached
    missing = re.search(r'data-missing="([^"]*)"', reached)
    assert missing is not None
    assert missing.group(1).split() == world.missing
    assert f'data-due="{world.current}"' in reached
    # every declared indicator, in the journey's order
    assert re.findall(r'id="indicator-(\w+)"', page.text) == ["reached", "share", "operating"]
    # the manager does not hold the owner role: no form
    assert 'id="measure-form"' not in page.text

    thai = _th(server, "i-manager").get(f"/projects/{world.main}").text
    reached_th = _article(thai, "reached")
    assert "จำนวนผู้ได้รับประโยชน์" in reached_th
    assert "(คน)" in reached_th
    assert "People reached" not in thai
    assert f"แก้ไขจาก {world.corrected[world.months[1]][0]}" in reached_th
    assert "งวดที่ยังไม่รายงาน: " + ", ".join(world.missing) in reached_th


def test_notes_and_values_with_html_are_shown_as_text(server: Server, world: World) -> None:
    page = _en(server, "i-team").get(f"/projects/{world.main}").text
    assert "<script>alert(1)</script>" not in page
    assert html.escape("<script>alert(1)</script>") in page
    assert "<b>bold</b>" not in page
    refused = _en(server, "i-team").post(f"/projects/{world.main}/measurements",
                                         {"indicator": "reached",
                                          "value": "<script>x()</script>"})
    assert refused.status_code == 422
    assert "<script>x()</script>" not in refused.text
    assert html.escape("<script>x()</script>") in refused.text


def test_the_owner_records_a_measurement_and_the_page_shows_it(
        server: Server, world: World) -> None:
    session = _en(server, "i-team")
    page = session.get(f"/projects/{world.main}").text
    assert 'id="measure-form"' in page
    period = world.missing[0]
    answer = session.post(f"/projects/{world.main}/measurements",
                          {"indicator": "reached", "period": period, "value": "7",
                           "note": "late report"})
    assert (answer.status_code, answer.headers["location"]) == (
        303, f"/projects/{world.main}#indicators")
    assert _measured(server, world.main)[-1] == (period, 7)
    reached = _article(session.get(f"/projects/{world.main}").text, "reached")
    assert re.search(rf'<tr data-period="{period}"><td>{period}</td><td class="num" '
                     r"data-value>7<", reached)
    missing = re.search(r'data-missing="([^"]*)"', reached)
    assert missing is not None
    assert missing.group(1).split() == world.missing[1:]
    assert re.search(r"data-total>59<", reached)
    history = session.get(f"/projects/{world.main}").text
    assert f"People reached = 7 for {period}" in history


@pytest.mark.parametrize(("form", "says_en", "says_th"), [
    ({"indicator": "reached", "value": "many"}, "'many'", "'many'"),
    ({"indicator": "reached", "value": "4.5"}, "'4.5'", "'4.5'"),
    ({"indicator": "reached", "value": "5", "period": "2999-01"}, "2999-01", "2999-01"),
    ({"indicator": "reached", "value": "5", "period": "2026-Q1"}, "2026-Q1", "2026-Q1"),
    ({"indicator": "share", "value": "120"}, "share", "share"),
    ({"indicator": "nope", "value": "1"}, "nope", "nope"),
])
def test_refusals_show_next_to_the_form_in_the_users_language_and_write_nothing(
        server: Server, world: World, form: dict[str, str], says_en: str,
        says_th: str) -> None:
    before = server.engine.get(world.main).lock_version
    for session, says in ((_en(server, "i-team"), says_en), (_th(server, "i-team"), says_th)):
        answer = session.post(f"/projects/{world.main}/measurements", form)
        assert answer.status_code == 422, answer.text[:500]
        error = re.search(r'<form [^>]*id="measure-form".*?<p class="error" role="alert" '
                          r'id="measure-error">(.*?)</p>', answer.text, re.S)
        assert error is not None, answer.text[:3000]
        assert says in html.unescape(error.group(1))
        # what was sent stays in the form
        assert f'value="{html.escape(form["value"])}"' in answer.text
        if session.client.headers.get("accept-language") == "th":
            assert THAI.search(error.group(1)), error.group(1)
        assert 'id="error"' not in answer.text  # next to the form, not on top
    assert server.engine.get(world.main).lock_version == before


def test_a_coach_without_the_owner_role_sees_no_form_and_is_refused(
        server: Server, world: World) -> None:
    session = _en(server, "i-coach")
    page = session.get(f"/projects/{world.main}")
    assert page.status_code == 200
    assert 'id="measure-form"' not in page.text
    assert 'action="/projects/' + str(world.main) + '/measurements"' not in page.text
    before = server.engine.get(world.main).lock_version
    answer = session.post(f"/projects/{world.main}/measurements",
                          {"indicator": "reached", "value": "3"})
    assert answer.status_code == 403
    assert "participant" in answer.text
    assert server.engine.get(world.main).lock_version == before


def test_the_measurement_form_needs_the_csrf_token(server: Server, world: World) -> None:
    before = server.engine.get(world.main).lock_version
    answer = _en(server, "i-team").post(f"/projects/{world.main}/measurements",
                                        {"indicator": "reached", "value": "3"}, token=False)
    assert answer.status_code == 403
    assert server.engine.get(world.main).lock_version == before


def test_another_partners_project_is_404_on_every_new_route(
        server: Server, world: World) -> None:
    session = _en(server, "i-other")
    page = session.get(f"/projects/{world.main}")
    assert page.status_code == 404
    posted = session.post(f"/projects/{world.main}/measurements",
                          {"indicator": "reached", "value": "3"})
    assert posted.status_code == 404
    assert "Rice Bank" not in posted.text
    with server.as_user("i-other") as api:
        assert api.get(f"/api/v1/projects/{world.main}/indicators").status_code == 404
        assert api.post(f"/api/v1/projects/{world.main}/measurements",
                        json={"indicator": "reached", "value": 3}).status_code == 404
    assert _measured(server, world.main)[-1][1] != 3
    # charts and reports count the user's partner only, whatever the filter says
    mine = _en(server, "i-team")
    reports = mine.get("/reports?partner=khonkaen").text
    assert "Khon Kaen Secret" not in reports
    assert "999" not in reports
    other = session.get(f"/reports/charts/impact.svg?journey={JOURNEY}")
    asked = session.get(f"/reports/charts/impact.svg?journey={JOURNEY}&partner=cmu")
    assert other.status_code == asked.status_code == 200
    assert other.content == asked.content  # khonkaen's own figures either way


def test_reports_show_impact_alumni_and_charts_as_images_under_the_same_policy(
        server: Server, world: World) -> None:
    page = _th(server, "i-manager").get(f"/reports?journey={JOURNEY}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert " style=" not in page.text
    assert "<style" not in page.text
    assert '<table data-report="impact">' in page.text
    impact = re.search(r'<table data-report="impact">.*?</table>', page.text, re.S)
    assert impact is not None
    assert "จำนวนผู้ได้รับประโยชน์" in impact.group(0)
    alumni = re.search(r'<table data-report="alumni">.*?</table>', page.text, re.S)
    assert alumni is not None
    cells = re.findall(r"<td>([^<]*)</td>", alumni.group(0))
    assert cells[:6] == ["2025", "6 เดือน", "1", "1", "1", "100%"]
    sources = [html.unescape(s) for s in re.findall(r'<img src="([^"]+)"', page.text)]
    names = [re.match(r"/reports/charts/(\w+)\.svg\?", s).group(1)  # type: ignore[union-attr]
             for s in sources]
    assert names == ["funnel", "stages", "impact", "alumni"]


@pytest.mark.parametrize("name", ["funnel", "stages", "impact", "alumni"])
def test_a_chart_is_a_valid_svg_image_with_labels_in_the_page_language(
        server: Server, world: World, name: str) -> None:
    thai = _th(server, "i-manager")
    answer = thai.get(f"/reports/charts/{name}.svg?journey={JOURNEY}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["content-security-policy"] == CSP
    root = ET.fromstring(answer.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = [t.strip() for t in root.itertext() if t.strip()]
    expected_th = {"funnel": "ไอเดีย", "stages": "การทดลองทำ", "impact": "จำนวนผู้ได้รับประโยชน์",
                   "alumni": "6 เดือน"}[name]
    assert any(expected_th in label for label in labels), labels
    english = _en(server, "i-manager").get(f"/reports/charts/{name}.svg?journey={JOURNEY}")
    labels_en = [t.strip() for t in ET.fromstring(english.content).itertext() if t.strip()]
    assert not any(THAI.search(label) for label in labels_en), labels_en
    # cacheable, by this user only: kept for a while, the same chart again is 304
    assert answer.headers["cache-control"] == "private, max-age=300"
    assert "no-store" not in answer.headers.get_list("cache-control")
    # cacheable: the same chart again is 304 for its ETag
    again = thai.get(f"/reports/charts/{name}.svg?journey={JOURNEY}",
                     headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_an_unknown_chart_or_journey_is_404(server: Server, world: World) -> None:
    session = _en(server, "i-manager")
    assert session.get(f"/reports/charts/pie.svg?journey={JOURNEY}").status_code == 404
    assert session.get("/reports/charts/funnel.svg?journey=nope").status_code == 404
    with server.client() as anonymous:
        answer = anonymous.get(f"/reports/charts/funnel.svg?journey={JOURNEY}")
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def test_the_project_page_and_board_in_thai_show_no_english_of_ours(
        server: Server, world: World) -> None:
    session = _th(server, "i-manager")
    for path in (f"/projects/{world.alumni}", "/"):
        page = session.get(path).text
        visible = re.sub(r"<svg.*?</svg>|<[^>]+>", " ", page, flags=re.S)
        for word in ("check_in", "notify", "measured", "follow_up", " ends", "system",
                     "months"):
            assert word not in visible, (path, word)
    alumni = session.get(f"/projects/{world.alumni}").text
    assert "ติดตามศิษย์เก่าหลังส่งต่อ 6 เดือน" in alumni  # the check-in follow-up
    assert "ยังดำเนินงานอยู่ = ใช่" in alumni


def test_a_measurement_reaches_the_projects_live_stream(server: Server, world: World) -> None:
    session = _en(server, "i-team")
    page = session.get(f"/projects/{world.main}").text
    assert "#live-indicators" in page  # the live refresh swaps the indicators in
    after = int(re.search(r"/events/stream\?after=(\d+)", page).group(1))  # type: ignore[union-attr]
    with server.as_user("i-team") as api:
        assert api.post(f"/api/v1/projects/{world.main}/measurements",
                        json={"indicator": "share", "value": 55}).status_code == 201
    # a plain client: the recording one reads each whole body before answering
    with httpx.Client(base_url=server.base, timeout=30) as plain, plain.stream(
            "GET", f"/events/stream?after={after}",
            headers={"Cookie": f"bompao_session={session.cookie}"}) as stream:
        seen = ""
        for chunk in stream.iter_text():
            seen += chunk
            if f"event: project-{world.main}" in seen and '"kind": "measured"' in seen:
                break
    assert f"event: project-{world.main}" in seen


# the browser --------------------------------------------------------------------------



@pytest.mark.slow
def test_in_a_browser_the_owner_records_a_value_and_another_page_sees_it_live(
        server: Server, world: World, pages: Pages, tmp_path: Path) -> None:
    shots = Path(os.environ.get("BOMPAO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    period = world.missing[-1]
    row = f'#indicator-reached tr[data-period="{period}"]'
    watcher = pages.signed_in("i-manager")
    watcher.goto(f"{server.base}/projects/{world.main}")
    watcher.wait_for_selector("#indicator-reached")
    assert watcher.locator(row).count() == 0
    watcher.evaluate("window.notReloaded = true")

    team = pages.signed_in("i-team")
    team.goto(f"{server.base}/projects/{world.main}")
    team.select_option("#measure-form select[name=indicator]", "reached")
    team.fill("#measure-form input[name=value]", "ไม่ใช่ตัวเลข")
    team.click("[data-measure]")
    error = team.wait_for_selector("#measure-error")
    assert "ไม่ใช่ตัวเลข" in error.inner_text()
    team.fill("#measure-form input[name=period]", period)
    team.fill("#measure-form input[name=value]", "25")
    team.fill("#measure-form textarea[name=note]", "รายงานย้อนหลัง")
    team.click("[data-measure]")
    team.wait_for_selector(f"{row} >> text=รายงานย้อนหลัง")
    assert team.locator("#measure-error").count() == 0
    team.locator("#indicators").screenshot(path=str(shots / "indicators-th.png"))
    team.screenshot(path=str(shots / "project-indicators-th.png"), full_page=True)

    watcher.wait_for_selector(row, timeout=15_000)
    assert watcher.evaluate("window.notReloaded") is True
    assert "25" in watcher.locator(f"{row} [data-value]").inner_text()

    watcher.goto(f"{server.base}/reports?journey={JOURNEY}")
    images = watcher.locator("figure.chart img")
    assert images.count() == 4
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
        watcher.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                  arg=images.nth(index).element_handle())
    watcher.screenshot(path=str(shots / "reports-charts-th.png"), full_page=True)
    for page in (watcher, team):
        assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
        page.context.close()


def test_a_chart_is_drawn_again_after_a_measurement(server: Server, world: World) -> None:
    session = _en(server, "i-manager")
    path = f"/reports/charts/impact.svg?journey={JOURNEY}"
    before = session.get(path)
    assert session.get(path).content == before.content  # the same figures, the same bytes
    with server.as_user("i-team") as api:
        assert api.post(f"/api/v1/projects/{world.main}/measurements",
                        json={"indicator": "reached", "period": world.months[0],
                              "value": 90}).status_code == 201
    after = session.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.content != before.content
