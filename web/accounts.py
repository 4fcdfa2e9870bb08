"""Users, passwords and API tokens: who may sign in, and the :class:`Actor` each one is.

A user's roles are ``ROLE@PARTNER`` (``coach@cmu``: a coach of partner cmu's projects)
or a bare ``ROLE`` (``program_manager``: at every partner). One user acts for one
partner or for all, so a user's roles name one partner or none. The engine's roles and
partner scopes then decide everything: the web app only turns a user into an
``Actor(display_name, roles, partner)``.

Passwords are hashed with Argon2id (argon2-cffi); a wrong password, an unknown user
and a disabled user cost the same hash and give the same answer. API tokens are 256
random bits shown once; only their SHA-256 is stored (a fast hash is enough for a
secret that cannot be guessed, and lets a request find its token by index).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bompao.engine.actor import Actor, clean_name
from bompao.errors import ConflictError, InvalidValue, NotFound
from bompao.storage import Database
from bompao.storage import accounts as rows

__all__ = ["TOKEN_PREFIX", "Accounts", "User", "parse_roles"]

TOKEN_PREFIX = "bompao_"  # noqa: S105 - a public prefix, not a secret
"""What every API token starts with (so a leaked one is easy to recognise and scan for)."""
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ROLE = re.compile(r"^([a-z][a-z0-9_-]*)(?:@([a-z0-9][a-z0-9_-]*))?$")
_TOUCH_EVERY = timedelta(minutes=1)
"""A token's ``last_used_at`` is written at most this often (not on every request)."""


def parse_roles(roles: Iterable[str]) -> tuple[tuple[str, ...], str | None]:
    """The role names and the one partner of ``ROLE[@PARTNER]`` strings.

    Raises:
        InvalidValue: a malformed role, or roles at two partners (or at one and at all).
    """
    names: list[str] = []
    partners: set[str | None] = set()
    for text in roles:
        match = _ROLE.match(text.strip())
        if match is None:
            raise InvalidValue(f"bad role {text!r}: write ROLE or ROLE@PARTNER in lowercase, "
                               "e.g. coach@cmu or program_manager")
        names.append(match.group(1))
        partners.add(match.group(2))
    if len(partners) > 1:
        shown = ", ".join(sorted(p or "every partner" for p in partners))
        raise InvalidValue(f"the roles name several scopes ({shown}); a user acts for one "
                           "partner or for every partner: create one user per partner")
    return tuple(dict.fromkeys(names)), next(iter(partners), None)


