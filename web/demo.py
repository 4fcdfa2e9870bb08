"""``bompao demo --serve``: sign-ins for the demo cohort, so the web app opens on it.

Two users whose display names are the demo's own people (so "my work" finds their
assignments): ``ploy``, the program manager of every partner, and ``malee``, a coach
and committee member. Their passwords are new random ones each time, printed once.
"""

from __future__ import annotations

import secrets

from bompao.errors import ConflictError
from bompao.storage import Database
from bompao.web.accounts import Accounts

__all__ = ["DEMO_USERS", "demo_users"]

DEMO_USERS = (("ploy", "Ploy", ("program_manager",)),
              ("malee", "Malee", ("coach", "committee")))
"""(username, display name, roles) of the demo's sign-ins."""


def demo_users(db: Database) -> list[tuple[str, str]]:
    """Create (or reset the password of) the demo's users; their names and passwords."""
    accounts = Accounts(db)
    made = []
    for username, name, roles in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        try:
            accounts.add_user(username, name, password, roles)
        except ConflictError:
            accounts.set_password(username, password)
        made.append((username, password))
    return made
