"""The operator's configuration: the TOML file's tables, the environment over it, one line
per problem naming the file, the table, the key and what is allowed; the web settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bompao.engine.config import Config, load_config
from bompao.errors import UsageError

KEY = "k" * 24 + "-secret-key-0123"


def _load(tmp_path: Path, text: str, **environ: str) -> Config:
    path = tmp_path / "bompao.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=environ)


def _refused(tmp_path: Path, text: str, **environ: str) -> str:
    with pytest.raises(UsageError) as caught:
        _load(tmp_path, text, **environ)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "bompao.toml"), "F")


@pytest.mark.parametrize(("text", "expected"), [
    ('[scheduler]\nspeed = 3\n', ("F: unknown key 'speed' in [scheduler]; allowed: batch, "
                                 "heartbeat, lease, name, poll_interval, record_within")),
    ('colour = 1\n', ("F: unknown key 'colour'; allowed: calendars, database, hooks, notify, "
                     "people, scheduler, smtp, timezone, web, webhooks")),
    ('[web]\nport = 80\n', ("F: unknown key 'port' in [web]; allowed: apply_posts, "
                           "apply_window, login_attempts, login_window, secret_key, "
                           "secret_key_file, secure_cookies, session_lifetime, upload_dir, "
                           "upload_limit, upload_types")),
    ('[hooks.kobo]\nsecret = "0123456789abcdef"\njourney = "j"\nname = "n"\nurl = "x"\n',
     ("F: unknown key 'url' in [hooks.kobo]; allowed: cohort, delivery_header, delivery_path, "
     "fields, journey, name, partner, secret, secret_file")),
    ('[hooks.kobo]\nsecret = "0123456789abcdef"\nname = "n"\n',
     "F: [hooks.kobo] needs the key 'journey'"),
    ('[hooks.kobo]\njourney = "j"\nname = "n"\n',
     "F: a [hooks.NAME] table needs exactly one of secret or secret_file"),
    ('[hooks.kobo]\nsecret = "short"\njourney = "j"\nname = "n"\n',
     ("F: [hooks.kobo] secret has 5 characters; it needs at least 16 (e.g. from 'openssl rand "
     "-hex 32')")),
    (('[hooks.kobo]\nsecret = "0123456789abcdef"\njourney = "j"\nname = "n"\n'
     'fields = { team = "a..b" }\n'),
     ("F: [hooks.kobo.fields] team = 'a..b' is not a dotted path into the JSON, e.g. "
     "\"answers.team\"")),
    ('[webhooks.chat]\nurl = "https://x"\nverb = "PUT"\n',
     "F: unknown key 'verb' in [webhooks.chat]; allowed: backoff, headers, retries, timeout, url"),
    ('[scheduler]\npoll_interval = "soon"\n', ("F: poll_interval must be a number >= 0.001, "
                                              "got 'soon'")),
    ('[scheduler]\nbatch = true\n', "F: batch must be a whole number >= 1, got True"),
    ('[scheduler]\nbatch = "500"\n', "F: batch must be a whole number >= 1, got '500'"),
    ('[web]\nupload_limit = 0\n', "F: upload_limit must be a whole number >= 1, got 0"),
    ('[web]\nsession_lifetime = 5\n', "F: session_lifetime must be a whole number >= 60, got 5"),
    ('[webhooks.chat]\nurl = "https://x"\nretries = -1\n',
     "F: webhooks.chat.retries must be a whole number >= 0, got -1"),
    ('scheduler = 3\n', "F: [scheduler] must be a table"),
    ('people = 3\n', "F: [people] must map names to email addresses"),
    ('[smtp]\nport = 25\n', "F: [smtp] needs a host"),
    ('[notify]\nlanguage = "fr"\n', "F: [notify] language 'fr' is not one of en, th"),
    ('[notify]\nchannels = ["pager"]\n',
     "F: unknown notify channel 'pager'; channels: log, email, webhook:NAME"),
    ('[webhooks.chat]\nurl = "ftp://x"\n',
     "F: [webhooks.chat] needs a url starting with http:// or https://"),
    ('[calendars.TH]\nadd = { soon = "x" }\n',
     "F: [calendars.TH.add] key 'soon' is not a date; expected YYYY-MM-DD"),
    ('timezone = "Mars/Olympus"\n',
     "F: unknown timezone 'Mars/Olympus'; use an IANA name such as 'Asia/Bangkok' or 'UTC'"),
    (f'[web]\nsecret_key = "{KEY}"\n',
     ("F: [web] secret_key does not belong in the configuration file; set BOMPAO_SECRET_KEY "
     "or name a file only the server can read with [web] secret_key_file")),
], ids=["scheduler-key", "top-key", "web-key", "hook-key", "hook-missing", "hook-secret",
        "hook-short-secret", "hook-path", "webhook-key", "number", "bool-for-int",
        "text-for-int", "web-limit", "web-lifetime", "retries", "not-a-table", "people",
        "smtp-host", "language", "channel", "url", "calendar-day", "timezone",
        "secret-in-file"])
def test_each_bad_setting_is_one_line_naming_the_key_and_what_is_allowed(
        tmp_path: Path, text: str, expected: str) -> None:
    assert _refused(tmp_path, text) == expected


@pytest.mark.parametrize(("environ", "expected"), [
    ({"BOMPAO_POLL_INTERVAL": "soon"}, ("BOMPAO_POLL_INTERVAL must be a number of seconds, "
                                       "got 'soon'")),
    ({"BOMPAO_LEASE": "-1"}, "BOMPAO_LEASE must be more than 0 seconds, got -1.0"),
    ({"BOMPAO_SMTP_HOST": "h", "BOMPAO_SMTP_PORT": "x"},
     "BOMPAO_SMTP_PORT must be a whole number >= 1, got 'x'"),
    ({"BOMPAO_SECRET_KEY": "short"}, ("F: the web secret key has 5 characters; it needs at "
                                     "least 32 (e.g. from 'openssl rand -hex 32')")),
])
def test_a_bad_environment_variable_is_named(tmp_path: Path, environ: dict[str, str],
                                             expected: str) -> None:
    assert _refused(tmp_path, "", **environ) == expected


def test_the_environment_overrides_the_file_table_by_table(tmp_path: Path) -> None:
    config = _load(tmp_path, '[scheduler]\nname = "file"\nlease = 60\nbatch = 7\n'
                             '[smtp]\nhost = "file-host"\nport = 2525\n',
                   BOMPAO_DAEMON_NAME="env", BOMPAO_SMTP_HOST="env-host",
                   BOMPAO_POLL_INTERVAL="2.5", BOMPAO_UPLOAD_DIR="/srv/up")
    assert (config.daemon_name, config.lease, config.batch, config.poll_interval) == (
        "env", 60.0, 7, 2.5)
    assert (config.smtp.host, config.smtp.port) == ("env-host", 2525)
    assert config.web.upload_dir == "/srv/up"


def test_an_empty_environment_variable_changes_nothing(tmp_path: Path) -> None:
    config = _load(tmp_path, '[scheduler]\nname = "file"\n', BOMPAO_DAEMON_NAME="")
    assert config.daemon_name == "file"


def test_web_settings_have_defaults_and_read_the_file(tmp_path: Path) -> None:
    default = _load(tmp_path, "").web
    assert (default.secret_key, default.upload_dir, default.upload_limit,
            default.session_lifetime, default.secure_cookies, default.login_attempts,
            default.login_window) == (None, "bompao-uploads", 10_000_000, 28800, False, 5, 900)
    web = _load(tmp_path, '[web]\nupload_dir = "/u"\nupload_limit = 1024\nsession_lifetime = 600'
                          '\nsecure_cookies = true\nlogin_attempts = 3\nlogin_window = 60\n').web
    assert (web.upload_dir, web.upload_limit, web.session_lifetime, web.secure_cookies,
            web.login_attempts, web.login_window) == ("/u", 1024, 600, True, 3, 60)


def test_the_secret_key_comes_from_a_file_or_the_environment_and_is_never_shown(
        tmp_path: Path) -> None:
    key_file = tmp_path / "secret"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    from_file = _load(tmp_path, f'[web]\nsecret_key_file = "{key_file}"\n')
    from_env = _load(tmp_path, f'[web]\nsecret_key_file = "{key_file}"\n',
                     BOMPAO_SECRET_KEY="e" * 40)
    assert from_file.web.secret_key == KEY
    assert from_env.web.secret_key == "e" * 40
    for config, key in ((from_file, KEY), (from_env, "e" * 40)):
        assert key not in repr(config)
        assert key not in repr(config.redacted())
        assert config.redacted()["web"]["secret_key"] == "***"
        assert config.redact(f"key={key}") == "key=***"


def test_an_unreadable_secret_key_file_is_one_line_without_its_content(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    message = _refused(tmp_path, f'[web]\nsecret_key_file = "{missing}"\n')
    assert message == (f"F: [web] secret_key_file {str(missing)!r} cannot be read: "
                       "FileNotFoundError")


def test_secrets_in_smtp_and_webhooks_stay_out_of_repr(tmp_path: Path) -> None:
    config = _load(tmp_path, '[smtp]\nhost = "h"\npassword = "pw-s3cret"\n'
                             '[webhooks.chat]\nurl = "https://x/tok-s3cret"\n'
                             'headers = { A = "hdr-s3cret" }\n')
    shown = repr(config) + repr(config.redacted())
    for secret in ("pw-s3cret", "tok-s3cret", "hdr-s3cret"):
        assert secret not in shown
    assert config.smtp.password == "pw-s3cret"
    assert config.webhooks["chat"].headers == {"A": "hdr-s3cret"}


def test_an_inbound_hooks_secret_stays_out_of_repr_and_its_file_is_read(tmp_path: Path) -> None:
    secret_file = tmp_path / "kobo.secret"
    secret_file.write_text("file-s3cret-0123456789\n", encoding="utf-8")
    config = _load(tmp_path, '[hooks.forms]\nsecret = "inline-s3cret-0123456789"\n'
                             'journey = "call"\nname = "answers.0.value"\n'
                             'fields = { team_size = "answers.2.value" }\n'
                             f'[hooks.kobo]\nsecret_file = "{secret_file}"\n'
                             'journey = "call"\nname = "project_name"\n'
                             'delivery_path = "_uuid"\n')
    shown = repr(config) + repr(config.redacted())
    for secret in ("inline-s3cret-0123456789", "file-s3cret-0123456789"):
        assert secret not in shown
        assert config.redact(f"x {secret} y") == "x *** y"
    forms, kobo = config.hooks["forms"], config.hooks["kobo"]
    assert (forms.secret, forms.journey, forms.project_name, forms.fields,
            forms.delivery_header, forms.delivery_path) == (
        "inline-s3cret-0123456789", "call", "answers.0.value",
        {"team_size": "answers.2.value"}, "X-Bompao-Delivery", None)
    assert (kobo.secret, kobo.delivery_path) == ("file-s3cret-0123456789", "_uuid")
