"""``bompao users`` and ``bompao tokens``: accounts stored hashed, shown once, mapped to
the engine's actor; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from bompao.cli import main
from bompao.engine.actor import Actor
from bompao.storage import Database
from bompao.web.accounts import Accounts, parse_roles

PASSWORD = "a long enough passphrase"


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def url(db: Database, store_url: str) -> str:
    return store_url


def _stored(db_url: str, sql: str) -> list[tuple[object, ...]]:
    database = Database.from_url(db_url)
    try:
        with database.begin(write=False) as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        database.dispose()


def test_users_add_stores_an_argon2_hash_and_never_shows_it(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, monkeypatch, "--db", url, "--json", "users", "add", "Malee",
                         "--name", " Malee  Srisuk ", "--role", "coach@cmu", "--role",
                         "committee@cmu", "--email", "m@example.org", "--password-stdin",
                         stdin=PASSWORD + "\n")
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown == {"username": "malee", "name": "Malee Srisuk", "email": "m@example.org",
                     "roles": ["coach@cmu", "committee@cmu"], "partner": "cmu",
                     "disabled": False, "created_at": shown["created_at"]}
    [(stored,)] = _stored(url, "SELECT password_hash FROM users")
    assert str(stored).startswith("$argon2id$")
    assert PasswordHasher().verify(str(stored), PASSWORD)
    code, out, _ = run(capsys, monkeypatch, "--db", url, "--json", "users", "list")
    assert code == 0
    assert [u["username"] for u in json.loads(out)] == ["malee"]
    assert "argon2" not in out
    assert PASSWORD not in out


def test_the_password_prompt_asks_twice_and_refuses_a_mismatch(url: str) -> None:
    def add(name: str, typed: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bompao.cli", "--db", url, "users", "add",
                               name, "--name", name.title(), "--role", "coach"],
                              input=typed, capture_output=True, text=True, timeout=60,
                              check=False)

    good = add("anan", f"{PASSWORD}\n{PASSWORD}\n")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip().endswith("added user anan (Anan)")
    bad = add("bua", f"{PASSWORD}\nsomething else entirely\n")
    assert bad.returncode != 0
    assert PASSWORD not in bad.stdout + bad.stderr
    assert [r[0] for r in _stored(url, "SELECT username FROM users")] == ["anan"]


@pytest.mark.parametrize(("args", "stdin", "code", "message"), [
    (["--role", "Coach"], PASSWORD, 2, ("error: bad role 'Coach': write ROLE or ROLE@PARTNER "
                                       "in lowercase, e.g. coach@cmu or program_manager")),
    (["--role", "coach@cmu", "--role", "coach@khonkaen"], PASSWORD, 2,
     ("error: the roles name several scopes (cmu, khonkaen); a user acts for one partner or "
     "for every partner: create one user per partner")),
    (["--role", "coach"], "too short", 2,
     "error: a password needs 12 to 1024 characters; this one has 9"),
], ids=["bad-role", "two-partners", "short-password"])
def test_bad_accounts_are_refused_and_nothing_is_stored(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        args: list[str], stdin: str, code: int, message: str) -> None:
    result = run(capsys, monkeypatch, "--db", url, "users", "add", "x", "--name", "X", *args,
                 "--password-stdin", stdin=stdin + "\n")
    assert result == (code, "", message + "\n")
    assert _stored(url, "SELECT username FROM users") == []


def test_a_taken_username_is_refused(url: str, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    add = ("--db", url, "users", "add", "Anan", "--name", "Anan", "--password-stdin")
    assert run(capsys, monkeypatch, *add, stdin=PASSWORD)[0] == 0
    assert run(capsys, monkeypatch, *add, stdin=PASSWORD) == (
        1, "", "error: user 'anan' already exists\n")


def test_tokens_are_shown_once_stored_as_sha256_and_revocable(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    run(capsys, monkeypatch, "--db", url, "users", "add", "anan", "--name", "Anan",
        "--role", "coach@cmu", "--password-stdin", stdin=PASSWORD)
    code, out, _ = run(capsys, monkeypatch, "--db", url, "--json", "tokens", "create", "anan",
                       "--name", "crm")
    assert code == 0
    created = json.loads(out)
    token = created["token"]
    assert token.startswith("bompao_")
    assert len(token) > 40
    assert _stored(url, "SELECT token_hash FROM api_tokens") == [
        (hashlib.sha256(token.encode()).hexdigest(),)]
    accounts = Accounts(Database.from_url(url))
    assert accounts.token_user(token).username == "anan"
    code, out, _ = run(capsys, monkeypatch, "--db", url, "--json", "tokens", "list")
    listed = json.loads(out)
    assert [(t["id"], t["user"], t["name"]) for t in listed] == [(created["id"], "anan", "crm")]
    assert listed[0]["last_used_at"] is not None
    assert token not in out
    assert run(capsys, monkeypatch, "--db", url, "tokens", "revoke", str(created["id"]))[0] == 0
    assert accounts.token_user(token) is None
    assert run(capsys, monkeypatch, "--db", url, "tokens", "revoke", str(created["id"])) == (
        2, "", f"error: no live API token with id {created['id']}\n")
    accounts.db.dispose()


def test_disable_and_passwd_decide_who_signs_in(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    run(capsys, monkeypatch, "--db", url, "users", "add", "anan", "--name", "Anan",
        "--password-stdin", stdin=PASSWORD)
    accounts = Accounts(Database.from_url(url))
    _, token = accounts.create_token("anan")
    assert accounts.authenticate("ANAN", PASSWORD) is not None
    assert accounts.authenticate("anan", PASSWORD + "x") is None
    assert run(capsys, monkeypatch, "--db", url, "users", "disable", "anan")[0] == 0
    assert accounts.authenticate("anan", PASSWORD) is None
    assert accounts.token_user(token) is None
    assert run(capsys, monkeypatch, "--db", url, "users", "disable", "anan", "--enable")[0] == 0
    new = "another long passphrase"
    assert run(capsys, monkeypatch, "--db", url, "users", "passwd", "anan", "--password-stdin",
               stdin=new + "\n") == (0, "password changed for anan\n", "")
    assert accounts.authenticate("anan", PASSWORD) is None
    assert accounts.authenticate("anan", new) is not None
    assert run(capsys, monkeypatch, "--db", url, "users", "passwd", "nobody",
               "--password-stdin", stdin=new) == (2, "", "error: no user 'nobody'\n")
    accounts.db.dispose()


def test_account_commands_are_refused_under_a_partner_scope(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, monkeypatch, "--db", url, "--partner", "cmu", "users", "list")
    assert code == 2
    assert err.startswith("error: 'bompao users list' acts for every partner")


@pytest.mark.parametrize(("roles", "actor"), [
    (["coach@cmu", "committee@cmu"], Actor("Anan", {"coach", "committee"}, "cmu")),
    (["program_manager"], Actor("Anan", {"program_manager"}, None)),
    ([], Actor("Anan", (), None)),
])
def test_a_user_is_the_engines_actor(url: str, roles: list[str], actor: Actor) -> None:
    accounts = Accounts(Database.from_url(url), hasher=PasswordHasher(time_cost=1,
                                                                      memory_cost=8192))
    user = accounts.add_user("anan", "Anan", PASSWORD, roles)
    assert user.actor() == actor
    assert parse_roles(roles)[1] == actor.partner
    accounts.db.dispose()
