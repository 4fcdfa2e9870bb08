"""``bompao demo``: the newcomer's one command, run as a real subprocess.

The demo runs a call of thirty applicants down to a cohort of twelve (applications,
reviewers, scores, the selection), then takes the twelve through ``social-incubator``
over 425 more simulated days; these tests read what it left in its database (projects,
the event log, follow-ups) rather than trusting its own summary, and check the summary
against the database.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reports.helpers import JOURNEY, bompao

from bompao.engine import Engine, Project
from bompao.engine.history import Event
from bompao.storage.tables import events, follow_ups

THAI = re.compile("[\u0e00-\u0e7f]")
LATIN = re.compile("[A-Za-z]")


@dataclass
class Demo:
    """One finished demo: its output and what its database holds."""

    stdout: str
    stderr: str
    folder: Path
    projects: list[Project]
    """Every application (thirty)."""
    histories: dict[int, list[Event]]
    event_count: int
    follow_up_statuses: Counter[str]


def inspect(url: str, stdout: str, stderr: str, folder: Path) -> Demo:
    """Open the demo's database and read everything the tests look at."""
    engine = Engine.from_url(url, create=False)
    try:
        projects = engine.list_projects(journey=JOURNEY)
        histories = {p.id: engine.history(p.id) for p in projects}
        with engine.db.begin(write=False) as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()
            statuses = Counter(dict(conn.execute(
                sa.select(follow_ups.c.status, sa.func.count())
                .group_by(follow_ups.c.status)).all()))
    finally:
        engine.close()
    return Demo(stdout, stderr, folder, projects, histories, count, statuses)


def cohort(demo: Demo) -> list[Project]:
    """The applications the selection admitted."""
    return [p for p in demo.projects if p.stage != "declined"]


def run_demo_command(folder: Path, *args: str, db: str | None = None) -> Any:
    """``bompao [--db URL] [ARGS] demo --out FOLDER`` must exit 0."""
    result = bompao(*args, "demo", "--out", str(folder), db=db)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo as a newcomer runs it: ``bompao demo --out DIR``, all defaults."""
    folder = tmp_path_factory.mktemp("demo")
    result = run_demo_command(folder)
    database = folder / "bompao-demo.db"
    assert database.is_file()
    return inspect(f"sqlite:///{database}", result.stdout, result.stderr, folder)


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``bompao --json demo``: the machine-readable summary."""
    folder = tmp_path_factory.mktemp("demo-json")
    result = run_demo_command(folder, "--json")
    return json.loads(result.stdout)


def test_prints_the_funnel_table_and_the_report_path(demo: Demo) -> None:
    lines = demo.stdout.splitlines()
    assert any(line.strip() == "Funnel" for line in lines)
    header = next(line for line in lines if "ever reached" in line)
    for column in ("stage", "ever reached", "there now", "to next", "exit"):
        assert column in header
    rows = {line.split()[0]: line for line in lines if line.strip()
            and line.split()[0] in ("Idea", "Validation", "Showcase", "Handoff", "Stalled",
                                    "Withdrawn", "Not")}
    assert set(rows) == {"Idea", "Validation", "Showcase", "Handoff", "Stalled", "Withdrawn",
                         "Not"}
    assert rows["Idea"].split()[1:3] == ["30", "0"]
    assert rows["Not"].split()[2:4] == ["18", "18"]  # "Not selected": the call's others
    assert rows["Handoff"].split()[1:3] == ["2", "2"]
    report = re.search(r"^HTML report: (.+)$", demo.stdout, re.MULTILINE)
    assert report is not None, demo.stdout
    path = Path(report.group(1))
    assert path == demo.folder / "bompao-demo-report.html"
    assert path.is_file()
    assert "<svg" in path.read_text(encoding="utf-8")
    scores = sum(1 for h in demo.histories.values() for e in h if e.kind == "scored")
    assert (f"call: 30 applied, 30 reviewed ({scores} scores by 5 reviewers), 12 selected, "
            "18 declined") in demo.stdout.splitlines()
    assert re.search(r"^12 projects, \d+ advances, [1-9]\d* refused by their gates, "
                     r"[1-9]\d* follow-ups run$", demo.stdout, re.MULTILINE), demo.stdout


def test_thirty_applications_twelve_admitted_with_thai_and_english_names(demo: Demo) -> None:
    assert len(demo.projects) == 30
    assert len({p.name for p in demo.projects}) == 30
    for project in demo.projects:
        assert THAI.search(project.name), project.name
        assert LATIN.search(project.name), project.name
        assert project.cohort == "2026"
        assert project.partner
        assert len(project.assignments.get("committee", [])) == 3, project.name
        assert project.fields["problem_statement"]
        assert project.fields["target_group"]
    assert len(cohort(demo)) == 12
    for project in cohort(demo):
        assert project.assignments.get("coach"), project.name
    assert not any(p.assignments.get("coach") for p in demo.projects if p.stage == "declined")


