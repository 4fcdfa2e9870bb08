"""Follow-up actions that reach outside the database: notify, email, webhook, and plugins.

``flag``, ``unflag`` and ``transition`` change the project and run inside the
dispatcher's transaction (see :mod:`bompao.engine.dispatch`). The actions here run
before that transaction and may be retried after a crash: each delivery carries the
follow-up occurrence's idempotency key (the email's Message-ID, the webhook's
``Idempotency-Key`` header) so the receiver can drop duplicates.

A plugin action is a callable ``fn(ctx: ActionContext) -> str | None`` registered with
:meth:`ActionRegistry.register` (or ``Engine.register_action``) or through the
``bompao.actions`` entry point group; it raises :class:`ActionFailed` to fail.

A plugin registered with ``in_process=True`` promises that it changes nothing outside
the daemon's process (no message, no request, no write to a file or to bompao's
database: a computation, a counter, a no-op). The dispatcher runs such actions, like
the internal ones, inside the transaction that records them (on SQLite): a kill before
the commit leaves nothing behind, so they happen exactly once in effect. Any other
plugin is treated as external: it may be repeated after a crash, with the same key.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from importlib.metadata import entry_points
from typing import Any, NamedTuple

import tenacity

from bompao.definitions import CompiledFollowUp, CompiledJourney
from bompao.definitions.templates import render
from bompao.definitions.texts import pick
from bompao.engine.config import Config, WebhookConfig

__all__ = ["INTERNAL", "ActionContext", "ActionFailed", "ActionRegistry"]

INTERNAL = frozenset({"flag", "unflag", "transition"})
log = logging.getLogger("bompao.notify")


class ActionFailed(Exception):
    """An action could not be carried out; the message is shown to operators."""


class ActionContext(NamedTuple):
    """What an action gets: the project, the journey, the follow-up and the operator config.

    A named tuple rather than a frozen dataclass: the dispatcher builds one per run,
    thousands a second, and a tuple is built four times faster.
    """

    project: Any
    journey: CompiledJourney
    follow_up: CompiledFollowUp
    occurrence: int
    due_at: datetime
    idempotency_key: str
    config: Config
    now: datetime
    lang: str = "en"
    channels: dict[str, str] | None = None
    """notify: each channel's outcome, ``done`` or ``failed: ...``. Filled in as the
    channels are tried (the dispatcher always gives a dict); a retry starts with the
    earlier outcomes and skips the done ones."""

    @property
    def spec(self) -> Any:
        """The follow-up's spec from the journey."""
        return self.follow_up.spec

    def template_context(self) -> dict[str, Any]:
        """What message templates see."""
        stage = self.journey.stages[self.project.stage]
        return {
            "project": {"id": self.project.id, "name": self.project.name,
                        "stage": self.project.stage, "stage_title": stage.label(self.lang),
                        "partner": self.project.partner, "cohort": self.project.cohort,
                        "fields": dict(self.project.fields), "flags": list(self.project.flags)},
            "journey": {"key": self.journey.key, "version": self.journey.version,
                        "title": self.journey.label(self.lang)},
            "stage": {"name": stage.name, "title": stage.label(self.lang)},
            "follow_up": {"name": self.follow_up.name, "occurrence": self.occurrence,
                          "due_at": self.due_at.isoformat()},
            "days_in_stage": max(0, (self.now - self.project.stage_entered_at).days),
        }

    def message(self, key: str = "message") -> str:
        """The rendered message (or subject) in the context's language."""
        text = pick(getattr(self.spec, key), self.lang)
        if not text:
            stage = self.journey.stages[self.project.stage].label(self.lang)
            return f"{self.project.name}: {self.follow_up.name} ({stage})"
        return render(text, self.template_context())

    def recipients(self) -> list[tuple[str, str]]:
        """(role, person) for everyone assigned to the follow-up's roles, each person once
        (under the first of their roles)."""
        seen: set[str] = set()
        found = []
        for role in self.spec.to:
            for person in self.project.assignments.get(role, []):
                if person not in seen:
                    seen.add(person)
                    found.append((role, person))
        return found

    def payload(self) -> dict[str, Any]:
        """The JSON body webhooks receive."""
        return {
            "idempotency_key": self.idempotency_key,
            "follow_up": {"name": self.follow_up.name, "action": self.follow_up.action,
                          "occurrence": self.occurrence, "due_at": self.due_at.isoformat()},
            "project": {"id": self.project.id, "name": self.project.name,
                        "stage": self.project.stage, "partner": self.project.partner,
                        "cohort": self.project.cohort},
            "journey": self.journey.ref,
            "recipients": [{"role": r, "person": p} for r, p in self.recipients()],
            "message": self.message(),
            "params": dict(self.spec.params),
        }


