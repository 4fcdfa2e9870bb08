"""Alembic migrations for the bompao schema, run programmatically by ``Database.upgrade``.

There is no ``alembic.ini``: :meth:`bompao.storage.Database.upgrade` builds an
Alembic ``Config`` whose ``script_location`` is this folder and passes its open
connection in ``config.attributes["connection"]``.
"""
