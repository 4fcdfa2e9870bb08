"""A real ``bompao serve`` (uvicorn in its own process) per test module and database.

The server runs on SQLite and on PostgreSQL (when ``BOMPAO_TEST_POSTGRES_URL`` is set)
with a configuration whose login throttle is small, the ``Secure`` cookie flag on (the
tests send cookies by hand, as a browser behind HTTPS would) and its log kept in a file.
Every response any test reads is recorded, so a test can check that no secret was ever
answered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pg_schemas import postgres_schema
from scheduler.peers import free_port
from web_harness import CHEAP, LOGIN_ATTEMPTS, PASSWORD, SECRET_KEY, Pages, Server

from bompao.engine import Engine
from bompao.web.accounts import Accounts

POSTGRES_ENV = "BOMPAO_TEST_POSTGRES_URL"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
"""Debian's Chromium, driven by Playwright through ``executable_path`` (no download)."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[str]:
    """An empty database for one module's server: a SQLite file or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web') / 'bompao.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base) as url:
        yield url


def _wait(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bompao serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"bompao serve did not answer: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(web_url: str, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[Server]:
    """``bompao serve`` on ``web_url`` with the bundled journeys published."""
    folder = tmp_path_factory.mktemp("serve")
    engine = Engine.from_url(web_url)
    engine.init()
    config = folder / "bompao.toml"
    web = {"secure_cookies": "true", "login_attempts": str(LOGIN_ATTEMPTS),
           "login_window": "600", "upload_dir": json.dumps(str(folder / "uploads")),
           **getattr(request.module, "SERVE_WEB", {})}  # a test module's own [web] keys
    config.write_text("[web]\n" + "".join(f"{k} = {v}\n" for k, v in web.items())
                      + getattr(request.module, "SERVE_TOML", ""),  # e.g. [hooks.NAME]
                      encoding="utf-8")
    port = free_port()
    log = folder / "serve.log"
    env = {**os.environ, "BOMPAO_SECRET_KEY": SECRET_KEY, "BOMPAO_CONFIG": str(config)}
    env.pop("BOMPAO_PARTNER", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bompao.cli", "--db", web_url, "serve", "--port", str(port),
             "--access-log"],  # every request's line, for the no-secret-in-the-log test
            stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process, log)
        yield Server(base, web_url, log, Accounts(engine.db, hasher=CHEAP), engine,
                     secrets=[SECRET_KEY, PASSWORD], folder=folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        engine.close()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    """Headless Chromium (Debian's; no browser is downloaded), for one module's tests
    against its ``server``."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def pages(browser: Any, server: Server) -> Pages:
    """:class:`Pages` on this module's ``server``."""
    return Pages(browser, server)
