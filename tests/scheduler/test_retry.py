"""Every channel delivered, failures retried, missing configuration reported early.

Real peers: aiosmtpd for email and the HTTP sink for webhooks. ``notify`` goes
through each configured channel whatever the others do, records each outcome, and a
``followups retry`` resends only the channels that failed.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from scheduler.peers import Cli, MutableClock, Sink, SmtpBox, failing, make_config

from bompao.engine import Engine
from bompao.engine.dispatch import Dispatcher

JOURNEY = """\
journey: {key}
version: 1
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
{items}  b: {{final: true}}
transitions: [{{trigger: go, from: a, to: b}}]
"""


def journey(key: str, *items: str) -> str:
    return JOURNEY.format(key=key, items="".join(f"      - {i}\n" for i in items))


def write(tmp_path: Path, sink: Sink, smtp: SmtpBox, channels: str) -> Path:
    path = tmp_path / "ops.toml"
    path.write_text(textwrap.dedent(f"""\
        [notify]
        channels = {channels}

        [smtp]
        host = "{smtp.host}"
        port = {smtp.port}
        sender = "Bompao <bompao@incubator.example>"
        timeout = 5

        [webhooks.chat]
        url = "{sink.url('/chat')}"
        timeout = 5
        retries = 1
        backoff = 0.01

        [people]
        Malee = "malee@example.org"
        """), encoding="utf-8")
    return path


def row_of(engine: Engine, project: int) -> dict[str, Any]:
    [row] = engine.list_follow_ups(project=project)
    return row


def test_notify_tries_every_channel_records_each_and_a_retry_resends_only_the_failed(
        engine: Engine, clock: MutableClock, sink: Sink, smtp: SmtpBox, tmp_path: Path,
        store_url: str, cli: Cli) -> None:
    key = engine.publish(journey("many", '{id: hello, after: 1 day, action: notify, '
                                         'to: [coach], message: {en: "Hello"}}'))[0]
    project = engine.create_project(key, "Clinic")
    engine.assign(project.id, role="coach", person="Malee")
    # the failing webhook comes before email: it must not stop the email
    path = write(tmp_path, sink, smtp, '["log", "webhook:chat", "email"]')
    config = make_config(tmp_path, path.read_text(encoding="utf-8"), "copy.toml")
    sink.answers["/chat"] = failing(None)
    clock.tick(days=2)
    result = Dispatcher(engine, config).run_due()
    assert (result.done, result.failed) == (0, 1)
    assert len(smtp.mails) == 1
    assert len(sink.on("/chat")) == 2  # the first try and its one retry
    [event] = [e for e in engine.history(project.id) if e.kind == "follow_up"]
    channels = event.payload["channels"]
    assert channels["log"] == "done"
    assert channels["email"] == "done"
    assert channels["webhook:chat"].startswith("failed: webhook 'chat' failed after 2 attempts")
    row = row_of(engine, project.id)
    assert row["status"] == "failed"
    assert "webhook:chat" in row["last_error"]

    code, out, err = cli("--db", store_url, "--config", str(path), "followups",
                         "retry", str(row["id"]))
    assert (code, out, err) == (0, "1 follow-up pending again, due now\n", "")
    assert row_of(engine, project.id)["status"] == "pending"
    sink.answers.pop("/chat")
    clock.tick(minutes=1)
    again = Dispatcher(engine, config).run_due()
    assert (again.done, again.failed) == (1, 0)
    assert len(smtp.mails) == 1  # email went the first time: not sent again
    chat = sink.on("/chat")
    assert len(chat) == 3
    assert {r.key for r in chat} == {row["idempotency_key"]}
    last = [e for e in engine.history(project.id) if e.kind == "follow_up"][-1]
    assert last.payload["channels"] == {"log": "done", "email": "done",
                                        "webhook:chat": "done"}
    assert last.payload["detail"] == "notified Malee via webhook:chat"
    assert row_of(engine, project.id)["status"] == "done"


def test_retry_failed_filters_answers_json_and_refuses_bad_ids(
        engine: Engine, clock: MutableClock, store_url: str, tmp_path: Path,
        cli: Cli) -> None:
    key = engine.publish(journey("broken", '{id: ping, after: 1 day, action: webhook, '
                                           'endpoint: nowhere}'))[0]
    first = engine.create_project(key, "One").id
    second = engine.create_project(key, "Two").id
    done = engine.create_project(key, "Three").id
    clock.tick(days=2)
    Dispatcher(engine).run_due()
    ids = {p: row_of(engine, p)["id"] for p in (first, second, done)}
    assert {row_of(engine, p)["status"] for p in ids} == {"failed"}
    db = ("--db", store_url)
    # nothing half-written: one unknown id refuses the whole command
    code, out, err = cli(*db, "followups", "retry", str(ids[first]), "999")
    assert (code, out) == (2, "")
    assert err == ("error: no follow-up with id 999; see 'bompao followups list --status "
                   "failed'\n")
    assert row_of(engine, first)["status"] == "failed"
    code, out, err = cli(*db, "--json", "followups", "retry", "--failed",
                         "--project", str(second))
    assert (code, json.loads(out), err) == (0, [ids[second]], "")
    code, out, err = cli(*db, "followups", "retry", str(ids[second]))
    assert code == 2
    assert err == (f"error: follow-up {ids[second]} is pending, not failed; only failed "
                   "follow-ups can be retried (nothing was changed)\n")
    code, out, err = cli(*db, "followups", "retry", "--failed", "--since",
                         "2999-01-01")
    assert (code, out) == (0, "0 follow-ups pending again, due now\n")
    code, out, err = cli(*db, "--json", "followups", "retry", "--failed")
    assert (code, sorted(json.loads(out))) == (0, sorted([ids[first], ids[done]]))
    code, _, err = cli(*db, "followups", "retry")
    assert (code, err) == (2, "error: give follow-up IDs or --failed (not both)\n")


def test_follow_ups_lacking_configuration_are_reported_before_they_fail(
        store_url: str, tmp_path: Path, cli: Cli) -> None:
    journey_file = tmp_path / "hooks.yaml"
    journey_file.write_text(journey(
        "needs-config", "{id: ping, after: 1 day, action: webhook, endpoint: crm}",
        "{id: letter, after: 2 days, action: email, to: [coach]}",
        "{id: fine, after: 1 day, action: notify, to: [coach]}"), encoding="utf-8")
    config = tmp_path / "ops.toml"
    config.write_text('[webhooks.chat]\nurl = "http://127.0.0.1:9/x"\n', encoding="utf-8")
    base = ("--db", store_url, "--config", str(config))
    assert cli(*base, "init")[0] == 0
    code, out, err = cli(*base, "journeys", "publish", str(journey_file))
    assert (code, out) == (0, "published needs-config@1\n")
    assert err.splitlines() == [
        ("warning: needs-config@1 stage 'a' follow-up 'ping' (webhook) will fail: webhook "
        "endpoint 'crm' is not in the configuration ([webhooks.NAME]; configured: chat)"),
        ("warning: needs-config@1 stage 'a' follow-up 'letter' (email) will fail: email "
        "needs an SMTP server ([smtp] host)")]
    code, out, err = cli(*base, "--json", "scheduler", "status")
    assert code == 0
    assert [(p["journey"], p["follow_up"]) for p in json.loads(out)["unconfigured"]] == [
        ("needs-config@1", "ping"), ("needs-config@1", "letter")]
    code, out, err = cli(*base, "scheduler", "status")
    assert "will fail (not configured): 2" in out
    # init reports them too (every published journey)
    code, out, err = cli(*base, "init")
    assert code == 0
    assert "follow-up 'ping' (webhook) will fail" in err


@pytest.mark.parametrize(("operator", "expected"), [
    ("", "สวัสดี Clinic"),
    ('[notify]\nlanguage = "en"\n', "Hello Clinic"),
    ('[notify]\nlanguage = "th"\nlanguages = { spoken = "en" }\n', "Hello Clinic"),
], ids=["journey", "operator", "operator-per-journey"])
def test_the_message_language_comes_from_the_journey_unless_the_operator_says(
        engine: Engine, clock: MutableClock, sink: Sink, tmp_path: Path, operator: str,
        expected: str) -> None:
    text = journey("spoken", '{id: hi, after: 1 day, action: webhook, endpoint: chat, '
                             'message: {en: "Hello {{ project.name }}", '
                             'th: "สวัสดี {{ project.name }}"}}')
    key = engine.publish(text.replace("version: 1\n", "version: 1\nlanguage: th\n"))[0]
    project = engine.create_project(key, "Clinic")
    config = make_config(tmp_path, f'{operator}\n[webhooks.chat]\nurl = "{sink.url("/chat")}"\n')
    clock.tick(days=2)
    assert Dispatcher(engine, config).run_due().done == 1
    [received] = sink.on("/chat")
    assert received.body["message"] == expected
    assert received.body["project"]["id"] == project.id
