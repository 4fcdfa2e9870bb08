"""What state a database's schema is in, and running the Alembic migrations.

The state combines Alembic's revision (``alembic_version``) with the
``schema_version`` row in ``bompao_meta``:

- ``empty``: no tables at all.
- ``current``: at this bompao's head revision and :data:`SCHEMA_VERSION`.
- ``outdated``: an older revision or schema version; ``bompao init`` upgrades it.
- ``newer``: a revision this bompao does not know, or a bigger schema version.
- ``foreign``: tables exist, but neither ``bompao_meta`` nor a bompao revision.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from .tables import SCHEMA_VERSION, bompao_meta, metadata

__all__ = [
    "MIGRATIONS",
    "SchemaState",
    "SchemaStatus",
    "alembic_config",
    "head_revision",
    "inspect_schema",
    "run_migrations",
    "write_schema_version",
]

SchemaStatus = Literal["empty", "current", "outdated", "newer", "foreign"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The Alembic script folder shipped inside the package."""

_VERSION_KEY = "schema_version"


@dataclass(frozen=True, slots=True)
class SchemaState:
    """A database's schema as found, with what it was compared against.

    Attributes:
        status: the verdict.
        version: the ``schema_version`` stored, or ``None`` when absent or unreadable.
        revisions: Alembic revisions stored (usually one, empty when none).
        tables: every table name found.
    """

    status: SchemaStatus
    version: int | None
    revisions: tuple[str, ...]
    tables: tuple[str, ...]

    @property
    def revision_text(self) -> str:
        """The stored revision(s) as text, ``none`` when there is none."""
        return ", ".join(self.revisions) or "none"

    @property
    def version_text(self) -> str:
        """The stored schema version as text, ``unknown`` when there is none."""
        return "unknown" if self.version is None else str(self.version)


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def head_revision() -> str:
    """Return the newest Alembic revision this bompao ships.

    Raises:
        RuntimeError: the installed package has no migrations (a broken install).
    """
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions in {MIGRATIONS}")
    return head


def inspect_schema(conn: Connection) -> SchemaState:
    """Find out what state the schema reached through ``conn`` is in.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database could not be read.
    """
    tables = tuple(sorted(sa.inspect(conn).get_table_names()))
    revisions: tuple[str, ...] = ()
    if "alembic_version" in tables:
        revisions = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    version = _stored_version(conn) if "bompao_meta" in tables else None
    known = all(rev in _known_revisions() for rev in revisions)

    def state(status: SchemaStatus) -> SchemaState:
        return SchemaState(status, version, revisions, tables)

    if not tables or (tables == ("alembic_version",) and not revisions):
        return state("empty")
    if "bompao_meta" not in tables and (not revisions or not known):
        return state("foreign")
    if not known or (version is not None and version > SCHEMA_VERSION):
        return state("newer")
    if revisions == (head_revision(),) and version == SCHEMA_VERSION:
        return state("current")
    return state("outdated")


def _stored_version(conn: Connection) -> int | None:
    query = sa.select(bompao_meta.c.value).where(bompao_meta.c.key == _VERSION_KEY)
    value = conn.execute(query).scalar_one_or_none()
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def alembic_config(conn: Connection) -> Config:
    """Return an Alembic ``Config`` for the shipped migrations, bound to ``conn``.

    Use it for any Alembic command, for example when writing a new migration::

        with database.begin() as conn:
            command.revision(alembic_config(conn), "add x", autogenerate=True)
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    config.attributes["target_metadata"] = metadata
    return config


def run_migrations(conn: Connection) -> None:
    """Upgrade the schema reached through ``conn`` to the head revision.

    ``conn`` must already be in a transaction; the migrations run inside it.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: a migration statement failed.
        alembic.util.CommandError: Alembic could not plan the upgrade.
    """
    command.upgrade(alembic_config(conn), "head")


def write_schema_version(conn: Connection, version: int = SCHEMA_VERSION) -> None:
    """Store ``version`` as the database's ``schema_version``.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the write failed.
    """
    conn.execute(sa.delete(bompao_meta).where(bompao_meta.c.key == _VERSION_KEY))
    conn.execute(sa.insert(bompao_meta).values(key=_VERSION_KEY, value=str(version)))
