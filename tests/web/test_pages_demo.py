"""``bompao demo --serve``: the demo cohort opens in the web app with printed sign-ins."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from scheduler.peers import free_port
from web_harness import cookie_value, session_of, set_cookie

pytestmark = pytest.mark.slow


def test_demo_serve_prints_sign_ins_that_open_the_cohort(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOMPAO_SECRET_KEY", "BOMPAO_CONFIG", "BOMPAO_PARTNER",
                        "BOMPAO_DATABASE_URL")}
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bompao.cli", "--lang", "en", "demo", "--days", "40",
             "--out", str(tmp_path), "--serve", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "Uvicorn running" not in log.read_text():
            assert process.poll() is None, log.read_text()
            time.sleep(0.3)
        text = log.read_text()
        assert f"the demo cohort is at {base}/ (CTRL+C stops it)" in text
        users = dict(re.findall(r"sign in as (\w+) with the password (\S+)", text))
        assert set(users) == {"ploy", "malee"}
        with httpx.Client(base_url=base, timeout=30) as client:
            cookie = cookie_value(set_cookie(client.get("/login")) or "")
            signed = client.post("/login", data={
                "username": "malee", "password": users["malee"],
                "csrf_token": session_of(cookie)["csrf"]},
                headers={"Cookie": f"bompao_session={cookie}"})
            assert signed.status_code == 303
            jar = {"Cookie": f"bompao_session={cookie_value(set_cookie(signed) or '')}"}
            board = client.get("/", headers=jar).text
            me = client.get("/me", headers=jar).text
        # the call's 30 applications: the 12 admitted and the 18 declined
        assert re.findall(r'<p class="count">(\d+) project\(s\)</p>', board) == ["30"]
        assert "Clean Canal Bangkok" in board
        assert me.count('data-project="') >= 4  # Malee coaches a third of the cohort
    finally:
        process.terminate()
        process.wait(timeout=30)
