"""Schema version 3: stage visits kept by the write path; field values kept exactly.

The trigger on ``events`` goes:
Every change to projects and events now goes through one storage layer
(:mod:`bompao.storage.hotpath`), which writes the stage visit in the transaction that
appends the entry event; a row trigger per event cost more than the statements it
ran. The table, its rows and its meaning do not change.

On PostgreSQL ``projects.fields`` and ``events.payload`` become ``json`` (kept as
written) instead of ``jsonb``: ``jsonb`` stores numbers as ``numeric`` and gives a
large float such as ``3.389648377877039e+16`` back as the integer
``33896483778770390``, another number of another type. Nothing looks into them in SQL.

``ix_events_at`` goes: no query looks events up by time alone (a project's history
is read through ``(project_id, seq)``), and every appended event paid for it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bompao.storage.migrations import visit_trigger

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


_EXACT = (("projects", "fields"), ("events", "payload"))


def upgrade() -> None:
    """Drop the stage-visits trigger (and its PostgreSQL function); keep fields exactly."""
    dialect = op.get_bind().dialect.name
    for statement in visit_trigger.DROP[dialect]:
        op.execute(statement)
    op.drop_index("ix_events_at", table_name="events")
    if dialect == "postgresql":
        for table, column in _EXACT:
            op.alter_column(table, column, type_=sa.JSON(), existing_type=JSONB(),
                            postgresql_using=f"{column}::json", existing_nullable=False)


def downgrade() -> None:
    """Create the trigger of revision 0002 again; ``jsonb`` again on PostgreSQL."""
    op.create_index("ix_events_at", "events", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        for table, column in _EXACT:
            op.alter_column(table, column, type_=JSONB(), existing_type=sa.JSON(),
                            postgresql_using=f"{column}::jsonb", existing_nullable=False)
        op.execute(visit_trigger.POSTGRES_FUNCTION)
        op.execute(visit_trigger.POSTGRES_TRIGGER)
    else:
        op.execute(visit_trigger.SQLITE_TRIGGER)
