"""Operator configuration: a TOML file (``--config`` or ``BOMPAO_CONFIG``) plus env vars.

The operator's configuration is trusted more than journey files: it holds the SMTP
server, webhook endpoint URLs and secrets. A journey names an endpoint; only this
file says where it is. Secrets never appear in logs, errors or events: use
:meth:`Config.redacted` to show a configuration.

```toml
database = "postgresql+psycopg://bompao@db/bompao"
timezone = "Asia/Bangkok"  # times typed without an offset where no single journey applies

[scheduler]
name = "daemon-1"          # default: HOST-PID
poll_interval = 30         # seconds between polls, besides waking at the earliest due time
lease = 300                # seconds a claimed follow-up stays ours
batch = 500                # follow-ups claimed per round
record_within = 0.01       # seconds: effects this close together share one commit
heartbeat = 5              # seconds between heartbeats and lease renewals in a round

[notify]
channels = ["log", "email", "webhook:chat"]   # log is always on; each one is tried
language = "th"           # the language of every follow-up message (default: the journey's)
languages = { social-incubator = "en" }        # per journey key, before `language`

[smtp]
host = "smtp.example.org"
port = 587
starttls = true
username = "bompao"
password = "..."
sender = "bompao@example.org"
message_id_domain = "example.org"   # default: the sender's domain

[webhooks.chat]
url = "https://chat.example.org/hooks/abc"
timeout = 10
retries = 3               # attempts after the first
backoff = 0.5             # seconds; doubles each retry
headers = { Authorization = "Bearer ..." }

[people]                  # names used in assignments -> email addresses
Malee = "malee@example.org"

[calendars.TH]            # holidays added to a calendar without editing journeys
add = { "2026-06-02" = "Special holiday" }
```
Environment: ``BOMPAO_DATABASE_URL``, ``BOMPAO_SMTP_HOST``, ``BOMPAO_SMTP_PORT``,
``BOMPAO_SMTP_USERNAME``, ``BOMPAO_SMTP_PASSWORD``, ``BOMPAO_SMTP_SENDER``,
``BOMPAO_DAEMON_NAME``, ``BOMPAO_POLL_INTERVAL``, ``BOMPAO_LEASE`` override the file.
"""

from __future__ import annotations

import functools
import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bompao.definitions.durations import add_operator_days
from bompao.errors import UsageError

__all__ = ["Config", "SmtpConfig", "WebhookConfig", "load_config"]

_TOP = {"database", "timezone", "scheduler", "notify", "smtp", "webhooks", "people", "calendars"}
_SCHEDULER = {"name", "poll_interval", "lease", "batch", "record_within", "heartbeat"}
_NOTIFY = {"channels", "language", "languages"}
_SMTP = {"host", "port", "starttls", "ssl", "username", "password", "sender", "timeout",
         "message_id_domain"}
_LANGUAGES = ("en", "th")
_WEBHOOK = {"url", "timeout", "retries", "backoff", "headers"}
_SECRET = "***"  # noqa: S105 - the mask shown instead of a secret