Action = Callable[[ActionContext], "str | None"]


def _email_of(config: Config, person: str) -> str | None:
    return config.people.get(person) or (person if "@" in person else None)


def send_email(ctx: ActionContext, to: list[str], subject: str, body: str) -> None:
    """Send one message over the configured SMTP server.

    Raises:
        ActionFailed: no SMTP server is configured, or delivery failed.
    """
    smtp = ctx.config.smtp
    if smtp is None:
        raise ActionFailed("no SMTP server configured ([smtp] host)")
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(ctx.now)
    message["Message-ID"] = f"<{ctx.idempotency_key}@{smtp.domain}>"
    message["X-Bompao-Idempotency-Key"] = ctx.idempotency_key
    message.set_content(body)
    try:
        client_class = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with client_class(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise ActionFailed(ctx.config.redact(f"email to {', '.join(to)} failed: {exc}")) from None


class _Attempt(Exception):
    """One failed POST; tenacity retries it."""


def post_webhook(ctx: ActionContext, hook: WebhookConfig, body: dict[str, Any]) -> str:
    """POST ``body`` to a configured endpoint, retrying with exponential backoff (tenacity).

    Raises:
        ActionFailed: every attempt failed (the message names the endpoint, not its URL).
    """
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": ctx.idempotency_key,
               "User-Agent": "bompao", **hook.headers}

    def attempt() -> str:
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in config
            hook.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout) as response:  # noqa: S310 - operator URL
                return f"webhook {hook.name!r} answered {response.status}"
        except urllib.error.HTTPError as exc:
            raise _Attempt(f"HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Attempt("timed out" if isinstance(reason, TimeoutError) or "timed out" in str(
                reason) else type(reason).__name__ + (f": {reason}" if str(reason) else "")
            ) from None

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(hook.retries + 1),
        wait=tenacity.wait_exponential(multiplier=hook.backoff, exp_base=2, min=hook.backoff,
                                       max=max(hook.backoff, 60.0)),
        retry=tenacity.retry_if_exception_type(_Attempt), reraise=True)
    try:
        return str(retrying(attempt))
    except _Attempt as exc:
        raise ActionFailed(ctx.config.redact(
            f"webhook {hook.name!r} failed after {hook.retries + 1} attempts: {exc}")) from None


def _webhook(ctx: ActionContext) -> str:
    name = str(ctx.spec.endpoint)
    hook = ctx.config.webhooks.get(name)
    if hook is None:
        known = ", ".join(sorted(ctx.config.webhooks)) or "none configured"
        raise ActionFailed(f"unknown webhook endpoint {name!r}; endpoints: {known}")
    return post_webhook(ctx, hook, ctx.payload())


def _notify(ctx: ActionContext) -> str:
    """Every channel is tried, whatever the others do; each outcome lands in
    ``ctx.channels``. Channels done in an earlier attempt are not sent again."""
    outcomes = {} if ctx.channels is None else ctx.channels
    recipients = ctx.recipients()
    text = ctx.message()
    people = [person for _, person in recipients]
    sent: list[str] = []
    failed: list[str] = []
    for channel in ctx.config.channels:
        if outcomes.get(channel) == "done":
            continue
        try:
            said = _channel(ctx, channel, people, text)
        except ActionFailed as exc:
            outcomes[channel] = f"failed: {exc}"
            failed.append(f"{channel}: {exc}")
            continue
        outcomes[channel] = "done"
        sent.append(said)
    who = ", ".join(people) if people else f"nobody assigned as {', '.join(ctx.spec.to)}"
    if failed:
        raise ActionFailed(f"notify {who}: {len(failed)} of {len(outcomes)} channels "
                           f"failed: {'; '.join(failed)}")
    return f"notified {who} via {', '.join(sent) or 'nothing new'}"


