"""Parsing, normalising and masking database URLs, and one-line connection errors."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from ..definitions.messages import Message
from ..errors import DatabaseError

__all__ = ["ACCEPTED_SCHEMES", "connect_failure", "mask", "parse_url"]

ACCEPTED_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
"""The URL schemes :func:`parse_url` accepts; ``postgresql`` and ``postgres`` (both of
which libpq accepts) mean psycopg 3."""

_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def mask(url: str | URL) -> str:
    """Return ``url`` as text with its password replaced by ``***``.

    Works on text that does not parse as a URL, too.
    """
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return _PASSWORD.sub(r"\1***@", url)


def parse_url(url: str) -> URL:
    """Parse a bompao database URL; ``postgresql://`` and ``postgres://`` become
    ``postgresql+psycopg://``.

    SQLAlchemy's ``make_url`` does the parsing as libpq would read a URI: a
    percent-encoded user or password (``%40`` for ``@``), an empty host with
    ``?host=/run/postgresql`` for a Unix socket, and query parameters such as
    ``sslmode`` pass through to the driver.

    Raises:
        DatabaseError: the URL does not parse or its scheme is not one of
            :data:`ACCEPTED_SCHEMES`.
    """
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise DatabaseError(Message("db.bad_url", url=mask(url))) from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise DatabaseError(Message("db.bad_url", url=mask(parsed)))
    return parsed.set(drivername=driver)


def connect_failure(url: URL, display: str, exc: BaseException) -> DatabaseError:
    """Build the one-line error for a database that cannot be opened.

    Args:
        url: the parsed URL (its password is scrubbed from the reason).
        display: the masked URL shown to the user.
        exc: what SQLAlchemy or the driver raised.

    Returns:
        ``DatabaseError("cannot open the database at URL: REASON")``.
    """
    reason = _reason(url, exc)
    return DatabaseError(Message("db.cannot_open_at", url=display, reason=reason))


def _reason(url: URL, exc: BaseException) -> str:
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        parent = Path(str(url.database)).parent
        if not parent.is_dir():
            return Message("db.no_directory", folder=str(parent))
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(line.strip() for line in str(orig).splitlines() if line.strip())
    if url.password:
        text = text.replace(str(url.password), "***")
    return text or type(orig).__name__
