"""Applications received by the public form and inbound webhooks: the reference an
applicant follows each with, and each webhook delivery's id.

:func:`insert_receipt` runs on the import's DBAPI cursor (inside the transaction that
creates the project, :func:`bompao.engine.transfer.import_projects`'s ``within``), so
the project and its receipt are written together or not at all; the readers take an
open SQLAlchemy ``Connection``. The unique ``(source, delivery_id)`` makes two
deliveries of one id, even at the same moment, create one project: the second waits
for the first's commit (PostgreSQL) or its write lock (SQLite), inserts nothing, and
its transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .hotpath import HotPath
from .tables import application_receipts, projects

__all__ = ["RECEIPT_COLUMNS", "insert_receipt", "receipt_by_delivery", "receipt_by_reference"]

RECEIPT_COLUMNS = ("reference", "project_id", "journey_key", "source", "delivery_id",
                   "received_at")
"""What :func:`insert_receipt` needs."""


def insert_receipt(hot: HotPath, cursor: Any, values: Mapping[str, Any]) -> bool:
    """Record a received application in ``cursor``'s transaction.

    Returns:
        False when ``(source, delivery_id)`` is already recorded (nothing inserted);
        the caller rolls its transaction back.

    Raises:
        KeyError: a column of :data:`RECEIPT_COLUMNS` is missing.
    """
    marks = ", ".join(hot.mark for _ in RECEIPT_COLUMNS)
    sql = ("INSERT INTO application_receipts (reference, project_id, journey_key, source, "  # noqa: S608 - marks only
           f"delivery_id, received_at) VALUES ({marks}) "
           "ON CONFLICT (source, delivery_id) DO NOTHING")
    cursor.execute(sql, tuple(hot.encode(c, values[c]) for c in RECEIPT_COLUMNS))
    return int(cursor.rowcount) == 1


def receipt_by_delivery(conn: Connection, source: str, delivery_id: str) -> Any:
    """The receipt of a delivery (``reference``, ``project_id``), or ``None``."""
    table = application_receipts
    row: Any = conn.execute(sa.select(table.c.reference, table.c.project_id)
                        .where(table.c.source == source,
                               table.c.delivery_id == delivery_id)).first()
    return row


def receipt_by_reference(conn: Connection, reference: str) -> Any:
    """The application a reference follows: ``project_id``, ``journey_key`` and the
    project's ``stage`` and ``journey_version``; ``None`` for an unknown reference."""
    table = application_receipts
    row: Any = conn.execute(
        sa.select(table.c.project_id, table.c.journey_key, table.c.received_at,
                  projects.c.stage, projects.c.journey_version)
        .join(projects, projects.c.id == table.c.project_id)
        .where(table.c.reference == reference)).first()
    return row