def _channel(ctx: ActionContext, channel: str, people: list[str], text: str) -> str:
    """Deliver a notify message through one channel.

    Raises:
        ActionFailed: the channel is not configured or delivery failed.
    """
    if channel == "log":
        log.info(json.dumps({"notify": ctx.project.id, "to": people, "roles": list(ctx.spec.to),
                             "message": text, "key": ctx.idempotency_key}, ensure_ascii=False))
        return "log"
    if channel == "email":
        addresses = [a for a in (_email_of(ctx.config, p) for p in people) if a]
        if not addresses:
            return "email to nobody (no addresses)"
        send_email(ctx, addresses, ctx.message("subject") if ctx.spec.subject
                   else f"[bompao] {ctx.project.name}", text)
        return f"email to {len(addresses)}"
    if channel.startswith("webhook:"):
        hook = ctx.config.webhooks.get(channel[8:])
        if hook is None:
            raise ActionFailed(f"unknown webhook endpoint {channel[8:]!r}")
        post_webhook(ctx, hook, ctx.payload())
        return channel
    raise ActionFailed(f"unknown notify channel {channel!r}")


def _email(ctx: ActionContext) -> str:
    people = [person for _, person in ctx.recipients()]
    addresses = [a for a in (_email_of(ctx.config, p) for p in people) if a]
    if not addresses:
        raise ActionFailed(f"no email address for anyone assigned as {', '.join(ctx.spec.to)}"
                           " (assign addresses or map names in [people])")
    subject = ctx.message("subject") if ctx.spec.subject else f"[bompao] {ctx.project.name}"
    send_email(ctx, addresses, subject, ctx.message())
    return f"emailed {len(addresses)} recipient(s)"


class ActionRegistry:
    """Action names to callables: the built-ins, registered plugins, entry points."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {"notify": _notify, "email": _email,
                                            "webhook": _webhook}
        self._loaded_entry_points = False
        self._in_process: set[str] = set()

    def register(self, name: str, action: Action, *, in_process: bool = False) -> None:
        """Add (or replace) a plugin action.

        Args:
            name: the action's name in journeys.
            action: ``action(ctx) -> str | None``; raises :class:`ActionFailed` to fail.
            in_process: the action changes nothing outside this process (see the
                module's docstring): it is run and recorded in one transaction.
        """
        self._actions[name] = action
        if in_process:
            self._in_process.add(name)
        else:
            self._in_process.discard(name)

    def in_process(self, name: str) -> bool:
        """Whether ``name`` is internal or a plugin registered with ``in_process=True``:
        an action a kill before its record's commit cannot have made visible anywhere."""
        return name in INTERNAL or name in self._in_process

    def get(self, name: str) -> Action | None:
        """The action called ``name``, loading ``bompao.actions`` entry points once."""
        if name not in self._actions and not self._loaded_entry_points:
            self._loaded_entry_points = True
            for point in entry_points(group="bompao.actions"):
                self._actions.setdefault(point.name, point.load())
        return self._actions.get(name)

    def names(self) -> list[str]:
        """Every known action name."""
        self.get("")
        return sorted({*self._actions, *INTERNAL})

    def run(self, ctx: ActionContext) -> str:
        """Run an external action.

        Raises:
            ActionFailed: the action failed, or no action has this name.
        """
        action = self.get(ctx.follow_up.action)
        if action is None:
            raise ActionFailed(f"unknown action {ctx.follow_up.action!r}; register it with "
                               "Engine.register_action or the 'bompao.actions' entry point "
                               f"(known: {', '.join(self.names())})")
        try:
            said = action(ctx)
        except ActionFailed as exc:
            raise ActionFailed(ctx.config.redact(str(exc))) from None
        except Exception as exc:
            raise ActionFailed(ctx.config.redact(
                f"action {ctx.follow_up.action!r} raised {type(exc).__name__}: {exc}")) from None
        return ctx.config.redact(said or "done")
