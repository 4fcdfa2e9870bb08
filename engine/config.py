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

[hooks.kobo]              # an inbound webhook: POST /hooks/kobo (see docs/web.md)
secret_file = "/etc/bompao/kobo.secret"  # or secret = "..." (HMAC-SHA256 key)
journey = "social-incubator"             # the journey the applications go to
name = "project_name"                    # dotted path of the project's name in the JSON
partner = "group.partner"                # optional: dotted paths of partner and cohort
fields = { problem_statement = "answers.problem", team_size = "answers.team" }
delivery_header = "X-Bompao-Delivery"    # the delivery id's header (the default)
delivery_path = "_uuid"                  # else the delivery id in the JSON (else the body's hash)

[people]                  # names used in assignments -> email addresses
Malee = "malee@example.org"

[calendars.TH]            # holidays added to a calendar without editing journeys
add = { "2026-06-02" = "Special holiday" }

[web]                     # bompao serve
secret_key_file = "/etc/bompao/secret"  # or env BOMPAO_SECRET_KEY; >= 32 characters
upload_dir = "/var/lib/bompao/uploads"   # default: bompao-uploads in the working directory
upload_limit = 10_000_000                # bytes per uploaded file
upload_types = [".pdf", ".png", ".jpg"]  # file endings an upload may have (default below)
session_lifetime = 28800                 # seconds a sign-in lasts
secure_cookies = true                    # Secure session cookie: set it behind HTTPS
login_attempts = 5                       # failed sign-ins per name and address ...
login_window = 900                       # ... within this many seconds, then refused
apply_posts = 20                         # posts of /apply/KEY per client address ...
apply_window = 3600                      # ... within this many seconds, then 429
```
Environment: ``BOMPAO_DATABASE_URL``, ``BOMPAO_SMTP_HOST``, ``BOMPAO_SMTP_PORT``,
``BOMPAO_SMTP_USERNAME``, ``BOMPAO_SMTP_PASSWORD``, ``BOMPAO_SMTP_SENDER``,
``BOMPAO_DAEMON_NAME``, ``BOMPAO_POLL_INTERVAL``, ``BOMPAO_LEASE``,
``BOMPAO_SECRET_KEY``, ``BOMPAO_SECRET_KEY_FILE``, ``BOMPAO_UPLOAD_DIR`` override the file.

The file's shape is :class:`Settings`, a ``pydantic-settings`` model: every table
forbids unknown keys, and the first validation error becomes one ``UsageError`` line
that names the file, the table, the key and what is allowed. The environment is a
settings source (:class:`EnvironmentSource`) layered over the file. What the rest of
bompao reads is the frozen :class:`Config` built from the validated settings.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bompao.definitions.durations import add_operator_days
from bompao.errors import UsageError

__all__ = ["UPLOAD_TYPES", "Config", "EnvironmentSource", "HookConfig", "Settings", "SmtpConfig",
           "WebConfig", "WebhookConfig", "load_config"]

_LANGUAGES = ("en", "th")
_SECRET = "***"  # noqa: S105 - the mask shown instead of a secret
_MIN_SECRET_KEY = 32
UPLOAD_TYPES = (".pdf", ".png", ".jpg", ".jpeg", ".txt", ".csv", ".docx", ".xlsx", ".pptx",
                ".odt", ".ods", ".odp")
"""The file endings an uploaded evidence file may have unless ``[web] upload_types`` says."""


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
class HookConfig:
    """An inbound webhook ``POST /hooks/NAME``: a form tool's JSON, signed with
    ``secret``, becomes an application to ``journey``; ``fields`` maps each field to the
    dotted path of its answer in the JSON (``answers.team``, ``items.0.value``)."""

    name: str
    secret: str = field(repr=False)
    journey: str
    project_name: str
    """The dotted path of the project's name."""
    fields: dict[str, str] = field(default_factory=dict)
    partner: str | None = None
    cohort: str | None = None
    delivery_header: str = "X-Bompao-Delivery"
    delivery_path: str | None = None


@dataclass(frozen=True)
class WebConfig:
    """What ``bompao serve`` needs: the session key, uploads, sessions, the login throttle.

    The secret key signs session cookies; it is never shown (``repr`` hides it, and
    :meth:`Config.redacted` masks it).
    """

    secret_key: str | None = field(default=None, repr=False)
    upload_dir: str = "bompao-uploads"
    upload_limit: int = 10_000_000
    """Bytes an uploaded file may have."""
    upload_types: tuple[str, ...] = UPLOAD_TYPES
    """File endings (lowercase, with the dot) an uploaded file may have."""
    session_lifetime: int = 8 * 3600
    """Seconds a sign-in lasts."""
    secure_cookies: bool = False
    """Mark the session cookie ``Secure`` (the app is reached over HTTPS)."""
    login_attempts: int = 5
    """Failed sign-ins allowed per name and per client address within ``login_window``."""
    login_window: int = 900
    """Seconds over which failed sign-ins are counted."""
    apply_posts: int = 20
    """Posts of the public application form allowed per client address per window."""
    apply_window: int = 3600
    """Seconds over which application posts are counted."""


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
    hooks: dict[str, HookConfig] = field(default_factory=dict)
    """Inbound webhooks (``[hooks.NAME]``) by name."""
    timezone: str = "Asia/Bangkok"
    """The zone of times typed without an offset (and of times shown) where no single
    journey applies, e.g. ``scheduler run --once --now``."""
    web: WebConfig = field(default_factory=WebConfig)
    """The web app's settings (``[web]``)."""

    def language_for(self, journey: Any) -> str:
        """The language of ``journey``'s follow-up messages: the operator's choice for the
        journey, else the operator's for all, else the journey's ``language``, else en."""
        return (self.languages.get(journey.key) or self.language
                or getattr(getattr(journey, "doc", None), "language", None) or "en")

    def secrets(self) -> list[str]:
        """Every secret value (passwords, webhook URLs and headers, the web app's key),
        for redaction."""
        values = [self.smtp.password] if self.smtp and self.smtp.password else []
        for hook in self.webhooks.values():
            values.append(hook.url)
            values.extend(hook.headers.values())
        values.extend(inbound.secret for inbound in self.hooks.values())
        if self.database and "@" in self.database and ":" in self.database.split("@")[0]:
            values.append(self.database.split("@")[0].rsplit(":", 1)[1])
        if self.web.secret_key:
            values.append(self.web.secret_key)
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
            "hooks": {name: {"secret": _SECRET, "journey": hook.journey,
                             "fields": dict(hook.fields)} for name, hook in self.hooks.items()},
            "web": {"secret_key": _SECRET if self.web.secret_key else None,
                    "upload_dir": self.web.upload_dir, "upload_limit": self.web.upload_limit,
                    "upload_types": list(self.web.upload_types),
                    "session_lifetime": self.web.session_lifetime,
                    "secure_cookies": self.web.secure_cookies,
                    "login_attempts": self.web.login_attempts,
                    "login_window": self.web.login_window},
        }


# the file's shape --------------------------------------------------------------------------


def _bad(message: str) -> PydanticCustomError:
    """A validation error whose message is used as written."""
    return PydanticCustomError("bompao", message)


def _seconds(minimum: float) -> Any:
    return Annotated[float, Field(ge=minimum)]


def _whole(minimum: int) -> Any:
    return Annotated[int, Field(ge=minimum)]


class _Table(BaseModel):
    """A TOML table: unknown keys refused, TOML's own types required (no "30" for 30)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SchedulerSettings(_Table):
    """``[scheduler]``."""

    name: str | None = None
    poll_interval: _seconds(0.001) = 30.0  # type: ignore[valid-type]
    lease: _seconds(0.001) = 300.0  # type: ignore[valid-type]
    batch: _whole(1) = 500  # type: ignore[valid-type]
    record_within: _seconds(0) = 0.01  # type: ignore[valid-type]
    heartbeat: _seconds(0.05) = 5.0  # type: ignore[valid-type]


class NotifySettings(_Table):
    """``[notify]``."""

    channels: list[str] = Field(default_factory=lambda: ["log"])
    language: str | None = None
    languages: dict[str, str] = Field(default_factory=dict)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value not in _LANGUAGES:
            raise _bad(f"[notify] language {value!r} is not one of {', '.join(_LANGUAGES)}")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        for key, language in value.items():
            if language not in _LANGUAGES:
                raise _bad(f"[notify.languages] {key!r} = {language!r} is not one of "
                           f"{', '.join(_LANGUAGES)}")
        return value


class SmtpSettings(_Table):
    """``[smtp]``."""

    host: str | None = None
    port: _whole(1) = 25  # type: ignore[valid-type]
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "bompao@localhost"
    timeout: _seconds(0.001) = 10.0  # type: ignore[valid-type]
    message_id_domain: str | None = None

    @model_validator(mode="after")
    def _host(self) -> SmtpSettings:
        if not self.host:
            raise _bad("[smtp] needs a host")
        return self


class WebhookSettings(_Table):
    """``[webhooks.NAME]``."""

    url: SecretStr | None = None
    timeout: _seconds(0.001) = 10.0  # type: ignore[valid-type]
    retries: _whole(0) = 3  # type: ignore[valid-type]
    backoff: _seconds(0) = 0.5  # type: ignore[valid-type]
    headers: dict[str, str | int | float] = Field(default_factory=dict)


_PATH = r"^[^.\s]+(\.[^.\s]+)*$"
_Path = Annotated[str, Field(pattern=_PATH, max_length=500)]


class HookSettings(_Table):
    """``[hooks.NAME]``: an inbound webhook."""

    secret: SecretStr | None = None
    secret_file: str | None = None
    journey: Annotated[str, Field(min_length=1)]
    name: _Path
    partner: _Path | None = None
    cohort: _Path | None = None
    fields: dict[str, _Path] = Field(default_factory=dict)
    delivery_header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,100}$")] = \
        "X-Bompao-Delivery"
    delivery_path: _Path | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> HookSettings:
        if (self.secret is None) == (self.secret_file is None):
            raise _bad("a [hooks.NAME] table needs exactly one of secret or secret_file")
        return self


class CalendarSettings(_Table):
    """``[calendars.CODE]``: holidays the operator adds."""

    add: dict[str, Any] = Field(default_factory=dict)


class WebSettings(_Table):
    """``[web]``: what ``bompao serve`` reads."""

    secret_key: SecretStr | None = None
    """Only from the environment (``BOMPAO_SECRET_KEY``): a key in a file goes in
    ``secret_key_file``, readable by the server alone."""
    secret_key_file: str | None = None
    upload_dir: str = "bompao-uploads"
    upload_limit: _whole(1) = 10_000_000  # type: ignore[valid-type]
    upload_types: list[str] = Field(default_factory=lambda: list(UPLOAD_TYPES))
    session_lifetime: _whole(60) = 8 * 3600  # type: ignore[valid-type]
    secure_cookies: bool = False
    login_attempts: _whole(1) = 5  # type: ignore[valid-type]
    login_window: _whole(1) = 900  # type: ignore[valid-type]
    apply_posts: _whole(1) = 20  # type: ignore[valid-type]
    apply_window: _whole(1) = 3600  # type: ignore[valid-type]


class Settings(BaseSettings):
    """The operator's TOML file with the environment laid over it.

    Sources, strongest first: values given to the constructor, then
    :class:`EnvironmentSource`. ``load_config`` passes the file's tables to the
    constructor under the environment (see :func:`load_config`).
    """

    model_config = SettingsConfigDict(extra="forbid", strict=True, frozen=True)

    database: str | None = None
    timezone: str = "Asia/Bangkok"
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    smtp: SmtpSettings | None = None
    webhooks: dict[str, WebhookSettings] = Field(default_factory=dict)
    people: dict[str, Any] = Field(default_factory=dict)
    calendars: dict[str, CalendarSettings] = Field(default_factory=dict)
    web: WebSettings = Field(default_factory=WebSettings)
    hooks: dict[str, HookSettings] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad(f"unknown timezone {value!r}; use an IANA name such as "
                       "'Asia/Bangkok' or 'UTC'") from None
        return value

    @model_validator(mode="after")
    def _references(self) -> Settings:
        for name, hook in self.webhooks.items():
            url = hook.url.get_secret_value() if hook.url else ""
            if not url.startswith(("http://", "https://")):
                raise _bad(f"[webhooks.{name}] needs a url starting with http:// or https://")
        for channel in self.notify.channels:
            if channel not in ("log", "email") and not (
                    channel.startswith("webhook:") and channel[8:] in self.webhooks):
                hooks = ", ".join(f"webhook:{h}" for h in self.webhooks) or "webhook:NAME"
                raise _bad(f"unknown notify channel {channel!r}; channels: log, email, {hooks}")
        for code, calendar in self.calendars.items():
            for day in calendar.add:
                try:
                    date.fromisoformat(str(day))
                except ValueError:
                    raise _bad(f"[calendars.{code}.add] key {str(day)!r} is not a date; "
                               "expected YYYY-MM-DD") from None
        return self

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what :func:`load_config` passes: it layers the environment it was given
        (not necessarily ``os.environ``) with :class:`EnvironmentSource`."""
        return (init_settings,)


_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "BOMPAO_DATABASE_URL": ("database",),
    "BOMPAO_SMTP_HOST": ("smtp", "host"),
    "BOMPAO_SMTP_PORT": ("smtp", "port"),
    "BOMPAO_SMTP_USERNAME": ("smtp", "username"),
    "BOMPAO_SMTP_PASSWORD": ("smtp", "password"),
    "BOMPAO_SMTP_SENDER": ("smtp", "sender"),
    "BOMPAO_DAEMON_NAME": ("scheduler", "name"),
    "BOMPAO_POLL_INTERVAL": ("scheduler", "poll_interval"),
    "BOMPAO_LEASE": ("scheduler", "lease"),
    "BOMPAO_SECRET_KEY": ("web", "secret_key"),
    "BOMPAO_SECRET_KEY_FILE": ("web", "secret_key_file"),
    "BOMPAO_UPLOAD_DIR": ("web", "upload_dir"),
}
"""Environment variable -> the setting it overrides (empty values are ignored)."""

_NUMBERS = {"BOMPAO_SMTP_PORT": int, "BOMPAO_POLL_INTERVAL": float, "BOMPAO_LEASE": float}


class EnvironmentSource(PydanticBaseSettingsSource):
    """The ``BOMPAO_*`` variables of a given environment, as nested settings.

    A number that does not parse is passed on as text, so validation refuses it and
    :func:`load_config` names the variable.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ
        self.names: dict[tuple[str, ...], str] = {}
        """Setting path -> the variable that set it (for messages)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` reads every variable at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """The overrides as nested tables."""
        found: dict[str, Any] = {}
        for name, path in _ENVIRONMENT.items():
            text = self.environ.get(name)
            if not text:
                continue
            value: Any = text
            convert = _NUMBERS.get(name)
            if convert is not None:
                try:
                    value = convert(text)
                except ValueError:
                    value = text
            table = found
            for key in path[:-1]:
                table = table.setdefault(key, {})
            table[path[-1]] = value
            self.names[path] = name
        return found


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        merged[key] = (_merge(below, value) if isinstance(below, dict)
                       and isinstance(value, Mapping) else value)
    return merged


