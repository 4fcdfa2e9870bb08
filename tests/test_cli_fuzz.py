"""CLI fuzz: random argument vectors and random bytes as input files, for every command.

Whatever comes in, the CLI either does its job (exit 0) or refuses with exit 1 or 2
and ``error:`` lines — never a Python traceback, never an "internal error".
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bompao.cli import main
from bompao.engine import Engine

COMMANDS = [
    ["validate"], ["schema"], ["diagram"], ["journeys", "list"], ["journeys", "show"],
    ["journeys", "publish"], ["init"], ["project", "create"], ["project", "set"],
    ["project", "evidence"], ["project", "approve"], ["project", "assign"],
    ["project", "check"], ["project", "advance"], ["project", "show"],
    ["project", "history"], ["project", "list"], ["project", "migrate"],
    ["project", "export"], ["project", "import"], ["followups", "list"],
    ["scheduler", "run", "--once"], ["scheduler", "status"], ["report", "funnel"],
    ["report", "at-risk"], ["validate", "--deep"], ["simulate"],
]
OPTIONS = ["--journey", "--name", "--partner", "--cohort", "--set", "--role", "--by", "--to",
           "--url", "--note", "--format", "--override", "--reason", "--map", "--dry-run",
           "--now", "--due", "--project", "--status", "--since", "-o", "--version", "--lang",
           "--stage"]
WORDS = ["1", "2", "0", "-1", "999999999999", "social-incubator", "social-incubator@9",
         "validate", "withdraw", "coach", "committee", "interviews_done=abc",
         "interviews_done=3", "problem_statement=" + "x" * 30, "demo_day=2027-02-30",
         "x=y", "=", "mermaid", "dot", "json", "csv", "html", "table", "2027-01-01",
         "yesterday", "th", "en", "ไทย", "", " ", "--", "-", "a=b=c", "start=", "/dev/null"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    engine = Engine.from_url(f"sqlite:///{folder / 'fuzz.db'}")
    engine.init()
    engine.create_project(journey="social-incubator", name="Fuzzed")
    engine.close()
    return folder


def _run(argv: list[str], cwd: Path) -> tuple[int, str]:
    err = io.StringIO()
    out = io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(previous)
    return code, err.getvalue()


ANSWERS = (("project", "check"), ("audit",))
"""Commands whose exit 1 is an answer (a gate not passable, a violation found), printed
on stdout like grep's, not an error."""


_GLOBAL_VALUES = {"--db", "--config", "--journeys", "--lang", "--partner"}


def _answered(argv: list[str], code: int, stderr: str) -> bool:
    """Whether ``argv`` ran one of :data:`ANSWERS` (after the global options), which
    answered 1 with nothing on stderr."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        rest = rest[2:] if rest[0] in _GLOBAL_VALUES else rest[1:]
    return code == 1 and not stderr.strip() and any(
        rest[:len(command)] == list(command) for command in ANSWERS)


def _check(argv: list[str], code: int, stderr: str) -> None:
    assert "Traceback" not in stderr, (argv, stderr)
    assert "internal error" not in stderr, (argv, stderr)
    if code != 0 and not _answered(argv, code, stderr):
        assert code in (1, 2), (argv, code, stderr)
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert lines, (argv, "no error line")
        assert all(line.startswith(("error:", "warning:")) or ": error: " in line
                   for line in lines), (argv, stderr)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(COMMANDS),
       rest=st.lists(st.one_of(st.sampled_from(OPTIONS), st.sampled_from(WORDS),
                               st.text(max_size=12)), max_size=6),
       json_flag=st.booleans())
def test_random_argument_vectors(workdir: Path, command: list[str], rest: list[str],
                                 json_flag: bool) -> None:
    argv = ["--db", f"sqlite:///{workdir / 'fuzz.db'}", *(["--json"] if json_flag else []),
            *command, *rest]
    if "-o" in rest:  # keep output files inside the scratch folder
        argv = [a if a != "/dev/null" else str(workdir / "out.txt") for a in argv]
    code, stderr = _run(argv, workdir)
    _check(argv, code, stderr)


FILE_COMMANDS = [
    ["validate", "{file}"], ["journeys", "publish", "{file}"], ["journeys", "show", "{file}"],
    ["diagram", "{file}"], ["project", "import", "{file}"],
    ["project", "import", "{file}", "--format", "json"],
    ["--config", "{file}", "scheduler", "run", "--once"],
]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(FILE_COMMANDS), content=st.one_of(
    st.binary(max_size=400), st.text(max_size=400).map(str.encode),
    st.sampled_from([b"journey: x\nversion: 1\nstages: {}\n", b"[", b"name\n,,,\n",
                     b'[{"name": 1}]', b"\xff\xfe", b"a: &a [*a]\n", b"database = 3\n"])))
def test_random_bytes_as_input_files(workdir: Path, command: list[str],
                                     content: bytes) -> None:
    path = workdir / "input.yaml"
    path.write_bytes(content)
    argv = ["--db", f"sqlite:///{workdir / 'fuzz.db'}",
            *[part.format(file=path) for part in command]]
    code, stderr = _run(argv, workdir)
    _check(argv, code, stderr)


def test_a_gate_not_passable_is_an_answer_on_stdout_not_an_error(workdir: Path) -> None:
    argv = ["--db", f"sqlite:///{workdir / 'fuzz.db'}", "project", "check", "1"]
    code, stderr = _run(argv, workdir)
    assert (code, stderr) == (1, "")  # the fixture's project cannot leave 'idea' yet
    _check(argv, code, stderr)
    assert not _answered(["project", "show", "1"], 1, "")
