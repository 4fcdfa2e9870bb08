"""``bompao users``, ``bompao tokens`` and ``bompao serve``: thin click commands.

The global options arrive as ``click``'s context object (``bompao.cli.Context``: ``db``,
``config``, ``as_json``, ``emit``, ``unscoped``); this module does not import
``bompao.cli``, so ``python -m bompao.cli`` sees one ``Context`` class. Passwords are
read from a prompt (twice, hidden) or with ``--password-stdin`` from one line of
standard input, never from the command line.
"""

from __future__ import annotations

import sys
from typing import Any

import click

__all__ = ["register", "serve", "tokens", "users"]


def _accounts(ctx: Any) -> Any:
    from bompao.storage import Database  # noqa: PLC0415 - SQLAlchemy only when needed
    from bompao.web.accounts import Accounts  # noqa: PLC0415

    db = Database.from_url(ctx.db)
    db.require_current()
    return Accounts(db)


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, else a hidden prompt typed twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _user_line(user: Any) -> str:
    state = "disabled" if user.disabled else "active"
    return (f"{user.username}\t{user.display_name}\t{','.join(user.roles) or '-'}\t"
            f"{user.email or '-'}\t{state}")


@click.group()
def users() -> None:
    """Accounts of the web app: who signs in, with which roles at which partner."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True,
              help="The name recorded in history (approvals, changes).")
@click.option("--email", default=None, help="The user's email address.")
@click.option("--role", "roles", multiple=True, metavar="ROLE[@PARTNER]",
              help="A journey role, at one partner (coach@cmu) or at every partner "
              "(program_manager); repeatable. A user's roles name one partner or none.")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of "
              "standard input instead of a prompt.")
@click.pass_obj
def users_add(ctx: Any, username: str, display_name: str, email: str | None,
              roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user (the password is asked for, or read with --password-stdin)."""
    ctx.unscoped("users add")
    accounts = _accounts(ctx)
    from bompao.web.accounts import parse_roles  # noqa: PLC0415

    parse_roles(roles)  # refuse bad roles before asking for a password
    user = accounts.add_user(username, display_name, _password(password_stdin), roles, email)
    ctx.emit(user.as_dict(), f"added user {user.username} ({user.display_name})")


@users.command("list")
@click.pass_obj
def users_list(ctx: Any) -> None:
    """Every user: username, name, roles, email, state."""
    ctx.unscoped("users list")
    found = _accounts(ctx).all_users()
    ctx.emit([u.as_dict() for u in found], "\n".join(_user_line(u) for u in found)
             or "no users")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@click.pass_obj
def users_disable(ctx: Any, username: str, enable: bool) -> None:
    """Stop a user from signing in (their API tokens stop working too)."""
    ctx.unscoped("users disable")
    user = _accounts(ctx).set_disabled(username, not enable)
    ctx.emit(user.as_dict(), f"{'enabled' if enable else 'disabled'} user {user.username}")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of "
              "standard input instead of a prompt.")
@click.pass_obj
def users_passwd(ctx: Any, username: str, password_stdin: bool) -> None:
    """Set a user's password."""
    ctx.unscoped("users passwd")
    accounts = _accounts(ctx)
    accounts.get(username)
    accounts.set_password(username, _password(password_stdin))
    ctx.emit({"username": username.strip().lower(), "password": "changed"},
             f"password changed for {username.strip().lower()}")


@users.command("feed")
@click.argument("username")
@click.option("--url", "base_url", default="http://127.0.0.1:8080", show_default=True,
              metavar="BASE", help="Where users reach bompao serve (the proxy's https:// URL).")
@click.option("--revoke", is_flag=True, help="Revoke USERNAME's feed instead.")
@click.pass_obj
def users_feed(ctx: Any, username: str, base_url: str, revoke: bool) -> None:
    """Print USERNAME's secret calendar feed URL once (follow-ups and stage deadlines, for
    Google Calendar or Outlook); the earlier URL stops working."""
    ctx.unscoped("users feed")
    from bompao.web.ical import new_feed, revoke_feeds  # noqa: PLC0415

    accounts = _accounts(ctx)
    name = username.strip().lower()
    if revoke:
        count = revoke_feeds(accounts, username)
        ctx.emit({"user": name, "revoked": count}, f"revoked {count} calendar feed(s) of {name}")
        return
    url = f"{base_url.rstrip('/')}/api/v1/calendar/{new_feed(accounts, username)}.ics"
    ctx.emit({"user": name, "url": url},
             f"{url}\n(calendar feed of {name}: shown once, keep it secret; the earlier "
             "URL no longer works)")


@click.group()
def tokens() -> None:
    """API tokens (Authorization: Bearer TOKEN), each shown once when created."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", "label", default="api", show_default=True,
              help="What the token is for (shown in 'tokens list').")
@click.pass_obj
def tokens_create(ctx: Any, username: str, label: str) -> None:
    """Create a token for USERNAME and print it once; only its hash is kept."""
    ctx.unscoped("tokens create")
    token_id, token = _accounts(ctx).create_token(username, label)
    ctx.emit({"id": token_id, "user": username.strip().lower(), "name": label,
              "token": token},
             f"{token}\n(token {token_id} for {username}: shown once, store it now)")


@tokens.command("list")
@click.argument("username", required=False)
@click.pass_obj
def tokens_list(ctx: Any, username: str | None) -> None:
    """Tokens (all, or USERNAME's): id, user, name, last used, revoked; never the token."""
    ctx.unscoped("tokens list")
    found = _accounts(ctx).tokens(username)
    ctx.emit(found, "\n".join(
        f"{t['id']}\t{t['user']}\t{t['name']}\tlast used {t['last_used_at'] or 'never'}"
        f"{chr(9) + 'revoked' if t['revoked_at'] else ''}" for t in found) or "no tokens")


@tokens.command("revoke")
@click.argument("token_id", type=int, metavar="ID")
@click.pass_obj
def tokens_revoke(ctx: Any, token_id: int) -> None:
    """Revoke token ID: requests with it are refused from now on."""
    ctx.unscoped("tokens revoke")
    _accounts(ctx).revoke_token(token_id)
    ctx.emit({"id": token_id, "revoked": True}, f"revoked token {token_id}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (several need PostgreSQL or one SQLite file on a local "
              "disk, and a configured secret key).")
@click.option("--db", "db_url", metavar="URL", default=None,
              help="The database (default: the global --db or BOMPAO_DATABASE_URL).")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log a line per request (the reverse proxy in front logs them already; "
              "it costs a third of an API write's CPU here).")
@click.pass_obj
def serve(ctx: Any, host: str, port: int, workers: int,
          db_url: str | None, access_log: bool) -> None:
    """Run the web app and the JSON API (/api/v1) on the database (--db).

    Sessions are signed with BOMPAO_SECRET_KEY or [web] secret_key_file; without one a
    single worker signs with a random key (sign-ins end when it stops).
    """
    ctx.unscoped("serve")
    if db_url:
        ctx.db = db_url
    from bompao.web.server import run  # noqa: PLC0415 - FastAPI only for serve

    run(ctx, host=host, port=port, workers=workers, access_log=access_log)


def register(group: click.Group) -> None:
    """Add ``users``, ``tokens`` and ``serve`` to the ``bompao`` command group."""
    for command in (users, tokens, serve):
        group.add_command(command)
