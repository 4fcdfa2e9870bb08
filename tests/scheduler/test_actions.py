"""Follow-up actions against real peers: notify, email (aiosmtpd), webhooks (pytest-httpserver),
flag / unflag / transition, plugins; every run an event; no secret ever shown.

Each test publishes a small journey whose stage ``a`` holds the follow-ups under test,
moves the injected clock past their due times and runs one
:class:`~bompao.engine.dispatch.Dispatcher` pass, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import textwrap
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from scheduler.peers import (
    Cli,
    MutableClock,
    Sink,
    SmtpBox,
    failing,
    free_port,
    make_config,
    sleeping,
)

from bompao.engine import Engine
from bompao.engine.actions import ActionContext, ActionFailed
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher, RoundResult
from bompao.errors import DefinitionError


def journey(key: str, follow_ups: list[str], b_follow_ups: list[str] | None = None) -> str:
    """A journey ``a -go-> b -finish-> done``; ``go`` needs ``n >= 5`` (override: boss)."""
    def block(items: list[str]) -> str:
        if not items:
            return ""
        return "    follow_ups:\n" + "".join(f"      - {item}\n" for item in items)

    return (f"journey: {key}\nversion: 1\ntitle: {{en: Actions}}\ntimezone: Asia/Bangkok\n"
            "roles: [coach, program_manager, participant, boss]\n"
            "fields:\n  n: {type: int, default: 0}\n"
            "stages:\n  a:\n    initial: true\n    title: {en: Starting out}\n"
            + block(follow_ups) + "  b:\n" + (block(b_follow_ups or []) or "    title: {en: B}\n")
            + "  done: {final: true}\n"
            "transitions:\n"
            "  - {trigger: go, from: a, to: b, override_roles: [boss],"
            " gate: {expr: \"n >= 5\", says: {en: At least five}}}\n"
            "  - {trigger: finish, from: b, to: done}\n")


def dispatch(engine: Engine, config: Config, clock: MutableClock, days: float = 2
             ) -> RoundResult:
    """Move the clock ``days`` on and run everything due."""
    clock.tick(days=days)
    return Dispatcher(engine, config).run_due()


def follow_ups(engine: Engine, project: int) -> dict[str, dict[str, Any]]:
    """The project's follow-up rows by spec name (the latest occurrence wins)."""
    return {r["spec"]: r for r in engine.list_follow_ups(project=project, limit=None)}


def runs(engine: Engine, project: int) -> list[Any]:
    """The project's ``follow_up`` events, oldest first."""
    return [e for e in engine.history(project) if e.kind == "follow_up"]


# notify ------------------------------------------------------------------------------------


def test_notify_writes_one_log_line_naming_the_people_assigned_to_the_roles(
        engine: Engine, clock: MutableClock, caplog: pytest.LogCaptureFixture) -> None:
    key = engine.publish(journey("notes", [
        ('{id: hello, after: 1 day, action: notify, to: [coach, program_manager],'
        ' message: {en: "Check in with {{ project.name }} ({{ stage.title }}),'
        ' day {{ days_in_stage }}"}}')]))[0]
    project = engine.create_project(key, "Clinic")
    for role, person in [("coach", "Malee"), ("coach", "Somchai"),
                         ("program_manager", "Dao"), ("participant", "Noi")]:
        engine.assign(project.id, role=role, person=person)
    caplog.set_level(logging.INFO, logger="bompao")
    result = dispatch(engine, Config(daemon_name="notes"), clock)
    assert (result.done, result.failed) == (1, 0)
    row = follow_ups(engine, project.id)["hello"]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bompao.notify"]
    assert lines == [{"notify": project.id, "to": ["Malee", "Somchai", "Dao"],
                      "roles": ["coach", "program_manager"],
                      "message": "Check in with Clinic (Starting out), day 2",
                      "key": row["idempotency_key"]}]
    assert row["status"] == "done"
    [event] = runs(engine, project.id)
    assert event.payload["outcome"] == "done"
    assert event.payload["detail"] == "notified Malee, Somchai, Dao via log"
    # the daemon's structured line: follow-up, project, action, outcome, duration
    [line] = [json.loads(r.getMessage()) for r in caplog.records
              if r.name == "bompao.scheduler" and r.getMessage().startswith("{")]
    assert line["follow_up"] == row["id"]
    assert line["project"] == project.id
    assert (line["action"], line["outcome"]) == ("notify", "done")
    assert isinstance(line["duration_ms"], int | float)


def test_notify_with_nobody_assigned_is_done_and_says_so(
        engine: Engine, clock: MutableClock) -> None:
    key = engine.publish(journey("lonely", [("{id: hello, after: 1 day, action: notify,"
                                            " to: [coach]}")]))[0]
    project = engine.create_project(key, "Alone")
    dispatch(engine, Config(daemon_name="lonely"), clock)
    [event] = runs(engine, project.id)
    assert event.payload["outcome"] == "done"
    assert event.payload["detail"] == "notified nobody assigned as coach via log"


