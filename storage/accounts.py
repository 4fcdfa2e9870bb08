"""Users, API tokens and calendar feed tokens of ``bompao serve``: SQLAlchemy Core on an
open ``Connection``.

Only stored values pass through here: a password arrives already hashed (Argon2id, by
:mod:`bompao.web.accounts`) and a token as its SHA-256. Nothing here hashes, checks or
prints a secret. The caller owns the transaction (:meth:`bompao.storage.Database.begin`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from .tables import api_tokens, feed_tokens, throttle_hits, users

__all__ = [
    "feed_owner",
    "get_user",
    "insert_feed_token",
    "insert_token",
    "insert_user",
    "list_tokens",
    "list_users",
    "revoke_feed_tokens",
    "revoke_token",
    "throttle_add",
    "throttle_forget",
    "throttle_prune",
    "throttle_recent",
    "token_owner",
    "touch_token",
    "update_user",
]


def insert_user(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert a user (``username``, ``display_name``, ``email``, ``password_hash``,
    ``roles``, ``created_at``) and return its id.

    Raises:
        sqlalchemy.exc.IntegrityError: the username is taken (``Database.begin`` turns
            it into a ``ConflictError``).
    """
    statement = sa.insert(users).values(dict(values)).returning(users.c.id)
    return int(conn.execute(statement).scalar_one())


def get_user(conn: Connection, username: str | None = None, *,
             user_id: int | None = None) -> Row[Any] | None:
    """The user with this username (or id), or ``None``."""
    query = sa.select(users)
    query = query.where(users.c.id == user_id) if user_id is not None \
        else query.where(users.c.username == username)
    return conn.execute(query).first()


def list_users(conn: Connection) -> list[Row[Any]]:
    """Every user, by username."""
    return list(conn.execute(sa.select(users).order_by(users.c.username)))


def update_user(conn: Connection, username: str, values: Mapping[str, Any]) -> bool:
    """Change a user's columns (``disabled``, ``password_hash``, ...); whether it exists."""
    statement = sa.update(users).where(users.c.username == username).values(dict(values))
    return conn.execute(statement).rowcount == 1


def insert_token(conn: Connection, values: Mapping[str, Any]) -> int:
    """Store a token (``user_id``, ``name``, ``token_hash``, ``created_at``); its id."""
    statement = sa.insert(api_tokens).values(dict(values)).returning(api_tokens.c.id)
    return int(conn.execute(statement).scalar_one())


def token_owner(conn: Connection, token_hash: str) -> Row[Any] | None:
    """The live (not revoked) token with this hash joined to its user, or ``None``.

    The row has the user's columns, ``token_id`` and ``token_last_used``.
    """
    query = (sa.select(users, api_tokens.c.id.label("token_id"),
                       api_tokens.c.last_used_at.label("token_last_used"))
             .join(api_tokens, api_tokens.c.user_id == users.c.id)
             .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)))
    return conn.execute(query).first()


def touch_token(conn: Connection, token_id: int, when: datetime) -> None:
    """Record that a token was used at ``when``."""
    conn.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id)
                 .values(last_used_at=when))


def list_tokens(conn: Connection, user_id: int | None = None) -> list[Row[Any]]:
    """Tokens (never their hashes' owners' secrets: only the stored columns), by id."""
    query = (sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at,
                       api_tokens.c.last_used_at, api_tokens.c.revoked_at,
                       users.c.username)
             .join(users, users.c.id == api_tokens.c.user_id).order_by(api_tokens.c.id))
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    return list(conn.execute(query))


def revoke_token(conn: Connection, token_id: int, when: datetime) -> bool:
    """Revoke a live token; whether one was revoked."""
    statement = (sa.update(api_tokens)
                 .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=when))
    return conn.execute(statement).rowcount == 1


def insert_feed_token(conn: Connection, user_id: int, token_hash: str, when: datetime) -> int:
    """Store a calendar feed token's hash for ``user_id``; its id."""
    statement = sa.insert(feed_tokens).values(user_id=user_id, token_hash=token_hash,
                                              created_at=when).returning(feed_tokens.c.id)
    return int(conn.execute(statement).scalar_one())


def revoke_feed_tokens(conn: Connection, user_id: int, when: datetime) -> int:
    """Revoke every live feed token of ``user_id``; how many."""
    statement = (sa.update(feed_tokens)
                 .where(feed_tokens.c.user_id == user_id, feed_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=when))
    return int(conn.execute(statement).rowcount)


def feed_owner(conn: Connection, token_hash: str) -> Row[Any] | None:
    """The user of the live feed token with this hash, or ``None``."""
    query = (sa.select(users)
             .join(feed_tokens, feed_tokens.c.user_id == users.c.id)
             .where(feed_tokens.c.token_hash == token_hash,
                    feed_tokens.c.revoked_at.is_(None)))
    return conn.execute(query).first()


def throttle_recent(conn: Connection, keys: Sequence[str], since: datetime
                    ) -> dict[str, tuple[int, datetime]]:
    """Per key of ``keys`` with attempts after ``since``: their count and the oldest."""
    t = throttle_hits
    rows = conn.execute(sa.select(t.c.key, sa.func.count(), sa.func.min(t.c.at))
                        .where(t.c.key.in_(list(keys)), t.c.at > since).group_by(t.c.key))
    return {row[0]: (int(row[1]), row[2]) for row in rows}


def throttle_add(conn: Connection, keys: Sequence[str], at: datetime) -> None:
    """Count one attempt at ``at`` against each key."""
    conn.execute(sa.insert(throttle_hits), [{"key": key, "at": at} for key in keys])


def throttle_forget(conn: Connection, key: str) -> None:
    """Forget every attempt of ``key``."""
    conn.execute(sa.delete(throttle_hits).where(throttle_hits.c.key == key))


def throttle_prune(conn: Connection, prefix: str, before: datetime) -> int:
    """Delete the attempts of keys starting with ``prefix`` at or before ``before``;
    how many."""
    t = throttle_hits
    return conn.execute(sa.delete(t).where(t.c.key.startswith(prefix, autoescape=True),
                                           t.c.at <= before)).rowcount
