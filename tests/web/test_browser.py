"""A browser journey through the pages with Playwright driving Debian's Chromium
(``executable_path``; no browser is downloaded), against a real ``bompao serve``.

A coach signs in, attaches evidence and approves; a program manager sees the gate's
refusal reasons, fills the missing field and advances; a second browser on the board
sees the card move to the next column without reloading. Screenshots (in Thai) go to
``BOMPAO_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from web_harness import Pages, Server, new_project

SERVE_WEB = {"secure_cookies": "false"}
"""The browser talks plain HTTP to the test server, so the cookie is not ``Secure``."""

pytestmark = pytest.mark.slow


def test_coach_approves_manager_advances_and_the_board_moves_live(
        server: Server, pages: Pages, tmp_path: Path) -> None:
    shots = Path(os.environ.get("BOMPAO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    server.add_user("w-coach", "มาลี ใจดี", "coach@cmu")
    server.add_user("w-manager", "Ploy Manager", "program_manager@cmu")
    with server.as_user("w-manager") as client:
        project_id = new_project(client, "ธนาคารข้าวชุมชน / Community Rice Bank",
                                 cohort="2026")["id"]
    server.engine.assign(project_id, "coach", "มาลี ใจดี")
    card = f"#card-{project_id}"

    watcher = pages.signed_in("w-manager")
    watcher.wait_for_selector(f'[data-stage="idea"] {card}')
    watcher.evaluate("window.notReloaded = true")

    coach = pages.signed_in("w-coach")
    coach.goto(f"{server.base}/projects/{project_id}")
    coach.select_option("#evidence select[name=name]", "stakeholder_map")
    coach.fill("#evidence input[name=url]", "https://example.org/map")
    coach.click("#evidence button[type=submit]")
    coach.wait_for_selector('[data-evidence="stakeholder_map"] a[href="https://example.org/map"]')
    coach.click('[data-approve="coach"]')
    coach.wait_for_selector("#live-status dd >> text=coach: มาลี ใจดี")
    assert coach.locator('[data-approve="coach"]').count() == 0

    manager = pages.signed_in("w-manager")
    manager.goto(f"{server.base}/projects/{project_id}")
    manager.click('[data-advance="validate"]')
    error = manager.wait_for_selector("#error")
    assert "เขียนปัญหาที่ต้องการแก้อย่างน้อย 20 ตัวอักษร" in error.inner_text()
    unmet = manager.locator('[data-trigger="validate"] li.unmet').all_inner_texts()
    assert len(unmet) == 1
    assert "เขียนปัญหาที่ต้องการแก้อย่างน้อย 20 ตัวอักษร" in unmet[0]
    manager.screenshot(path=str(shots / "project-refused-th.png"), full_page=True)

    manager.fill('textarea[name="field.problem_statement"]',
                 "ชาวนาสูญเสียผลผลิตหนึ่งในสามหลังการเก็บเกี่ยว")
    manager.click("#fields button[type=submit]")
    manager.wait_for_selector('[data-trigger="validate"].ready')
    manager.click('[data-advance="validate"]')
    manager.wait_for_selector('#stage[data-stage="validation"]')
    assert server.engine.get(project_id).stage == "validation"

    watcher.wait_for_selector(f'[data-stage="validation"] {card}', timeout=15_000)
    assert watcher.locator(f'[data-stage="idea"] {card}').count() == 0
    assert watcher.evaluate("window.notReloaded") is True
    watcher.screenshot(path=str(shots / "board-th.png"), full_page=True)
    history = manager.locator("#live-history li").all_inner_texts()
    assert any("ไอเดีย → การตรวจสอบไอเดียกับกลุ่มเป้าหมาย" in h for h in history), history
    for page in (watcher, coach, manager):
        assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
        page.context.close()


def test_the_playground_shows_an_error_at_its_line_as_you_type(
        server: Server, pages: Pages, tmp_path: Path) -> None:
    shots = Path(os.environ.get("BOMPAO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    server.add_user("w-author", "Author", "program_manager@cmu")
    page = pages.signed_in("w-author")
    page.goto(f"{server.base}/journeys/playground?start=social-incubator")
    page.wait_for_selector("#problem-count.ok")
    source = page.input_value("#source")
    line = next(n for n, text in enumerate(source.splitlines(), 1)
                if text.strip() == "to: validation")
    page.fill("#source", source.replace("    to: validation\n", "    to: nowhere\n", 1))
    page.dispatch_event("#source", "input")
    problem = page.wait_for_selector(f'.problems li[data-line="{line}"]')
    assert "nowhere" in problem.inner_text()
    page.screenshot(path=str(shots / "playground-th.png"), full_page=False)
    page.fill("#source", source)
    page.dispatch_event("#source", "input")
    page.wait_for_selector("#problem-count.ok")
    assert page.locator(".diagram svg").count() == 1
    page.context.close()