@dataclass(frozen=True)
class SmtpConfig:
    """Where email goes."""

    host: str
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "bompao@localhost"
    timeout: float = 10.0
    message_id_domain: str | None = None
    """The domain of Message-IDs; default: the sender address's domain."""

    @property
    def domain(self) -> str:
        """The Message-ID domain: configured, else the sender's, else ``localhost``."""
        if self.message_id_domain:
            return self.message_id_domain
        address = self.sender.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class WebhookConfig:
    """A named HTTP endpoint that webhook follow-ups and notify channels POST to."""

    name: str
    url: str = field(repr=False)
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    headers: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Config:
    """The operator's configuration."""

    database: str | None = None
    daemon_name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    poll_interval: float = 30.0
    lease: float = 300.0
    batch: int = 500
    record_within: float = 0.01
    """Seconds: effects ending this close to the first unrecorded one share a commit."""
    heartbeat: float = 5.0
    """Seconds between heartbeats (and lease renewals) while a daemon works."""
    channels: tuple[str, ...] = ("log",)
    language: str | None = None
    """The language of every follow-up message (overrides the journeys' own)."""
    languages: dict[str, str] = field(default_factory=dict)
    """Journey key -> message language, overriding ``language`` and the journey's."""
    calendars: dict[str, dict[str, str]] = field(default_factory=dict)
    """Calendar (country code) -> extra holidays (ISO date -> name) the operator adds."""
    smtp: SmtpConfig | None = None
    webhooks: dict[str, WebhookConfig] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Bangkok"
    """The zone of times typed without an offset (and of times shown) where no single
    journey applies, e.g. ``scheduler run --once --now``."""

    def language_for(self, journey: Any) -> str:
        """The language of ``journey``'s follow-up messages: the operator's choice for the
        journey, else the operator's for all, else the journey's ``language``, else en."""
        return (self.languages.get(journey.key) or self.language
                or getattr(getattr(journey, "doc", None), "language", None) or "en")

    def secrets(self) -> list[str]:
        """Every secret value (passwords, webhook URLs and headers), for redaction."""
        values = [self.smtp.password] if self.smtp and self.smtp.password else []
        for hook in self.webhooks.values():
            values.append(hook.url)
            values.extend(hook.headers.values())
        if self.database and "@" in self.database and ":" in self.database.split("@")[0]:
            values.append(self.database.split("@")[0].rsplit(":", 1)[1])
        return [v for v in values if v]

    @functools.cached_property
    def _longest_first(self) -> tuple[str, ...]:
        return tuple(sorted(self.secrets(), key=len, reverse=True))

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, _SECRET)
        return text

    def redacted(self) -> dict[str, Any]:
        """The configuration as a mapping with secrets masked."""
        return {
            "database": self.redact(self.database) if self.database else None,
            "daemon_name": self.daemon_name, "poll_interval": self.poll_interval,
            "lease": self.lease, "batch": self.batch, "channels": list(self.channels),
            "smtp": None if self.smtp is None else {
                "host": self.smtp.host, "port": self.smtp.port, "sender": self.smtp.sender,
                "username": self.smtp.username,
                "password": _SECRET if self.smtp.password else None},
            "webhooks": {name: {"url": _SECRET, "timeout": hook.timeout,
                                "retries": hook.retries} for name, hook in self.webhooks.items()},
            "people": dict(self.people),
        }


def _check_keys(table: Any, allowed: set[str], where: str, path: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [{where}] must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise UsageError(f"{path}: unknown key {unknown[0]!r} in [{where}]; allowed: "
                         f"{', '.join(sorted(allowed))}")
    return table


def _number(value: Any, key: str, path: str, *, minimum: float = 0.001) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise UsageError(f"{path}: {key} must be a number >= {minimum}, got {value!r}")
    return float(value)


def _integer(value: Any, key: str, *, minimum: int = 1) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{key} must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or number < minimum:
        raise UsageError(f"{key} must be a whole number >= {minimum}, got {value!r}")
    return number


def _from_env(env: dict[str, str], key: str) -> float | None:
    text = env.get(key)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{key} must be a number of seconds, got {text!r}") from None
    if value <= 0:
        raise UsageError(f"{key} must be more than 0 seconds, got {text!r}")
    return value


def _calendars(table: Any, where: str) -> dict[str, dict[str, str]]:
    from datetime import date  # noqa: PLC0415

    found: dict[str, dict[str, str]] = {}
    for code, entry in _check_keys(table, set(table) if isinstance(table, dict) else set(),
                                   "calendars", where).items():
        entry = _check_keys(entry, {"add"}, f"calendars.{code}", where)  # noqa: PLW2901
        days = _check_keys(entry.get("add", {}), set(entry.get("add", {})),
                           f"calendars.{code}.add", where)
        added: dict[str, str] = {}
        for day, name in days.items():
            try:
                text = date.fromisoformat(str(day)).isoformat()
            except ValueError:
                raise UsageError(f"{where}: [calendars.{code}.add] key {str(day)!r} is not a "
                                 "date; expected YYYY-MM-DD") from None
            added[text] = str(name)
        found[str(code)] = added
    return found


def _timezone(value: object, where: str) -> str:
    """The operator's ``timezone`` setting, checked to be an IANA zone name.

    Raises:
        UsageError: an unknown zone.
    """
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"{where}: unknown timezone {value!r}; use an IANA name such "
                         "as 'Asia/Bangkok' or 'UTC'") from None
    return str(value)