@pytest.mark.parametrize(("template", "outcome", "shown"), [
    # undefined in the sandbox: renders as nothing, nothing runs
    ("Hi {{ project.__class__.__mro__ }}!", "done", "Hi !"),
    ("{{ cycler.__init__.__globals__.os }}x", "done", "x"),
    ("{{ (project|attr('__class__')) }}x", "done", "x"),
    # calling or indexing through an unsafe attribute: the run fails, nothing runs
    ("{{ ''.__class__.__subclasses__() }}", "failed", "unsafe"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "failed", "unsafe"),
    ("{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}", "failed",
     "unsafe"),
    # the immutable sandbox: no mutating the context either
    ("{{ project.fields.update({'n': 99}) }}", "failed", "unsafe"),
], ids=["mro", "cycler-os", "attr-filter", "subclasses", "mro-subclasses",
        "for-subclasses", "mutate"])
def test_message_templates_cannot_reach_python_internals(
        engine: Engine, clock: MutableClock, caplog: pytest.LogCaptureFixture,
        template: str, outcome: str, shown: str) -> None:
    key = engine.publish(journey("sandbox", [
        "{id: evil, after: 1 day, action: notify, to: [coach], message: {en: "
        + json.dumps(template) + "}}"
    ]))[0]
    project = engine.create_project(key, "Sandbox")
    engine.assign(project.id, role="coach", person="Malee")
    caplog.set_level(logging.INFO, logger="bompao")
    result = dispatch(engine, Config(daemon_name="sandbox"), clock)
    row = follow_ups(engine, project.id)["evil"]
    [event] = runs(engine, project.id)
    assert event.payload["outcome"] == outcome
    notified = [json.loads(r.getMessage())["message"] for r in caplog.records
                if r.name == "bompao.notify"]
    if outcome == "done":
        assert (result.done, result.failed) == (1, 0)
        assert notified == [shown]
        assert row["status"] == "done"
    else:
        assert (result.done, result.failed) == (0, 1)
        assert notified == []
        assert row["status"] == "failed"
        assert "SecurityError" in row["last_error"]
        assert shown in row["last_error"]
    text = caplog.text + json.dumps([e.payload for e in engine.history(project.id)])
    assert "<class" not in text  # no class, module or function ever rendered
    assert "subprocess" not in text
    assert engine.get(project.id).fields == {"n": 0}


# email -------------------------------------------------------------------------------------


def smtp_config(tmp_path: Path, smtp: SmtpBox, extra: str = "", password: str | None = None
                ) -> Config:
    return make_config(tmp_path, textwrap.dedent(f"""\
        [smtp]
        host = "{smtp.host}"
        port = {smtp.port}
        username = "bompao"
        password = "{password or smtp.password}"
        sender = "bompao@example.org"
        timeout = 5

        [people]
        Malee = "malee@example.org"
        """) + extra)


def test_email_goes_over_real_smtp_with_the_idempotency_key_in_the_message_id(
        engine: Engine, clock: MutableClock, smtp: SmtpBox, tmp_path: Path) -> None:
    key = engine.publish(journey("mail", [
        ('{id: letter, after: 1 day, action: email, to: [coach],'
        ' subject: {en: "{{ project.name }}: check-in"},'
        ' message: {en: "Dear coach, {{ project.name }} is in {{ stage.title }}."}}')]))[0]
    project = engine.create_project(key, "Clinic")
    for person in ("Malee", "dao@example.org", "Nobody Mapped"):
        engine.assign(project.id, role="coach", person=person)
    result = dispatch(engine, smtp_config(tmp_path, smtp), clock)
    assert (result.done, result.failed) == (1, 0)
    row = follow_ups(engine, project.id)["letter"]
    [mail] = smtp.mails
    assert smtp.logins == [("bompao", smtp.password)]
    assert mail.sender == "bompao@example.org"
    assert sorted(mail.rcpt) == ["dao@example.org", "malee@example.org"]
    assert mail.message["To"] == "malee@example.org, dao@example.org"
    # on the sender's domain, and dated when it was sent (the engine's clock)
    assert mail.message["Message-ID"] == f"<{row['idempotency_key']}@example.org>"
    assert parsedate_to_datetime(mail.message["Date"]) == clock.now
    assert mail.message["X-Bompao-Idempotency-Key"] == row["idempotency_key"]
    assert mail.message["Subject"] == "Clinic: check-in"
    assert mail.message.get_payload(decode=True).decode().strip() == (
        "Dear coach, Clinic is in Starting out.")
    [event] = runs(engine, project.id)
    assert (event.payload["outcome"], event.payload["detail"]) == (
        "done", "emailed 2 recipient(s)")