def test_the_call_goes_through_the_form_the_reviewers_and_the_selection(demo: Demo) -> None:
    """Issue 14: applications imported through the form, reviewers assigned by load and
    never of their own partner, scores on the rubric, one selection of the best twelve."""
    grants = {"prasert": "bangkok-district", "wipa": "chiang-mai-uni",
              "somsak": "songkhla-ngo", "anong": "khon-kaen-city", "kanya": None}
    marks: dict[int, list[float]] = {}
    moves: dict[int, Event] = {}
    load: Counter[str] = Counter()
    for project in demo.projects:
        history = demo.histories[project.id]
        assert history[0].kind == "created"
        assert history[0].payload.get("imported") is True
        for person in project.assignments["committee"]:
            load[person] += 1
            assert grants[person] != project.partner, (person, project.name)
        scored = [e for e in history if e.kind == "scored"]
        assert len(scored) >= 2, project.name
        for event in scored:
            assert event.payload["reviewer"] in project.assignments["committee"]
            assert set(event.payload["scores"]) == {"problem", "target_group", "change",
                                                   "team"}
            assert all(1 <= v <= 5 for v in event.payload["scores"].values())
        marks[project.id] = [v for e in scored for v in e.payload["scores"].values()]
        [moves[project.id]] = [e for e in history if e.kind == "advanced"
                               and e.trigger in ("admit", "decline")]
    assert sum(load.values()) == 90
    assert max(load.values()) - min(load.values()) <= 3
    admitted = {pid for pid, e in moves.items() if e.trigger == "admit"}
    assert len(admitted) == 12
    assert {moves[pid].to_stage for pid in admitted} == {"idea"}
    assert {e.to_stage for pid, e in moves.items() if pid not in admitted} == {"declined"}
    assert len({e.at for e in moves.values()}) == 1, "one transaction, one moment"
    # the oracle: every admitted application was marked higher than every declined one
    mean = {pid: sum(v) / len(v) for pid, v in marks.items()}
    assert min(mean[p] for p in admitted) > max(mean[p] for p in mean if p not in admitted)
    for pid, event in moves.items():
        assert event.payload["reason"].startswith("selection: rank ")
        assert (event.payload["selection"]["rank"] <= 12) == (pid in admitted)
        assert event.payload["selection"]["of"] == 30


def test_the_cohort_ends_where_its_stories_do(demo: Demo) -> None:
    stages = Counter(p.stage for p in demo.projects)
    assert stages["handoff"] == 2
    assert stages["stalled"] >= 1
    assert stages["withdrawn"] >= 1
    assert stages["declined"] == 18
    assert sum(stages.values()) == 30


def test_stalled_by_the_follow_up_not_by_a_person(demo: Demo) -> None:
    stalled = [p for p in demo.projects if p.stage == "stalled"]
    assert stalled
    for project in stalled:
        move = [e for e in demo.histories[project.id]
                if e.kind == "advanced" and e.to_stage == "stalled"][-1]
        assert move.actor == "system"
        assert move.trigger == "stall"
        assert move.payload.get("follow_up") is True
        entered = [e for e in demo.histories[project.id]
                   if e.kind == "advanced" and e.to_stage == "test_run"][-1]
        assert (move.at - entered.at).days >= 365  # the journey's "after: 12 months"


def test_flags_follow_ups_and_gates_leave_their_trace(demo: Demo) -> None:
    assert any("at_risk" in p.flags for p in demo.projects)
    every = [e for h in demo.histories.values() for e in h]
    kinds = Counter(e.kind for e in every)
    assert kinds["created"] == 30
    assert kinds["follow_up"] > 50
    assert kinds["flagged"] >= 1
    assert kinds["evidence_added"] > 0
    assert kinds["approved"] > 0
    assert kinds["fields_set"] > 0
    assert kinds["assigned"] >= 24
    assert {e.actor for e in every if e.kind == "flagged"} == {"system"}
    outcomes = Counter(e.payload["action"] for e in every if e.kind == "follow_up")
    assert outcomes["notify"] > 0
    assert outcomes["flag"] > 0
    assert outcomes["transition"] >= 1
    assert demo.follow_up_statuses["done"] > 50
    assert demo.event_count == len(every)


