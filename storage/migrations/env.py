"""Alembic environment for bompao.

bompao runs Alembic programmatically (there is no ``alembic.ini``):
:func:`bompao.storage.schema.alembic_config` passes an open connection, already
inside a transaction, in ``config.attributes["connection"]`` and the tables'
``MetaData`` in ``config.attributes["target_metadata"]`` (used only by
autogenerate). The migrations run inside the caller's transaction; SQLite gets
``render_as_batch`` so later ``ALTER``\\ s work there.

This file is loaded by Alembic from its path, not imported as part of the package,
so it imports nothing from ``bompao``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def _run() -> None:
    attributes = context.config.attributes
    connection = attributes.get("connection")
    if not isinstance(connection, Connection):
        raise TypeError(
            "bompao migrations run through bompao.storage.Database.upgrade(), "
            "which passes config.attributes['connection']"
        )
    context.configure(
        connection=connection,
        target_metadata=attributes.get("target_metadata"),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