def test_the_message_id_is_on_the_configured_domain_else_the_senders(
        engine: Engine, clock: MutableClock, smtp: SmtpBox, tmp_path: Path) -> None:
    key = engine.publish(journey("domains", [
        '{id: letter, after: 1 day, action: email, to: [coach], message: {en: "Hi"}}']))[0]
    smtp_section = (f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\n'
                    f'username = "bompao"\npassword = "{smtp.password}"\n'
                    'sender = "Bompao <ops@sender.example>"\ntimeout = 5\n')
    people = '[people]\nMalee = "malee@example.org"\n'
    for name, extra, domain in (
            ("configured", 'message_id_domain = "mail.incubator.example"\n',
             "mail.incubator.example"),
            ("default", "", "sender.example")):  # the From address's, display name aside
        project = engine.create_project(key, name)
        engine.assign(project.id, role="coach", person="Malee")
        config = make_config(tmp_path, smtp_section + extra + people, f"{name}.toml")
        assert dispatch(engine, config, clock).done == 1
        row = follow_ups(engine, project.id)["letter"]
        mail = smtp.mails[-1]
        assert mail.message["Message-ID"] == f"<{row['idempotency_key']}@{domain}>"
        assert parsedate_to_datetime(mail.message["Date"]) == clock.now
    assert len(smtp.mails) == 2


def test_notify_delivers_through_the_email_channel_too(
        engine: Engine, clock: MutableClock, smtp: SmtpBox, tmp_path: Path) -> None:
    key = engine.publish(journey("notify-mail", [
        '{id: hello, after: 1 day, action: notify, to: [coach], message: {en: "Hello"}}']))[0]
    project = engine.create_project(key, "Clinic")
    engine.assign(project.id, role="coach", person="Malee")
    config = smtp_config(tmp_path, smtp, '\n[notify]\nchannels = ["log", "email"]\n')
    dispatch(engine, config, clock)
    [mail] = smtp.mails
    row = follow_ups(engine, project.id)["hello"]
    assert mail.message["Message-ID"] == f"<{row['idempotency_key']}@example.org>"
    assert mail.message["Subject"] == "[bompao] Clinic"
    assert mail.rcpt == ["malee@example.org"]
    assert runs(engine, project.id)[0].payload["detail"] == (
        "notified Malee via log, email to 1")


def test_email_without_any_address_or_server_fails_with_a_reason(
        engine: Engine, clock: MutableClock, tmp_path: Path) -> None:
    key = engine.publish(journey("nomail", [("{id: letter, after: 1 day, action: email,"
                                            " to: [coach]}")]))[0]
    nobody = engine.create_project(key, "No address")
    engine.assign(nobody.id, role="coach", person="Somchai")
    down = engine.create_project(key, "Server down")
    engine.assign(down.id, role="coach", person="somchai@example.org")
    config = make_config(tmp_path, f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\n'
                         'timeout = 2\n')
    result = dispatch(engine, config, clock)
    assert (result.done, result.failed) == (0, 2)
    assert follow_ups(engine, nobody.id)["letter"]["last_error"] == (
        "no email address for anyone assigned as coach (assign addresses or map names in "
        "[people])")
    error = follow_ups(engine, down.id)["letter"]["last_error"]
    assert error.startswith("email to somchai@example.org failed: ")
    assert "refused" in error.lower()


# webhooks ----------------------------------------------------------------------------------


def hook_config(tmp_path: Path, sink: Sink, *names: str, retries: int = 3,
                timeout: float = 5, extra: str = "") -> Config:
    tables = "".join(textwrap.dedent(f"""\
        [webhooks.{name}]
        url = "{sink.url('/' + name)}"
        timeout = {timeout}
        retries = {retries}
        backoff = 0.01
        headers = {{ Authorization = "Bearer {name}-token" }}

        """) for name in names)
    return make_config(tmp_path, tables + extra)