@dataclass(frozen=True)
class User:
    """A user as stored, without the password hash."""

    id: int
    username: str
    display_name: str
    email: str | None
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> User:
        """The user of a ``users`` row."""
        return cls(row.id, row.username, row.display_name, row.email, tuple(row.roles),
                   bool(row.disabled), row.created_at)

    def actor(self) -> Actor:
        """The engine's actor for this user: display name, roles, partner scope.

        Raises:
            InvalidValue: as :func:`parse_roles`.
        """
        return self._actor

    @cached_property
    def _actor(self) -> Actor:
        # built once per User (the token cache keeps one per token): both are frozen
        names, partner = parse_roles(self.roles)
        return Actor(self.display_name, roles=names, partner=partner)

    @property
    def partner(self) -> str | None:
        """The partner whose projects this user sees (``None``: every partner).

        Raises:
            InvalidValue: as :func:`parse_roles`.
        """
        return self._actor.partner

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (no secret)."""
        return {"username": self.username, "name": self.display_name, "email": self.email,
                "roles": list(self.roles), "partner": self.partner,
                "disabled": self.disabled, "created_at": self.created_at.isoformat()}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """Users and tokens stored in one database.

    Args:
        db: the database (at the current schema).
        clock: the current aware time.
        hasher: the Argon2 hasher (tests may pass cheaper parameters).
    """

    def __init__(self, db: Database, *, clock: Callable[[], datetime] | None = None,
                 hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.clock = clock or _utc_now
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    # users ---------------------------------------------------------------------------------

    def _password_hash(self, password: str) -> str:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidValue(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} "
                               f"characters; this one has {len(password)}")
        return self.hasher.hash(password)

    def add_user(self, username: str, display_name: str, password: str, roles: Iterable[str],
                 email: str | None = None) -> User:
        """Create a user.

        Raises:
            InvalidValue: a bad username, name, role or password (too short or too long).
            ConflictError: the username is taken.
        """
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise InvalidValue(f"bad username {username!r}: use 1 to 64 of a-z 0-9 . _ - "
                               "starting with a letter or digit")
        name = clean_name(display_name)
        if not name or len(name) > 200:
            raise InvalidValue("a user needs a name (--name) of at most 200 characters")
        roles = tuple(r.strip() for r in roles)
        parse_roles(roles)
        values = {"username": username, "display_name": name, "email": email or None,
                  "password_hash": self._password_hash(password), "roles": list(roles),
                  "disabled": False, "created_at": self.clock()}
        with self.db.begin() as conn:
            if rows.get_user(conn, username) is not None:
                raise ConflictError(f"user {username!r} already exists")
            user_id = rows.insert_user(conn, values)
            row = rows.get_user(conn, user_id=user_id)
        return User.from_row(row)

    def get(self, username: str) -> User:
        """The user named ``username``.

        Raises:
            NotFound: no such user.
        """
        with self.db.begin(write=False) as conn:
            row = rows.get_user(conn, username.strip().lower())
        if row is None:
            raise NotFound(f"no user {username!r}")
        return User.from_row(row)

    def by_id(self, user_id: int) -> User | None:
        """The user with this id, or ``None``."""
        with self.db.begin(write=False) as conn:
            row = rows.get_user(conn, user_id=user_id)
        return None if row is None else User.from_row(row)

    def all_users(self) -> list[User]:
        """Every user, by username."""
        with self.db.begin(write=False) as conn:
            return [User.from_row(row) for row in rows.list_users(conn)]

    def set_disabled(self, username: str, disabled: bool = True) -> User:
        """Disable (or enable) a user: a disabled user cannot sign in, and their tokens
        stop working.

        Raises:
            NotFound: no such user.
        """
        with self.db.begin() as conn:
            if not rows.update_user(conn, username.strip().lower(), {"disabled": disabled}):
                raise NotFound(f"no user {username!r}")
        return self.get(username)

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password.

        Raises:
            NotFound: no such user.
            InvalidValue: the password is too short or too long.
        """
        hashed = self._password_hash(password)
        with self.db.begin() as conn:
            if not rows.update_user(conn, username.strip().lower(), {"password_hash": hashed}):
                raise NotFound(f"no user {username!r}")

    def authenticate(self, username: str, password: str) -> User | None:
        """The user whose name and password these are, if they may sign in, else ``None``.

        An unknown name still costs one Argon2 verification, so timing does not tell
        which names exist. A hash made with older parameters is rehashed.
        """
        with self.db.begin(write=False) as conn:
            row = rows.get_user(conn, username.strip().lower())
        stored = row.password_hash if row is not None else self._dummy
        try:
            self.hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self.db.begin() as conn:
                rows.update_user(conn, row.username,
                                 {"password_hash": self.hasher.hash(password)})
        return User.from_row(row)

    # tokens --------------------------------------------------------------------------------

    def create_token(self, username: str, name: str = "api") -> tuple[int, str]:
        """A new API token for ``username``: its id and the token, which is not stored.

        Raises:
            NotFound: no such user.
        """
        user = self.get(username)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.begin() as conn:
            token_id = rows.insert_token(conn, {"user_id": user.id, "name": name.strip() or "api",
                                                "token_hash": _digest(token),
                                                "created_at": self.clock()})
        return token_id, token

    def tokens(self, username: str | None = None) -> list[dict[str, Any]]:
        """Tokens (id, user, name, created, last used, revoked), never the tokens."""
        user_id = self.get(username).id if username else None
        with self.db.begin(write=False) as conn:
            found = rows.list_tokens(conn, user_id)
        return [{"id": t.id, "user": t.username, "name": t.name,
                 "created_at": t.created_at.isoformat(),
                 "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                 "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
                for t in found]

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token.

        Raises:
            NotFound: no live token with this id.
        """
        with self.db.begin() as conn:
            if not rows.revoke_token(conn, token_id, self.clock()):
                raise NotFound(f"no live API token with id {token_id}")

    def token_user(self, token: str) -> User | None:
        """The enabled user a bearer token belongs to, or ``None``; records its use."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self.db.begin(write=False) as conn:
            row = rows.token_owner(conn, _digest(token))
        if row is None or row.disabled:
            return None
        now = self.clock()
        if row.token_last_used is None or now - row.token_last_used >= _TOUCH_EVERY:
            with self.db.begin() as conn:
                rows.touch_token(conn, row.token_id, now)
        return User.from_row(row)
