"""``/api/v1/events/stream`` against a real ``bompao serve``: Server-Sent Events of the
user's partner's projects as they are written, resumable with ``Last-Event-ID``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from web_harness import Server, new_project


@pytest.fixture(scope="module")
def streamers(server: Server) -> Server:
    server.add_user("s-a", "Stream A", "coach@cmu")
    server.add_user("s-b", "Stream B", "coach@khonkaen")
    return server


def _messages(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """SSE messages (field -> value) from the stream's lines; comments skipped."""
    message: dict[str, str] = {}
    for line in lines:
        if not line:
            if message:
                yield message
            message = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        message[name] = value.removeprefix(" ")


def _events(server: Server, user: str, count: int, *, headers: dict[str, str] | None = None,
            params: dict[str, Any] | None = None,
            then: Any = None) -> tuple[list[dict[str, str]], httpx.Response]:
    """The first ``count`` event messages ``user``'s stream gives; ``then`` runs once the
    stream has started (its ``retry`` line arrived)."""
    got: list[dict[str, str]] = []
    # not server.as_user: its recording hook reads a whole answer, and a stream never ends
    with httpx.Client(base_url=server.base, headers={
            "Authorization": f"Bearer {server.tokens[user]}"}) as client, client.stream(
            "GET", "/api/v1/events/stream", params=params, headers=headers or {},
            timeout=httpx.Timeout(30, read=20)) as answer:
        for message in _messages(answer.iter_lines()):
            if "retry" in message:
                if then is not None:
                    threading.Thread(target=then).start()
                continue
            got.append(message)
            if len(got) == count:
                break
    return got, answer


def test_the_stream_sends_new_events_of_the_users_partner_only(streamers: Server) -> None:
    with streamers.as_user("s-a") as a:
        mine = new_project(a, "Watched")

    def write() -> None:
        with streamers.as_user("s-b") as b, streamers.as_user("s-a") as a:
            other = new_project(b, "Not yours")
            b.patch(f"/api/v1/projects/{other['id']}/fields", json={"interviews_done": 1})
            a.patch(f"/api/v1/projects/{mine['id']}/fields", json={"interviews_done": 5})
            a.post(f"/api/v1/projects/{mine['id']}/evidence",
                   json={"name": "stakeholder_map", "note": "<script>x</script>\nline"})

    got, answer = _events(streamers, "s-a", 2, then=write)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["cache-control"] == "no-store"
    events = [json.loads(m["data"]) for m in got]
    assert [(e["project"], e["kind"]) for e in events] == [
        (mine["id"], "fields_set"), (mine["id"], "evidence_added")]
    assert [int(m["id"]) for m in got] == [e["id"] for e in events]
    assert events[1]["payload"]["note"] == "<script>x</script>\nline"
    with streamers.as_user("s-a") as a:
        feed = a.get("/api/v1/events", params={"after": events[0]["id"] - 1}).json()
    assert feed["items"][:2] == events


def test_last_event_id_resumes_after_it_and_wins_over_after(streamers: Server) -> None:
    with streamers.as_user("s-a") as a:
        project = new_project(a, "Resumed")
        for n in range(3):
            a.patch(f"/api/v1/projects/{project['id']}/fields", json={"interviews_done": n})
        history = a.get("/api/v1/events", params={"after": 0, "limit": 500}).json()["items"]
    ours = [e for e in history if e["project"] == project["id"]]
    assert [e["seq"] for e in ours] == [1, 2, 3, 4]
    got, _ = _events(streamers, "s-a", 2, headers={"Last-Event-ID": str(ours[1]["id"])},
                     params={"after": 0})
    assert [json.loads(m["data"])["seq"] for m in got] == [3, 4]
    from_after, _ = _events(streamers, "s-a", 1, params={"after": ours[2]["id"]})
    assert json.loads(from_after[0]["data"])["seq"] == 4


def test_the_stream_needs_credentials(streamers: Server) -> None:
    with streamers.client() as client:
        answer = client.get("/api/v1/events/stream")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