def load_config(path: str | Path | None = None, *, environ: dict[str, str] | None = None
                ) -> Config:
    """Read the TOML file at ``path`` (or ``$BOMPAO_CONFIG``; none is fine) and the env.

    Raises:
        UsageError: the file is missing, not TOML, or has unknown keys or bad values.
    """
    env = dict(os.environ if environ is None else environ)
    path = path or env.get("BOMPAO_CONFIG") or None
    data: dict[str, Any] = {}
    where = str(path) if path else "environment"
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"no such configuration file: {str(path)!r}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read configuration {str(path)!r}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; allowed: "
                         f"{', '.join(sorted(_TOP))}")
    scheduler = _check_keys(data.get("scheduler", {}), _SCHEDULER, "scheduler", where)
    notify = _check_keys(data.get("notify", {}), _NOTIFY, "notify", where)
    language = notify.get("language")
    if language is not None and language not in _LANGUAGES:
        raise UsageError(f"{where}: [notify] language {language!r} is not one of "
                         f"{', '.join(_LANGUAGES)}")
    languages = _check_keys(notify.get("languages", {}), set(notify.get("languages", {})),
                            "notify.languages", where)
    for key, value in languages.items():
        if value not in _LANGUAGES:
            raise UsageError(f"{where}: [notify.languages] {key!r} = {value!r} is not one of "
                             f"{', '.join(_LANGUAGES)}")
    calendars = _calendars(data.get("calendars", {}), where)
    smtp_table = dict(_check_keys(data.get("smtp", {}), _SMTP, "smtp", where))
    for key in ("host", "port", "username", "password", "sender"):
        value = env.get(f"BOMPAO_SMTP_{key.upper()}")
        if value:
            smtp_table[key] = _integer(value, "BOMPAO_SMTP_PORT") if key == "port" else value
    smtp = None
    if smtp_table:
        if "host" not in smtp_table:
            raise UsageError(f"{where}: [smtp] needs a host")
        smtp = SmtpConfig(**smtp_table)
    hooks: dict[str, WebhookConfig] = {}
    for name, table in _check_keys(data.get("webhooks", {}), set(data.get("webhooks", {})),
                                   "webhooks", where).items():
        table = _check_keys(table, _WEBHOOK, f"webhooks.{name}", where)  # noqa: PLW2901
        url = table.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UsageError(f"{where}: [webhooks.{name}] needs a url starting with "
                             "http:// or https://")
        hooks[name] = WebhookConfig(
            name, url, _number(table.get("timeout", 10), "timeout", where),
            _integer(table.get("retries", 3), f"webhooks.{name}.retries", minimum=0),
            _number(table.get("backoff", 0.5), "backoff", where, minimum=0),
            {str(k): str(v) for k, v in table.get("headers", {}).items()})
    channels = tuple(notify.get("channels", ["log"]))
    for channel in channels:
        if channel not in ("log", "email") and not (
                channel.startswith("webhook:") and channel[8:] in hooks):
            raise UsageError(f"{where}: unknown notify channel {channel!r}; channels: log, "
                             f"email, {', '.join(f'webhook:{h}' for h in hooks) or 'webhook:NAME'}")
    people = data.get("people", {})
    if not isinstance(people, dict):
        raise UsageError(f"{where}: [people] must map names to email addresses")
    defaults = Config()
    add_operator_days(calendars)  # business days everywhere count the operator's holidays
    return Config(
        timezone=_timezone(data.get("timezone", defaults.timezone), where),
        database=env.get("BOMPAO_DATABASE_URL") or data.get("database"),
        daemon_name=env.get("BOMPAO_DAEMON_NAME") or scheduler.get("name")
        or defaults.daemon_name,
        poll_interval=_number(_from_env(env, "BOMPAO_POLL_INTERVAL")
                              or scheduler.get("poll_interval", 30), "poll_interval", where),
        lease=_number(_from_env(env, "BOMPAO_LEASE") or scheduler.get("lease", 300),
                      "lease", where),
        batch=int(_number(scheduler.get("batch", 500), "batch", where, minimum=1)),
        record_within=_number(scheduler.get("record_within", 0.01), "record_within", where,
                              minimum=0),
        heartbeat=_number(scheduler.get("heartbeat", 5), "heartbeat", where, minimum=0.05),
        channels=("log", *[c for c in channels if c != "log"]),
        language=language, languages={str(k): str(v) for k, v in languages.items()},
        calendars=calendars,
        smtp=smtp, webhooks=hooks, people={str(k): str(v) for k, v in people.items()})