# one line per problem ----------------------------------------------------------------------

_MODELS: dict[str, type[BaseModel]] = {
    "scheduler": SchedulerSettings, "notify": NotifySettings, "smtp": SmtpSettings,
    "webhooks": WebhookSettings, "calendars": CalendarSettings, "web": WebSettings,
    "hooks": HookSettings}
_KEYED = {"webhooks", "calendars", "hooks"}
"""Tables of tables: ``[webhooks.NAME]``, ``[calendars.CODE]``."""


def _table_model(loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The model of the table a location's last key sits in (None: not a known table)."""
    if len(loc) == 1:
        return Settings
    depth = 2 if loc[0] in _KEYED else 1
    return _MODELS.get(loc[0]) if len(loc) == depth + 1 else None


def _env_message(variable: str, error: ErrorDetails) -> str:
    value = error.get("input")
    if variable == "BOMPAO_SMTP_PORT":
        return f"{variable} must be a whole number >= 1, got {value!r}"
    if variable in _NUMBERS:
        if error["type"] == "greater_than_equal":
            return f"{variable} must be more than 0 seconds, got {value!r}"
        return f"{variable} must be a number of seconds, got {value!r}"
    return f"{variable}: {error['msg']}, got {value!r}"


def _message(error: ErrorDetails, where: str, names: Mapping[tuple[str, ...], str]) -> str:
    """One ``UsageError`` line for the first validation problem."""
    loc = tuple(str(part) for part in error["loc"])
    kind, value, key = error["type"], error.get("input"), loc[-1] if loc else ""
    if kind == "bompao":
        return f"{where}: {error['msg']}"
    if loc in names:
        return _env_message(names[loc], error)
    table, model = ".".join(loc[:-1]), _table_model(loc)
    if kind == "extra_forbidden":
        inside = f" in [{table}]" if table else ""
        allowed = ", ".join(sorted(model.model_fields)) if model else "none"
        return f"{where}: unknown key {key!r}{inside}; allowed: {allowed}"
    if kind == "missing":
        return f"{where}: [{table or 'top level'}] needs the key {key!r}"
    if kind == "string_pattern_mismatch" and loc[0] == "hooks":
        what = ("a header name (letters, digits and -)" if key == "delivery_header"
                else "a dotted path into the JSON, e.g. \"answers.team\"")
        return f"{where}: [{table}] {key} = {value!r} is not {what}"
    if key == "people" and kind == "dict_type":
        return f"{where}: [people] must map names to email addresses"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{where}: [{'.'.join(loc)}] must be a table"
    info = model.model_fields.get(key) if model else None
    if info is not None and kind.startswith(("int", "float", "greater_than")):
        bound = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
        number = "a whole number" if info.annotation is int else "a number"
        at_least = f" >= {bound}" if bound is not None else ""
        named = key if table in _MODELS or not table else f"{table}.{key}"
        return f"{where}: {named} must be {number}{at_least}, got {value!r}"
    expected = error["msg"].removeprefix("Input should be ").rstrip(".")
    return f"{where}: [{table or 'top level'}] {key} must be {expected}, got {value!r}"


def _read(path: str | Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no such configuration file: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read configuration {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _secret_key(web: WebSettings, where: str) -> str | None:
    """The web app's key: ``BOMPAO_SECRET_KEY``, else the file ``secret_key_file`` names.

    Raises:
        UsageError: the file cannot be read, or the key is shorter than 32 characters.
    """
    key = web.secret_key.get_secret_value() if web.secret_key else None
    if key is None and web.secret_key_file:
        try:
            key = Path(web.secret_key_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{where}: [web] secret_key_file {web.secret_key_file!r} cannot "
                             f"be read: {exc.__class__.__name__}") from None
    if key is not None and len(key) < _MIN_SECRET_KEY:
        raise UsageError(f"{where}: the web secret key has {len(key)} characters; it needs "
                         f"at least {_MIN_SECRET_KEY} (e.g. from 'openssl rand -hex 32')")
    return key


def _upload_types(types: list[str], where: str) -> tuple[str, ...]:
    """``[web] upload_types`` as lowercase endings with their dot.

    Raises:
        UsageError: an ending that is not a dot and 1 to 10 letters or digits.
    """
    cleaned = []
    for ending in types:
        text = ending.strip().lower()
        text = text if text.startswith(".") else f".{text}"
        if not re.fullmatch(r"\.[a-z0-9]{1,10}", text):
            raise UsageError(f"{where}: [web] upload_types: {ending!r} is not a file ending; "
                             "write them like \".pdf\" or \"png\"")
        cleaned.append(text)
    return tuple(dict.fromkeys(cleaned))


_MIN_HOOK_SECRET = 16


def _hooks(settings: Settings, where: str) -> dict[str, HookConfig]:
    """``[hooks.NAME]`` tables as :class:`HookConfig` (secrets read from their files).

    Raises:
        UsageError: a secret file cannot be read, or a secret is shorter than 16
            characters.
    """
    found: dict[str, HookConfig] = {}
    for name, hook in settings.hooks.items():
        if hook.secret is not None:
            secret = hook.secret.get_secret_value()
        else:
            try:
                secret = Path(str(hook.secret_file)).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{where}: [hooks.{name}] secret_file {hook.secret_file!r} "
                                 f"cannot be read: {exc.__class__.__name__}") from None
        if len(secret) < _MIN_HOOK_SECRET:
            raise UsageError(f"{where}: [hooks.{name}] secret has {len(secret)} characters; "
                             f"it needs at least {_MIN_HOOK_SECRET} (e.g. from 'openssl rand "
                             "-hex 32')")
        found[name] = HookConfig(
            name=name, secret=secret, journey=hook.journey, project_name=hook.name,
            fields=dict(hook.fields), partner=hook.partner, cohort=hook.cohort,
            delivery_header=hook.delivery_header, delivery_path=hook.delivery_path)
    return found


def _config(settings: Settings, where: str) -> Config:
    scheduler, notify, web = settings.scheduler, settings.notify, settings.web
    smtp = None
    if settings.smtp is not None:
        table = settings.smtp.model_dump()
        table["password"] = (settings.smtp.password.get_secret_value()
                             if settings.smtp.password else None)
        smtp = SmtpConfig(**table)
    hooks = {name: WebhookConfig(name, hook.url.get_secret_value() if hook.url else "",
                                 hook.timeout, hook.retries, hook.backoff,
                                 {str(k): str(v) for k, v in hook.headers.items()})
             for name, hook in settings.webhooks.items()}
    calendars = {str(code): {date.fromisoformat(str(day)).isoformat(): str(name)
                             for day, name in calendar.add.items()}
                 for code, calendar in settings.calendars.items()}
    add_operator_days(calendars)  # business days everywhere count the operator's holidays
    defaults = Config()
    return Config(
        timezone=settings.timezone, database=settings.database,
        daemon_name=scheduler.name or defaults.daemon_name,
        poll_interval=scheduler.poll_interval, lease=scheduler.lease, batch=scheduler.batch,
        record_within=scheduler.record_within, heartbeat=scheduler.heartbeat,
        channels=("log", *[c for c in notify.channels if c != "log"]),
        language=notify.language, languages=dict(notify.languages), calendars=calendars,
        smtp=smtp, webhooks=hooks, people={str(k): str(v) for k, v in settings.people.items()},
        hooks=_hooks(settings, where),
        web=WebConfig(secret_key=_secret_key(web, where), upload_dir=web.upload_dir,
                      upload_limit=web.upload_limit,
                      upload_types=_upload_types(web.upload_types, where),
                      session_lifetime=web.session_lifetime,
                      secure_cookies=web.secure_cookies, login_attempts=web.login_attempts,
                      login_window=web.login_window, apply_posts=web.apply_posts,
                      apply_window=web.apply_window))


def load_config(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
                ) -> Config:
    """Read the TOML file at ``path`` (or ``$BOMPAO_CONFIG``; none is fine) and the env.

    Raises:
        UsageError: the file is missing, not TOML, or has unknown keys or bad values
            (one line naming the file, the table, the key and what is allowed).
    """
    env = dict(os.environ if environ is None else environ)
    path = path or env.get("BOMPAO_CONFIG") or None
    where = str(path) if path else "environment"
    data = _read(path) if path else {}
    if isinstance(data.get("web"), dict) and "secret_key" in data["web"]:
        raise UsageError(f"{where}: [web] secret_key does not belong in the configuration "
                         "file; set BOMPAO_SECRET_KEY or name a file only the server can "
                         "read with [web] secret_key_file")
    source = EnvironmentSource(Settings, env)
    try:
        settings = Settings(**_merge(data, source()))
    except ValidationError as exc:
        raise UsageError(_message(exc.errors()[0], where, source.names)) from None
    return _config(settings, where)
