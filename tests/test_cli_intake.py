"""``bompao`` intake commands end to end on a real SQLite file: applications by CSV,
reviewers by load, scores, ranking, selection, coaches, matching and sessions; each bad
input one ``error:`` line with its exit code and nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scheduler.peers import Cli

from bompao.engine import Engine
from bompao.storage.accounts import insert_user

CALL = Path(__file__).resolve().parent / "fixtures" / "intake" / "call.yaml"
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).date()


@pytest.fixture
def run(cli: Cli, tmp_path: Path) -> Cli:
    """``run(*args)``: bompao on a fresh database with ``call`` open today (and
    ``closed-call``, whose applications closed yesterday) and four reviewers."""
    folder = tmp_path / "journeys"
    folder.mkdir()
    text = CALL.read_text(encoding="utf-8").replace(
        "opens: 2027-01-01", f"opens: {TODAY - timedelta(days=3)}").replace(
        "closes: 2027-02-28", f"closes: {TODAY + timedelta(days=3)}")
    (folder / "call.yaml").write_text(text, encoding="utf-8")
    (folder / "closed.yaml").write_text(
        text.replace("journey: call", "journey: closed-call").replace(
            f"closes: {TODAY + timedelta(days=3)}", f"closes: {TODAY - timedelta(days=1)}"),
        encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'b.db'}"

    def invoke(*args: str) -> tuple[int, str, str]:
        return cli("--db", url, "--journeys", str(folder), *args)

    assert invoke("init")[0] == 0
    engine = Engine.from_url(url)
    with engine.db.begin() as conn:
        for name, grants in (("anan", ["reviewer@cmu"]), ("bua", ["reviewer@kku"]),
                             ("chai", ["reviewer"]), ("dao", ["reviewer@kku"])):
            insert_user(conn, {"username": name, "display_name": name, "email": None,
                               "password_hash": "!", "roles": grants,
                               "created_at": engine.now()})
    engine.close()
    return invoke


def error(run: Cli, code: int, *args: str) -> str:
    got, out, err = run(*args)
    assert got == code, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


def count(run: Cli) -> int:
    code, out, _ = run("--json", "project", "list")
    assert code == 0
    return len(json.loads(out))


def apply(run: Cli, tmp_path: Path, rows: str, journey: str = "call") -> tuple[int, str, str]:
    path = tmp_path / "applications.csv"
    path.write_text("name,partner,cohort,field.problem_statement,field.team_size,"
                    "field.needs\n" + rows, encoding="utf-8")
    return run("project", "import", str(path), "--journey", journey)


def test_applications_come_in_whole_or_not_at_all(run: Cli, tmp_path: Path) -> None:
    closed = TODAY - timedelta(days=1)
    message = error(run, 1, "project", "import", str(_csv(tmp_path, "A,cmu,c1,water,3,\n")),
                    "--journey", "closed-call")
    assert message == (f"applications to closed-call@1 closed on {closed}; today is {TODAY} "
                       "(the journey's timezone); nothing was imported")
    assert error(run, 1, "--lang", "th", "project", "import",
                 str(_csv(tmp_path, "A,cmu,c1,water,3,\n")), "--journey", "closed-call") == (
        f"การรับสมัครของ closed-call@1 ปิดไปแล้วเมื่อวันที่ {closed} วันนี้คือ {TODAY} "
        "(ตามเขตเวลาของเส้นทาง) ไม่ได้นำเข้าข้อมูลใด")
    assert count(run) == 0
    code, _, err = apply(run, tmp_path, "A,cmu,c1,water,3,\nB,kku,c1,,2,\n")
    assert code == 2
    assert err.strip() == ("error: 1 bad row(s), nothing imported: row 2: the application "
                           "misses the required field 'problem_statement'; required: "
                           "problem_statement")
    assert count(run) == 0
    code, _out, err = apply(run, tmp_path, "A,cmu,c1,water,3,idea_development\n"
                                          "B,kku,c1,roads,2,impact_measurement\n")
    assert code == 0, err
    assert count(run) == 2


def _csv(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "one.csv"
    path.write_text("name,partner,cohort,field.problem_statement,field.team_size,"
                    "field.needs\n" + rows, encoding="utf-8")
    return path


def _cohort(run: Cli, tmp_path: Path) -> None:
    rows = "".join(f"P{i},{['cmu', 'kku', 'ngo'][i % 3]},c1,problem {i},{i},"
                   f"{['idea_development', 'impact_measurement', 'model_and_plan'][i % 3]}\n"
                   for i in range(1, 7))
    code, _, err = apply(run, tmp_path, rows)
    assert code == 0, err


def test_review_score_rank_select(run: Cli, tmp_path: Path) -> None:
    _cohort(run, tmp_path)
    code, out, err = run("--json", "reviews", "assign", "--journey", "call", "--cohort", "c1")
    assert code == 0, err
    plan = {item["id"]: item["reviewers"] for item in json.loads(out)["projects"]}
    assert all(len(people) == 2 for people in plan.values())
    # project 3 is cmu's (3 % 3 == 0): anan, at cmu, is never its reviewer
    assert "anan" not in plan[3]
    for project, people in plan.items():
        for person in people:
            code, _, err = run("project", "score", str(project), "--by", person,
                               f"need={1 + project % 5}", "team=3", "--note", "ok")
            assert code == 0, err
    code, out, _ = run("cohort", "rank", "--journey", "call", "--cohort", "c1", "--json")
    ranked = json.loads(out)
    assert [set(e) for e in ranked] == [{"id", "name", "score", "count", "rank"}] * 6
    assert [e["id"] for e in ranked] == [4, 3, 2, 1, 6, 5]  # need 5, 4, 3, 2, 2, 1
    code, out, _ = run("cohort", "rank", "--journey", "call", "--cohort", "c1")
    assert "ties broken by more reviewers, then the lower project id" in out
    code, out, _ = run("cohort", "select", "--journey", "call", "--cohort", "c1", "--top",
                       "2", "--trigger", "select", "--others", "decline", "--dry-run")
    assert code == 0
    assert "would select 2 by select, 4 by decline (dry run: nothing written)" in out
    code, out, err = run("--json", "cohort", "select", "--journey", "call", "--cohort", "c1",
                         "--top", "2", "--trigger", "select", "--others", "decline")
    assert code == 0, err
    assert [e["id"] for e in json.loads(out)["selected"]] == [4, 3]
    code, out, _ = run("--json", "project", "history", "4")
    last = json.loads(out)[-1]
    assert last["to"] == "selected"
    assert last["payload"]["reason"].startswith("selection: rank 1 of 6 in cohort c1")
    person = plan[4][0]
    assert "has left the stage 'applied'" in error(
        run, 1, "project", "score", "4", "--by", person, "need=1", "team=1")


def test_bad_scores_are_one_line_and_write_nothing(run: Cli, tmp_path: Path) -> None:
    _cohort(run, tmp_path)
    assert run("project", "assign", "2", "--role", "reviewer", "--to", "bua")[0] == 0
    code, out, _ = run("--json", "project", "history", "2")
    before = len(json.loads(out))
    cases = [
        (2, ("need=6", "team=3"), ("score '6' for 'need' is off its scale; give a whole "
                                  "number in 1..5")),
        (2, ("need=4", "tem=3"), ("unknown criterion 'tem'; the rubric has: need (1..5), "
                                 "team (1..5)")),
        (2, ("need=nan", "team=3"), ("score 'nan' for 'need' is off its scale; give a whole "
                                    "number in 1..5")),
        (2, ("need", "team=3"), "bad score 'need': give CRITERION=VALUE, e.g. need=4"),
    ]
    for code, pairs, message in cases:
        assert error(run, code, "project", "score", "2", "--by", "bua", *pairs) == message
    assert error(run, 1, "project", "score", "2", "--by", "dao", "need=4", "team=3") == (
        "'dao' is not assigned to project 2 in the role 'reviewer'; assigned: bua (use "
        "'bompao reviews assign' or 'bompao project assign')")
    # project 2 is ngo's; project 3 belongs to cmu: anan (reviewer@cmu) has a conflict, by hand too
    assert error(run, 1, "project", "assign", "3", "--role", "reviewer", "--to", "anan") == (
        "'anan' may not review project 3: a declared conflict (the project's partner 'cmu' "
        "is the reviewer's own)")
    assert error(run, 2, "--lang", "th", "project", "score", "2", "--by", "bua", "need=9",
                 "team=3") == "คะแนน '9' ของ 'need' อยู่นอกช่วง ให้ใช้จำนวนเต็มในช่วง 1..5"
    code, out, _ = run("--json", "project", "history", "2")
    assert len(json.loads(out)) == before


def test_coaches_match_and_sessions(run: Cli, tmp_path: Path) -> None:
    _cohort(run, tmp_path)
    assert run("coaches", "add", "Khun Mai", "--skills", "idea_development,model_and_plan",
               "--capacity", "3")[0] == 0
    assert run("coaches", "add", "Nok", "--skills", "impact_measurement",
               "--capacity", "1")[0] == 0
    assert error(run, 1, "coaches", "add", "nok", "--skills", "x", "--capacity", "1") == \
        "a coach named 'nok' exists already"
    assert error(run, 2, "coaches", "add", "Ploy", "--skills", "x", "--capacity", "0") == \
        "capacity 0 is not 1 to 1000 projects"
    code, out, _ = run("coaches", "list", "--json")
    assert json.loads(out) == [
        {"name": "Khun Mai", "skills": ["idea_development", "model_and_plan"], "capacity": 3},
        {"name": "Nok", "skills": ["impact_measurement"], "capacity": 1}]
    code, out, _ = run("coaches", "match", "--journey", "call", "--cohort", "c1", "--json")
    found = json.loads(out)
    by_coach = {}
    for item in found["assignments"]:
        by_coach.setdefault(item["coach"], []).append(item["id"])
    # needs: 1, 4 impact measurement; 3, 6 idea development; 2, 5 model and plan
    assert len(by_coach["Khun Mai"]) == 3  # its capacity
    assert set(by_coach["Khun Mai"]) <= {2, 3, 5, 6}
    assert len(by_coach["Nok"]) == 1
    assert set(by_coach["Nok"]) <= {1, 4}
    assert (found["covered"], found["needed"], len(found["unmatched"])) == (4, 6, 2)
    assert run("coaches", "match", "--journey", "call", "--cohort", "c1", "--apply")[0] == 0
    day = (TODAY - timedelta(days=1)).isoformat()
    coached = by_coach["Khun Mai"][0]
    code, out, err = run("project", "session", str(coached), "--coach", "khun mai", "--on", day,
                         "--minutes", "90", "--notes", "canvas")
    assert code == 0, err
    assert out.strip() == f"project {coached}: 90 minutes with Khun Mai on {day}"
    assert error(run, 2, "project", "session", "1", "--coach", "Ploy", "--on", day,
                 "--minutes", "30") == "no coach named 'Ploy'; coaches: Khun Mai, Nok"
    assert error(run, 2, "project", "session", "1", "--coach", "Nok", "--on", "tomorrow",
                 "--minutes", "30") == "bad date 'tomorrow': expected YYYY-MM-DD, e.g. 2027-03-01"
    code, out, _ = run("--json", "report", "coaches", "--journey", "call")
    rows = json.loads(out)
    assert next(r for r in rows if r["person"] == "Khun Mai")["hours"] == {day[:7]: 1.5}


def test_coaches_edit_and_remove(run: Cli, tmp_path: Path) -> None:
    _cohort(run, tmp_path)
    assert run("coaches", "add", "Nok", "--skills", "impact_measurement", "--capacity", "1")[0] == 0
    code, out, err = run("coaches", "edit", "nok", "--skills", "idea_development,model_and_plan",
                         "--capacity", "4")
    assert code == 0, err
    assert out.strip() == "coach Nok changed (capacity 4; skills: idea_development, model_and_plan)"
    code, out, _ = run("coaches", "list", "--json")
    assert json.loads(out) == [
        {"name": "Nok", "skills": ["idea_development", "model_and_plan"], "capacity": 4}]
    # bad input: one line, nothing changed
    assert error(run, 2, "coaches", "edit", "Nok") == \
        "nothing to change: give --skills A,B and/or --capacity N"
    assert error(run, 2, "coaches", "edit", "Nok", "--capacity", "0") == \
        "capacity 0 is not 1 to 1000 projects"
    assert error(run, 2, "coaches", "edit", "Nok", "--skills", "Bad Skill") == (
        "bad skill 'Bad Skill': a skill is a topic name such as 'impact_measurement' "
        "(lowercase letters, digits, _)")
    assert error(run, 2, "coaches", "edit", "Ploy", "--capacity", "2") == \
        "no coach named 'Ploy'; coaches: Nok"
    assert json.loads(run("coaches", "list", "--json")[1])[0]["capacity"] == 4
    # the edited skills decide the match: Nok now covers idea development and model and plan
    code, out, _ = run("coaches", "match", "--journey", "call", "--cohort", "c1", "--apply",
                       "--json")
    assigned = sorted(a["id"] for a in json.loads(out)["assignments"])
    assert len(assigned) == 4
    assert set(assigned) <= {2, 3, 5, 6}
    code, out, err = run("--json", "coaches", "remove", "NOK")
    assert code == 0, err
    removed = json.loads(out)
    assert removed["name"] == "Nok"
    assert removed["still_assigned"] == assigned
    code, out, _ = run("coaches", "list", "--json")
    assert json.loads(out) == []
    # the assignments stay in the projects
    shown = json.loads(run("--json", "project", "show", str(assigned[0]))[1])
    assert "Nok" in shown["assignments"]["coach"]
    assert error(run, 2, "coaches", "remove", "Nok") == "no coach named 'Nok'; coaches: none"
    code, _, err = run("--lang", "th", "coaches", "remove", "Nok")
    assert code == 2
    assert err.startswith("error: ไม่มีโค้ชชื่อ 'Nok'")


def test_coaches_remove_says_which_projects_keep_the_coach(run: Cli, tmp_path: Path) -> None:
    _cohort(run, tmp_path)
    assert run("coaches", "add", "Mai", "--skills", "impact_measurement", "--capacity", "2")[0] == 0
    assert run("coaches", "match", "--journey", "call", "--cohort", "c1", "--apply")[0] == 0
    code, out, err = run("coaches", "remove", "Mai")
    assert code == 0, err
    first, second = out.strip().splitlines()
    assert first == "coach Mai removed; matching no longer proposes them"
    assert second.startswith("still assigned to 2 open projects (1, 4)")
