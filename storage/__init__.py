"""Storage for bompao: SQLAlchemy Core tables, a repository and Alembic migrations.

:class:`Database` opens SQLite (WAL) or PostgreSQL (psycopg 3), runs transactions and
checks or upgrades the schema; :mod:`bompao.storage.repository` holds the typed reads
and writes the engine builds on; every SQL statement of bompao is in this package.
Nothing here imports ``bompao.engine`` or the journey pipeline of
``bompao.definitions`` (only its messages, so errors speak the reader's language).
"""

from __future__ import annotations

from . import repository
from .database import Database
from .schema import SchemaStatus
from .tables import SCHEMA_VERSION, metadata
from .types import JSONType, UTCDateTime

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "JSONType",
    "SchemaStatus",
    "UTCDateTime",
    "metadata",
    "repository",
]
