"""``bompao serve`` as an operator runs it: refusals before it listens, several workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from scheduler.peers import free_port
from web_harness import CHEAP, PASSWORD, SECRET_KEY, cookie_value, session_of, set_cookie

from bompao.engine import Engine
from bompao.web.accounts import Accounts


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOMPAO_SECRET_KEY", "BOMPAO_CONFIG", "BOMPAO_PARTNER")}
    return {**env, **extra}


def _serve(url: str, *args: str, env: dict[str, str], cwd: Path
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bompao.cli", "serve", "--db", url, *args],
                          capture_output=True, text=True, timeout=60, env=env, cwd=cwd,
                          check=False)


def test_several_workers_need_a_configured_secret_key(store_url: str, tmp_path: Path) -> None:
    Engine.from_url(store_url).close()
    result = _serve(store_url, "--workers", "2", "--port", str(free_port()), env=_env(),
                    cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("error: several workers need one secret key: set "
                             "BOMPAO_SECRET_KEY or [web] secret_key_file (e.g. from "
                             "'openssl rand -hex 32')\n")


def test_a_database_that_needs_init_is_refused_before_listening(
        store_url: str, tmp_path: Path) -> None:
    result = _serve(store_url, "--port", str(free_port()),
                    env=_env(BOMPAO_SECRET_KEY=SECRET_KEY), cwd=tmp_path)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "bompao init" in line


def test_two_workers_share_sessions_signed_with_one_key(store_url: str, tmp_path: Path) -> None:
    engine = Engine.from_url(store_url)
    engine.init()
    Accounts(engine.db, hasher=CHEAP).add_user("anan", "Anan", PASSWORD, ["coach"])
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bompao.cli", "serve", "--db", store_url, "--workers", "2",
             "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT,
            env=_env(BOMPAO_SECRET_KEY=SECRET_KEY), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_text().count("Application startup") < 2:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        assert log.read_text().count("Application startup complete") == 2, log.read_text()
        page = httpx.get(f"{base}/login")
        cookie = cookie_value(set_cookie(page) or "")
        signed = httpx.post(f"{base}/login", data={
            "username": "anan", "password": PASSWORD, "csrf_token": session_of(cookie)["csrf"]},
            headers={"Cookie": f"bompao_session={cookie}"})
        assert signed.status_code == 303
        session = cookie_value(set_cookie(signed) or "")
        for _ in range(20):  # new connections: the workers take turns accepting them
            answer = httpx.get(f"{base}/api/v1/projects",
                               headers={"Cookie": f"bompao_session={session}"})
            assert answer.status_code == 200, answer.text
    finally:
        process.terminate()
        process.wait(timeout=30)
        engine.close()
    # no access log by default (the reverse proxy keeps one): no line per request
    assert '"GET /api/v1/projects HTTP/1.1" 200' not in log.read_text()


def test_the_sign_in_throttle_is_one_for_every_worker(store_url: str, tmp_path: Path) -> None:
    """Three wrong passwords allowed per name, each sign-in on a new connection (the two
    workers take turns accepting them): once three failed anywhere, every worker
    refuses the name with 429, even the right password."""
    engine = Engine.from_url(store_url)
    engine.init()
    Accounts(engine.db, hasher=CHEAP).add_user("thai", "Thai", PASSWORD, ["coach"])
    config = tmp_path / "bompao.toml"
    config.write_text("[web]\nlogin_attempts = 3\nlogin_window = 600\n", encoding="utf-8")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bompao.cli", "serve", "--db", store_url, "--workers", "2",
             "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT,
            env=_env(BOMPAO_SECRET_KEY=SECRET_KEY, BOMPAO_CONFIG=str(config)), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"

    def sign_in(password: str) -> int:
        page = httpx.get(f"{base}/login")
        cookie = cookie_value(set_cookie(page) or "")
        return httpx.post(f"{base}/login", data={
            "username": "thai", "password": password,
            "csrf_token": session_of(cookie)["csrf"]},
            headers={"Cookie": f"bompao_session={cookie}"}).status_code

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_text().count("Application startup") < 2:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        assert [sign_in("wrong") for _ in range(3)] == [401, 401, 401]
        assert [sign_in("wrong") for _ in range(6)] == [429] * 6
        assert sign_in(PASSWORD) == 429
    finally:
        process.terminate()
        process.wait(timeout=30)
        engine.close()