def test_a_webhook_posts_json_with_an_idempotency_key_to_the_configured_endpoint(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    key = engine.publish(journey("hooks", [
        ('{id: ping, after: 1 day, action: webhook, endpoint: hook,'
        ' message: {en: "{{ project.name }} needs a call"}, params: {kind: reminder}}')]))[0]
    project = engine.create_project(key, "Clinic", partner="cmu", cohort="2027")
    engine.assign(project.id, role="coach", person="Malee")
    result = dispatch(engine, hook_config(tmp_path, sink, "hook"), clock)
    assert (result.done, result.failed) == (1, 0)
    row = follow_ups(engine, project.id)["ping"]
    [request] = sink.on("/hook")
    assert request.key == row["idempotency_key"]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer hook-token"
    body = request.body
    assert body["idempotency_key"] == row["idempotency_key"]
    assert body["follow_up"] == {"name": "ping", "action": "webhook", "occurrence": 0,
                                 "due_at": "2027-01-05T03:00:00+00:00"}
    assert body["project"] == {"id": project.id, "name": "Clinic", "stage": "a",
                               "partner": "cmu", "cohort": "2027"}
    assert body["journey"] == "hooks@1"
    assert body["message"] == "Clinic needs a call"
    assert body["params"] == {"kind": "reminder"}
    assert row["status"] == "done"
    assert row["attempts"] == 1
    [event] = runs(engine, project.id)
    assert event.payload["detail"] == "webhook 'hook' answered 200"


def test_a_journey_cannot_give_a_webhook_url(engine: Engine) -> None:
    with pytest.raises(DefinitionError, match="looks like a URL"):
        engine.publish(journey("raw-url", [
            "{id: leak, after: 1 day, action: webhook, endpoint: 'https://evil.example/x'}"]))


def test_a_webhook_naming_an_unconfigured_endpoint_fails(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    key = engine.publish(journey("unknown-hook", [
        "{id: ping, after: 1 day, action: webhook, endpoint: elsewhere}"]))[0]
    project = engine.create_project(key, "Clinic")
    dispatch(engine, hook_config(tmp_path, sink, "hook"), clock)
    row = follow_ups(engine, project.id)["ping"]
    assert row["status"] == "failed"
    assert row["last_error"] == "unknown webhook endpoint 'elsewhere'; endpoints: hook"
    assert sink.received == []


def test_a_webhook_that_fails_twice_then_recovers_is_retried_then_done(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    key = engine.publish(journey("flaky", [
        "{id: ping, after: 1 day, action: webhook, endpoint: flaky}"]))[0]
    project = engine.create_project(key, "Clinic")
    sink.answers["/flaky"] = failing(2)
    result = dispatch(engine, hook_config(tmp_path, sink, "flaky"), clock)
    assert (result.done, result.failed) == (1, 0)
    row = follow_ups(engine, project.id)["ping"]
    assert [r.key for r in sink.on("/flaky")] == [row["idempotency_key"]] * 3
    assert row["status"] == "done"
    assert row["last_error"] is None
    [event] = runs(engine, project.id)
    assert event.payload["outcome"] == "done"


def test_a_webhook_that_keeps_failing_is_marked_failed_and_listed_the_others_unaffected(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path, store_url: str,
        cli: Cli) -> None:
    key = engine.publish(journey("broken", [
        "{id: doomed, after: 1 day, action: webhook, endpoint: broken}",
        "{id: fine, after: 1 day, action: webhook, endpoint: ok}",
        "{id: note, after: 1 day, action: notify, to: [coach]}"]))[0]
    first = engine.create_project(key, "First")
    second = engine.create_project(key, "Second")
    sink.answers["/broken"] = failing(None)
    result = dispatch(engine, hook_config(tmp_path, sink, "broken", "ok", retries=2), clock)
    assert (result.done, result.failed) == (4, 2)
    message = "webhook 'broken' failed after 3 attempts: HTTP 500"
    for project in (first, second):
        rows = follow_ups(engine, project.id)
        assert rows["doomed"]["status"] == "failed"
        assert rows["doomed"]["last_error"] == message
        assert rows["fine"]["status"] == "done"
        assert rows["note"]["status"] == "done"
        outcomes = {e.payload["spec"]: e.payload["outcome"] for e in runs(engine, project.id)}
        assert outcomes == {"doomed": "failed", "fine": "done", "note": "done"}
        assert engine.get(project.id).stage == "a"
    assert len(sink.on("/broken")) == 6  # 3 attempts each
    assert len(sink.on("/ok")) == 2
    failed = engine.list_follow_ups(status="failed")
    assert [(r["project"], r["spec"], r["last_error"]) for r in failed] == [
        (first.id, "doomed", message), (second.id, "doomed", message)]
    code, out, err = cli("--json", "--db", store_url, "followups", "list",
                         "--status", "failed")
    assert (code, err) == (0, "")
    listed = json.loads(out)
    assert [(r["project"], r["spec"], r["status"], r["last_error"]) for r in listed] == [
        (first.id, "doomed", "failed", message), (second.id, "doomed", "failed", message)]
    code, out, _ = cli("--db", store_url, "followups", "list", "--project",
                       str(first.id))
    assert code == 0
    assert "HTTP 500" in out


def test_a_hanging_webhook_times_out_after_its_retries_in_bounded_time(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    key = engine.publish(journey("slow", [
        "{id: ping, after: 1 day, action: webhook, endpoint: slow}"]))[0]
    project = engine.create_project(key, "Clinic")
    sink.answers["/slow"] = sleeping(5.0)
    config = hook_config(tmp_path, sink, "slow", retries=2, timeout=0.3)
    started = time.monotonic()
    result = dispatch(engine, config, clock)
    elapsed = time.monotonic() - started
    assert (result.done, result.failed) == (0, 1)
    row = follow_ups(engine, project.id)["ping"]
    assert row["status"] == "failed"
    assert row["last_error"] == "webhook 'slow' failed after 3 attempts: timed out"
    assert len(sink.on("/slow")) == 3
    assert 0.9 <= elapsed < 4.0  # 3 x 0.3 s timeout + 0.03 s backoff, not even one 5 s hang


def test_notify_posts_to_a_webhook_channel_with_the_same_key(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    key = engine.publish(journey("chat", [
        '{id: hello, after: 1 day, action: notify, to: [coach], message: {en: "Hi"}}']))[0]
    project = engine.create_project(key, "Clinic")
    engine.assign(project.id, role="coach", person="Malee")
    config = hook_config(tmp_path, sink, "chat", extra='[notify]\nchannels = ["webhook:chat"]\n')
    dispatch(engine, config, clock)
    row = follow_ups(engine, project.id)["hello"]
    [request] = sink.on("/chat")
    assert request.key == row["idempotency_key"]
    assert request.body["recipients"] == [{"role": "coach", "person": "Malee"}]
    assert request.body["message"] == "Hi"
    assert runs(engine, project.id)[0].payload["detail"] == (
        "notified Malee via log, webhook:chat")


# internal actions --------------------------------------------------------------------------


def test_flag_and_unflag_change_the_project_and_are_recorded(
        engine: Engine, clock: MutableClock) -> None:
    key = engine.publish(journey("flags", [
        "{id: risky, after: 1 day, action: flag, flag: at_risk}",
        "{id: calm, after: 3 days, action: unflag, flag: at_risk}"]))[0]
    project = engine.create_project(key, "Clinic")
    config = Config(daemon_name="flags")
    dispatch(engine, config, clock, days=2)
    assert engine.get(project.id).flags == ["at_risk"]
    assert follow_ups(engine, project.id)["risky"]["status"] == "done"
    assert follow_ups(engine, project.id)["calm"]["status"] == "pending"
    dispatch(engine, config, clock, days=2)
    assert engine.get(project.id).flags == []
    kinds = [(e.kind, e.actor, e.payload.get("flag"), e.payload.get("spec"))
             for e in engine.history(project.id)][1:]
    assert kinds == [("flagged", "system", "at_risk", None),
                     ("follow_up", "system", None, "risky"),
                     ("unflagged", "system", "at_risk", None),
                     ("follow_up", "system", None, "calm")]


def test_an_internal_action_and_marking_it_done_commit_together(
        engine: Engine, clock: MutableClock, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.publish(journey("atomic", [
        "{id: risky, after: 1 day, action: flag, flag: at_risk}"]))[0]
    project = engine.create_project(key, "Clinic")
    events = len(engine.history(project.id))
    config = Config(daemon_name="atomic", lease=60)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("power cut while recording the run")

    # by the time the events are appended, the follow-up is marked done and the flag
    # written in the same transaction: the crash must take both back
    monkeypatch.setattr(engine.hot, "append_events", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        dispatch(engine, config, clock)
    monkeypatch.undo()
    assert engine.get(project.id).flags == []
    assert len(engine.history(project.id)) == events
    other = Config(daemon_name="other", lease=60)
    if engine.hot.sqlite:
        # on SQLite an internal action is claimed, applied and recorded in one
        # transaction: the crash took the claim back too, so it runs again at once
        assert follow_ups(engine, project.id)["risky"]["status"] == "pending"
        attempts = 1
    else:
        # the flag was rolled back with the follow-up's "done": still claimed, not
        # applied; another pass within the lease leaves it alone
        assert follow_ups(engine, project.id)["risky"]["status"] == "running"
        assert Dispatcher(engine, other).run_due().claimed == 0
        clock.tick(seconds=61)
        attempts = 2
    result = Dispatcher(engine, other).run_due()
    assert result.done == 1
    assert engine.get(project.id).flags == ["at_risk"]
    row = follow_ups(engine, project.id)["risky"]
    assert (row["status"], row["attempts"]) == ("done", attempts)
    history = engine.history(project.id)
    assert [e.kind for e in history][events:] == ["flagged", "follow_up"]
    assert [e.seq for e in history] == list(range(1, len(history) + 1))


def test_a_transition_follow_up_whose_gate_refuses_leaves_the_project_alone(
        engine: Engine, clock: MutableClock) -> None:
    key = engine.publish(journey("refuse", [
        "{id: push, after: 1 day, action: transition, trigger: go}",
        "{id: later, after: 30 days, action: notify, to: [coach]}"],
        ["{id: in_b, after: 1 day, action: notify, to: [coach]}"]))[0]
    project = engine.create_project(key, "Clinic", fields={"n": 2})
    before = engine.get(project.id)
    result = dispatch(engine, Config(daemon_name="refuse"), clock)
    assert (result.refused, result.done, result.failed) == (1, 0, 0)
    after = engine.get(project.id)
    assert (after.stage, after.visit, after.stage_entered_at) == (
        before.stage, before.visit, before.stage_entered_at)
    assert [e.kind for e in engine.history(project.id)] == ["created", "follow_up"]
    [event] = runs(engine, project.id)
    assert event.payload["outcome"] == "refused"
    assert event.payload["detail"] == "gate not met: At least five"
    rows = follow_ups(engine, project.id)
    assert rows["push"]["status"] == "done"  # it ran; its outcome was a refusal
    assert rows["later"]["status"] == "pending"
    assert "in_b" not in rows


def test_a_transition_follow_up_fires_when_the_gate_is_met(
        engine: Engine, clock: MutableClock) -> None:
    key = engine.publish(journey("pass", [
        "{id: push, after: 1 day, action: transition, trigger: go}",
        "{id: later, after: 30 days, action: notify, to: [coach]}"],
        ["{id: in_b, after: 1 day, action: notify, to: [coach]}"]))[0]
    project = engine.create_project(key, "Clinic", fields={"n": 7})
    dispatch(engine, Config(daemon_name="pass"), clock)
    moved = engine.get(project.id)
    assert moved.stage == "b"
    advanced = [e for e in engine.history(project.id) if e.kind == "advanced"]
    assert [(e.actor, e.trigger, e.payload["override"]) for e in advanced] == [
        ("system", "go", False)]
    rows = follow_ups(engine, project.id)
    assert rows["later"]["status"] == "cancelled"
    assert rows["in_b"]["status"] == "pending"
    assert rows["in_b"]["due_at"] == "2027-01-07T10:00:00+07:00"  # a day after the move


def test_a_forced_transition_moves_as_the_system_and_records_the_override(
        engine: Engine, clock: MutableClock) -> None:
    key = engine.publish(journey("force", [
        "{id: push, after: 1 day, action: transition, trigger: go, force: true}"],
        ["{id: in_b, after: 1 day, action: notify, to: [coach]}"]))[0]
    project = engine.create_project(key, "Clinic", fields={"n": 1})
    result = dispatch(engine, Config(daemon_name="force"), clock)
    assert result.done == 1
    assert engine.get(project.id).stage == "b"
    history = engine.history(project.id)
    assert [e.kind for e in history] == ["created", "advanced", "follow_up"]
    advanced = history[1]
    assert (advanced.actor, advanced.from_stage, advanced.to_stage, advanced.trigger) == (
        "system", "a", "b", "go")
    assert advanced.payload["override"] is True
    assert advanced.payload["reason"] == "follow-up push (force)"
    assert advanced.payload["missing"] == ["At least five"]
    run = history[2]
    assert (run.actor, run.from_stage, run.payload["outcome"], run.payload["detail"]) == (
        "system", "a", "done", "go -> b")
    assert follow_ups(engine, project.id)["in_b"]["status"] == "pending"


# plugins -----------------------------------------------------------------------------------


def test_plugin_actions_run_and_their_failures_are_recorded(
        engine: Engine, clock: MutableClock) -> None:
    seen: list[ActionContext] = []

    def ping(ctx: ActionContext) -> str:
        seen.append(ctx)
        return f"pinged {ctx.project.name} about {ctx.spec.params['topic']}"

    def explode(_: ActionContext) -> None:
        raise RuntimeError("boom")

    def refuse(_: ActionContext) -> None:
        raise ActionFailed("the CRM said no")

    engine.register_action("ping", ping)
    engine.register_action("explode", explode)
    engine.register_action("refuse", refuse)
    key = engine.publish(journey("plugins", [
        "{id: p, after: 1 day, action: ping, params: {topic: budget}}",
        "{id: x, after: 1 day, action: explode}",
        "{id: r, after: 1 day, action: refuse}",
        "{id: u, after: 1 day, action: not_registered}"]))[0]
    project = engine.create_project(key, "Clinic")
    result = dispatch(engine, Config(daemon_name="plugins"), clock)
    assert (result.done, result.failed) == (1, 3)
    rows = follow_ups(engine, project.id)
    [ctx] = seen
    assert ctx.idempotency_key == rows["p"]["idempotency_key"]
    assert ctx.occurrence == 0
    assert rows["p"]["status"] == "done"
    assert rows["x"]["last_error"] == "action 'explode' raised RuntimeError: boom"
    assert rows["r"]["last_error"] == "the CRM said no"
    assert rows["u"]["last_error"].startswith("unknown action 'not_registered'; register it")
    details = {e.payload["spec"]: (e.payload["outcome"], e.payload["detail"])
               for e in runs(engine, project.id)}
    assert details == {"p": ("done", "pinged Clinic about budget"),
                       "x": ("failed", "action 'explode' raised RuntimeError: boom"),
                       "r": ("failed", "the CRM said no"),
                       "u": ("failed", rows["u"]["last_error"])}


def test_a_plugin_action_from_the_entry_point_group_runs(
        engine: Engine, clock: MutableClock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = tmp_path / "plugins"
    info = plugins / "bompao_test_shout-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bompao-test-shout\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[bompao.actions]\nshout = bompao_test_shout:shout\n", encoding="utf-8")
    (plugins / "bompao_test_shout.py").write_text(
        "def shout(ctx):\n    return 'SHOUTED ' + ctx.idempotency_key\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(plugins))
    key = engine.publish(journey("shouting", ["{id: s, after: 1 day, action: shout}"]))[0]
    project = engine.create_project(key, "Clinic")
    result = dispatch(engine, Config(daemon_name="shout"), clock)
    assert result.done == 1
    row = follow_ups(engine, project.id)["s"]
    assert runs(engine, project.id)[0].payload["detail"] == f"SHOUTED {row['idempotency_key']}"


# every run is an event ---------------------------------------------------------------------


def test_every_run_success_or_failure_is_an_event_with_its_outcome_and_key(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path) -> None:
    engine.register_action("ping", lambda _ctx: "pong")
    engine.register_action("explode", lambda _ctx: 1 / 0)
    key = engine.publish(journey("everything", [
        "{id: note, after: 1 day, action: notify, to: [coach]}",
        "{id: hook, after: 1 day, action: webhook, endpoint: ok}",
        "{id: dead, after: 1 day, action: webhook, endpoint: broken}",
        "{id: risky, after: 1 day, action: flag, flag: at_risk}",
        "{id: calm, after: 1 day, action: unflag, flag: never_set}",
        "{id: plug, after: 1 day, action: ping}",
        "{id: boom, after: 1 day, action: explode}",
        "{id: push, after: 1 day, action: transition, trigger: go}",
        "{id: weekly, every: 1 week, action: notify, to: [coach]}"]))[0]
    project = engine.create_project(key, "Clinic")
    sink.answers["/broken"] = failing(None)
    config = hook_config(tmp_path, sink, "ok", "broken", retries=0)
    dispatch(engine, config, clock, days=15)
    rows = [r for r in engine.list_follow_ups(project=project.id, limit=None)
            if r["status"] != "pending"]
    events = runs(engine, project.id)
    assert len(events) == len(rows) == 10  # nine follow-ups, the weekly one twice by now
    by_id = {e.payload["follow_up"]: e.payload for e in events}
    for row in rows:
        payload = by_id[row["id"]]
        assert payload["idempotency_key"] == row["idempotency_key"]
        assert payload["spec"] == row["spec"]
        assert payload["occurrence"] == row["occurrence"]
        assert payload["action"] == row["action"]
        expected = {"done": "done", "failed": "failed"}[row["status"]]
        assert payload["outcome"] in ({expected, "refused"} if row["spec"] == "push"
                                      else {expected})
    outcomes = {(p["spec"], p["occurrence"]): p["outcome"] for p in by_id.values()}
    assert outcomes == {("note", 0): "done", ("hook", 0): "done", ("dead", 0): "failed",
                        ("risky", 0): "done", ("calm", 0): "done", ("plug", 0): "done",
                        ("boom", 0): "failed", ("push", 0): "refused", ("weekly", 0): "done",
                        ("weekly", 1): "done"}
    history = engine.history(project.id)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert all(e.actor == "system" for e in events)


# secrets -----------------------------------------------------------------------------------


def test_secrets_from_the_configuration_never_reach_events_errors_or_logs(
        engine: Engine, clock: MutableClock, sink: Sink, smtp: SmtpBox, tmp_path: Path,
        store_url: str, caplog: pytest.LogCaptureFixture,
        cli: Cli) -> None:
    chat_url = sink.url("/chat/url-s3cret-token")
    down_url = f"http://127.0.0.1:{free_port()}/down/down-s3cret-token"
    config = make_config(tmp_path, textwrap.dedent(f"""\
        [smtp]
        host = "{smtp.host}"
        port = {smtp.port}
        username = "bompao"
        password = "{smtp.password}"
        sender = "bompao@example.org"

        [notify]
        channels = ["log", "email", "webhook:chat"]

        [webhooks.chat]
        url = "{chat_url}"
        retries = 0
        headers = {{ Authorization = "Bearer header-s3cret" }}

        [webhooks.down]
        url = "{down_url}"
        retries = 1
        backoff = 0.01
        timeout = 2
        headers = {{ X-Api-Key = "down-header-s3cret" }}

        [people]
        Malee = "malee@example.org"
        """))
    secrets = [smtp.password, chat_url, "url-s3cret-token", "header-s3cret", down_url,
               "down-s3cret-token", "down-header-s3cret"]

    def leaky(ctx: ActionContext) -> None:
        raise RuntimeError(f"could not post to {ctx.config.webhooks['down'].url} with "
                           f"{ctx.config.webhooks['down'].headers['X-Api-Key']}")

    engine.register_action("leaky", leaky)
    key = engine.publish(journey("secrets", [
        '{id: hello, after: 1 day, action: notify, to: [coach], message: {en: "Hi"}}',
        "{id: mail, after: 1 day, action: email, to: [coach]}",
        "{id: down, after: 1 day, action: webhook, endpoint: down}",
        "{id: chat, after: 1 day, action: webhook, endpoint: chat}",
        "{id: leak, after: 1 day, action: leaky}"]))[0]
    project = engine.create_project(key, "Clinic")
    engine.assign(project.id, role="coach", person="Malee")
    caplog.set_level(logging.DEBUG)
    result = dispatch(engine, config, clock)
    assert (result.done, result.failed) == (3, 2)
    # the secrets were used where they belong...
    assert ("bompao", smtp.password) in smtp.logins
    assert {r.headers["Authorization"] for r in sink.on("/chat/url-s3cret-token")} == {
        "Bearer header-s3cret"}
    rows = follow_ups(engine, project.id)
    assert rows["down"]["last_error"].startswith("webhook 'down' failed after 2 attempts: ")
    assert rows["leak"]["last_error"] == (
        "action 'leaky' raised RuntimeError: could not post to *** with ***")
    # ...and nowhere else
    _, listed, _ = cli("--json", "--db", store_url, "followups", "list")
    _, history, _ = cli("--json", "--db", store_url, "project", "history",
                        str(project.id))
    shown = {
        "events": json.dumps([e.as_dict() for e in engine.history(project.id)], default=str),
        "follow-ups": json.dumps(engine.list_follow_ups(limit=None)),
        "outcomes": json.dumps(result.outcomes),
        "logs": caplog.text,
        "followups list": listed,
        "project history": history,
        "config repr": repr(config),
        "config redacted": json.dumps(config.redacted()),
    }
    for where, text in shown.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} shown in {where}"


@pytest.mark.parametrize("how", ["raises ActionFailed", "returns a detail"])
def test_a_plugin_cannot_leak_a_configured_secret_into_the_history(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, how: str) -> None:
    config = hook_config(tmp_path, sink, "crm")
    url = config.webhooks["crm"].url

    def crm(ctx: ActionContext) -> str:
        text = f"CRM at {ctx.config.webhooks['crm'].url} said no"
        if how == "raises ActionFailed":
            raise ActionFailed(text)
        return text

    engine.register_action("crm", crm)
    key = engine.publish(journey("crm", ["{id: sync, after: 1 day, action: crm}"]))[0]
    project = engine.create_project(key, "Clinic")
    caplog.set_level(logging.INFO, logger="bompao")
    dispatch(engine, config, clock)
    shown = json.dumps([e.payload for e in engine.history(project.id)]) + json.dumps(
        engine.list_follow_ups(limit=None)) + caplog.text
    assert url not in shown
    assert "CRM at *** said no" in shown


def test_a_person_holding_two_of_the_roles_is_notified_once(
        engine: Engine, clock: MutableClock, smtp: SmtpBox, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    key = engine.publish(journey("two-hats", [
        "{id: hello, after: 1 day, action: notify, to: [coach, program_manager]}",
        "{id: letter, after: 1 day, action: email, to: [coach, program_manager]}"]))[0]
    project = engine.create_project(key, "Clinic")
    engine.assign(project.id, role="coach", person="Malee")
    engine.assign(project.id, role="program_manager", person="Malee")
    caplog.set_level(logging.INFO, logger="bompao.notify")
    config = smtp_config(tmp_path, smtp, '\n[notify]\nchannels = ["log", "email"]\n')
    result = dispatch(engine, config, clock)
    assert result.done == 2
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bompao.notify"]
    assert line["to"] == ["Malee"]
    assert len(smtp.mails) == 2  # one per follow-up
    for mail in smtp.mails:
        assert mail.rcpt == ["malee@example.org"]
        assert mail.message["To"] == "malee@example.org"
