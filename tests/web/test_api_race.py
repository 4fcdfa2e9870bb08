"""If-Match under a race, against a real ``bompao serve``: many clients send a change
with the same ETag at once; exactly one is applied, every other one is 412 (never a 409,
never a change applied to a state its client did not read)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from web_harness import Server, new_project, problem_of

CLIENTS = 12


@pytest.fixture(scope="module")
def racers(server: Server) -> Server:
    """A coach of cmu (one token per racing client is not needed: one user is enough)."""
    server.add_user("racer", "Racer Coach", "coach@cmu", "program_manager@cmu")
    return server


def _race(server: Server, send: Callable[[httpx.Client, int], httpx.Response]
          ) -> list[httpx.Response]:
    """Run ``send`` from :data:`CLIENTS` threads released together; their answers."""
    barrier = threading.Barrier(CLIENTS)
    answers: list[httpx.Response | BaseException] = [RuntimeError("not run")] * CLIENTS

    def run(index: int) -> None:
        with server.as_user("racer") as client:
            client.get("/healthz")  # connect before the start line
            barrier.wait()
            try:
                answers[index] = send(client, index)
            except BaseException as exc:
                answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failed = [a for a in answers if isinstance(a, BaseException)]
    assert not failed, failed
    return [a for a in answers if isinstance(a, httpx.Response)]


def _ready(client: httpx.Client) -> dict[str, Any]:
    project = new_project(client, "Ready to validate")
    url = f"/api/v1/projects/{project['id']}"
    client.patch(f"{url}/fields", json={"problem_statement": "Plastic in the Ping river"})
    client.post(f"{url}/evidence", json={"name": "stakeholder_map", "note": "map"})
    answer = client.post(f"{url}/approvals", json={"role": "coach"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_racing_patches_with_one_etag_one_wins_the_rest_are_412(racers: Server) -> None:
    with racers.as_user("racer") as client:
        project = new_project(client, "Raced fields")
    url = f"/api/v1/projects/{project['id']}"
    answers = _race(racers, lambda c, i: c.patch(f"{url}/fields", json={
        "interviews_done": 100 + i}, headers={"If-Match": '"1"'}))
    assert Counter(a.status_code for a in answers) == {200: 1, 412: CLIENTS - 1}
    [winner] = [a for a in answers if a.status_code == 200]
    for loser in (a for a in answers if a.status_code == 412):
        assert problem_of(loser).startswith(f"project {project['id']} has changed: it is at "
                                            "version 2, not 1")
    with racers.as_user("racer") as client:
        after = client.get(url)
        history = client.get(f"{url}/history").json()
    assert after.headers["etag"] == '"2"' == winner.headers["etag"]
    assert after.json()["fields"]["interviews_done"] == winner.json()["fields"][
        "interviews_done"]
    assert [e["kind"] for e in history] == ["created", "fields_set"]


def test_racing_advances_and_patches_with_one_etag_one_wins(racers: Server) -> None:
    with racers.as_user("racer") as client:
        project = _ready(client)
    url = f"/api/v1/projects/{project['id']}"
    etag = f'"{project["lock_version"]}"'

    def send(client: httpx.Client, index: int) -> httpx.Response:
        if index % 2:
            return client.post(f"{url}/advance", json={"trigger": "validate"},
                               headers={"If-Match": etag})
        return client.patch(f"{url}/fields", json={"interviews_done": index},
                            headers={"If-Match": etag})

    answers = _race(racers, send)
    assert Counter(a.status_code for a in answers) == {200: 1, 412: CLIENTS - 1}
    with racers.as_user("racer") as client:
        history = client.get(f"{url}/history").json()
        after = client.get(url).json()
    assert len(history) == project["lock_version"] + 1
    assert after["lock_version"] == project["lock_version"] + 1
    [winner] = [a for a in answers if a.status_code == 200]
    assert winner.json() == after


def test_racing_advances_without_if_match_are_409_not_412(racers: Server) -> None:
    """The contrast: without If-Match the losers find the stage moved on (409)."""
    with racers.as_user("racer") as client:
        project = _ready(client)
    url = f"/api/v1/projects/{project['id']}"
    answers = _race(racers, lambda c, i: c.post(f"{url}/advance",
                                                json={"trigger": "validate"}))
    assert Counter(a.status_code for a in answers) == {200: 1, 409: CLIENTS - 1}


def test_a_weak_or_foreign_etag_never_matches(racers: Server) -> None:
    with racers.as_user("racer") as client:
        project = new_project(client, "Strong only")
        url = f"/api/v1/projects/{project['id']}/fields"
        weak = client.patch(url, json={"interviews_done": 1}, headers={"If-Match": 'W/"1"'})
        foreign = client.patch(url, json={"interviews_done": 1}, headers={"If-Match": '"x"'})
        listed = client.patch(url, json={"interviews_done": 2},
                              headers={"If-Match": '"7", "1"'})
        star = client.patch(url, json={"interviews_done": 3}, headers={"If-Match": "*"})
    assert (weak.status_code, foreign.status_code) == (412, 412)
    assert problem_of(weak) == (f"If-Match 'W/\"1\"' names no version of project "
                                f'{project["id"]}: send the ETag last read, e.g. "1"')
    assert (listed.status_code, listed.headers["etag"]) == (200, '"2"')
    assert (star.status_code, star.json()["fields"]["interviews_done"]) == (200, 3)
