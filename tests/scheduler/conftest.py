"""The follow-up and scheduler tests' fixtures live in ``tests/conftest.py``.

There: the parametrised ``store_url`` (a SQLite file and a fresh PostgreSQL schema),
the ``clock`` standing at :data:`~scheduler.peers.T0`, the ``engine`` on both, the
``cli`` runner and the real peers (``sink``, ``smtp``); the helpers live in
``scheduler.peers``.
"""
