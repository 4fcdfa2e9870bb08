"""``bompao serve``: the web app and JSON API over one shared engine, and its accounts.

Modules: :mod:`.accounts` (users, passwords, API tokens), :mod:`.cli` (``bompao users``,
``bompao tokens``, ``bompao serve``), :mod:`.app` (the FastAPI app factory),
:mod:`.api` (``/api/v1``), :mod:`.security` (sessions, CSRF, headers, the login
throttle), :mod:`.problems` (errors as ``application/problem+json``). Importing this
package imports nothing heavy: the CLI loads FastAPI only for ``serve``.
"""

from __future__ import annotations

__all__: list[str] = []