def test_json_summary_shape(summary: dict[str, Any]) -> None:
    assert set(summary) == {"database", "report", "projects", "advanced", "refused",
                            "follow_ups", "stages", "funnel", "intake"}
    assert summary["projects"] == 12
    intake = summary["intake"]
    assert (intake["applied"], intake["reviewed"], intake["selected"], intake["declined"],
            intake["reviewers"]) == (30, 30, 12, 18, 5)
    assert 60 <= intake["scores"] <= 90
    assert summary["refused"] > 0, "no gate ever refused"
    assert summary["advanced"] > 0
    assert summary["stages"]["handoff"] == 2
    assert sum(summary["stages"].values()) == 30
    assert all(isinstance(v, int) and v > 0 for v in summary["follow_ups"].values())
    assert any(key.startswith("notify ") for key in summary["follow_ups"])
    assert summary["follow_ups"].get("transition done", 0) >= 1
    assert [row["stage"] for row in summary["funnel"]] == [
        "idea", "validation", "test_run", "showcase", "handoff", "stalled", "withdrawn",
        "declined"]
    for row in summary["funnel"]:
        assert set(row) == {"stage", "title", "reached", "now", "next", "conversion", "exit"}
    assert {row["stage"]: row["now"] for row in summary["funnel"] if row["now"]} == \
        summary["stages"]
    assert Path(summary["report"]).is_file()
    assert summary["database"].startswith("sqlite:///")


def test_json_summary_agrees_with_the_database(demo: Demo, summary: dict[str, Any]) -> None:
    """The same seed gives the same story: the summary counts what the database holds."""
    every = [e for h in demo.histories.values() for e in h]
    assert summary["advanced"] == sum(1 for e in every
                                      if e.kind == "advanced" and e.actor != "system")
    runs = Counter(f"{e.payload['action']} {e.payload['outcome']}" for e in every
                   if e.kind == "follow_up")
    assert summary["follow_ups"] == dict(runs)
    assert summary["stages"] == dict(Counter(p.stage for p in demo.projects))


def test_a_second_run_starts_from_a_fresh_database(demo: Demo) -> None:
    again = run_demo_command(demo.folder)
    second = inspect(f"sqlite:///{demo.folder / 'bompao-demo.db'}", again.stdout,
                     again.stderr, demo.folder)
    assert len(second.projects) == 30
    assert [p.id for p in second.projects] == [p.id for p in demo.projects]
    assert second.event_count == demo.event_count
    assert Counter(p.stage for p in second.projects) == Counter(p.stage for p in demo.projects)
    assert second.follow_up_statuses == demo.follow_up_statuses


def test_demo_on_the_given_database(store_url: str, tmp_path: Path) -> None:
    """``--db URL`` puts the demo there (SQLite file or PostgreSQL schema), not in OUT."""
    result = run_demo_command(tmp_path, "--json", db=store_url)
    data = json.loads(result.stdout)
    assert not (tmp_path / "bompao-demo.db").exists()
    assert (tmp_path / "bompao-demo-report.html").is_file()
    found = inspect(store_url, result.stdout, result.stderr, tmp_path)
    assert len(found.projects) == 30
    assert data["stages"] == dict(Counter(p.stage for p in found.projects))
    assert data["stages"]["handoff"] == 2


def test_thai_demo_prints_thai(tmp_path: Path) -> None:
    result = run_demo_command(tmp_path, "--lang", "th")
    assert "ภาพรวมการผ่านขั้น" in result.stdout
    assert "ไอเดีย" in result.stdout
    assert "ส่งต่อ" in result.stdout
    assert re.search(r"^รับสมัคร: สมัคร 30 โครงการ ได้รับการพิจารณา 30 โครงการ \(ให้คะแนน \d+ "
                     r"ครั้ง โดยกรรมการ 5 คน\) คัดเลือก 12 โครงการ ไม่ผ่านการคัดเลือก 18 โครงการ$",
                     result.stdout, re.MULTILINE), result.stdout
    html = (tmp_path / "bompao-demo-report.html").read_text(encoding="utf-8")
    assert '<html lang="th">' in html


def test_the_demo_reports_indicators_month_by_month(demo: Demo) -> None:
    """Issue 13: the cohort's participants report their months; the report shows them."""
    every = [e for h in demo.histories.values() for e in h]
    measured = [e for e in every if e.kind == "measured"]
    assert {e.payload["indicator"] for e in measured} == {"people_reached", "volunteers",
                                                         "income"}
    # each project in a test run reports one value per indicator and month, for months
    # that have ended, and none twice
    periods: dict[tuple[int, str], list[str]] = {}
    for event in measured:
        periods.setdefault((event.project, event.payload["indicator"]), []).append(
            event.payload["period"])
        assert event.payload["period"] < event.at.strftime("%Y-%m")
    assert all(len(p) == len(set(p)) for p in periods.values())
    assert max(len(p) for p in periods.values()) >= 6
    page = next(demo.folder.glob("*.html")).read_text(encoding="utf-8")
    assert 'id="impact"' in page
    assert "People reached" in page
    # reminders went to participants for periods left unreported, or were cancelled
    specs = Counter(e.payload["spec"] for e in every if e.kind == "follow_up")
    assert specs["indicator:people_reached"] >= 1
