"""The FastAPI app over one shared :class:`~bompao.engine.engine.Engine`.

The engine checks a connection out per transaction and is safe to share between the
worker threads FastAPI runs plain ``def`` routes in; one app (one engine, one pool) runs
per worker process. In front of FastAPI itself, the hot API writes
(:mod:`bompao.web.fastpath`); then the middleware, outermost first: security headers,
signed sessions.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from bompao.engine.config import Config
from bompao.engine.engine import Engine
from bompao.storage.tables import SCHEMA_VERSION
from bompao.web import api, api_indicators, hooks, intake
from bompao.web.accounts import Accounts
from bompao.web.fastpath import FastWrites
from bompao.web.pages import SignInRequired, pages_router
from bompao.web.problems import install, language, problem
from bompao.web.security import (
    CSRF_FIELD,
    HeadersMiddleware,
    SharedThrottle,
    check_csrf,
    csrf_token,
    sign_in,
    sign_out,
)

__all__ = ["SESSION_COOKIE", "create_app"]

SESSION_COOKIE = "bompao_session"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_STATIC = Path(__file__).resolve().parent / "static"
_TEXT = {
    "en": {"title": "Sign in - bompao", "username": "Username", "password": "Password",
           "submit": "Sign in", "failed": "Wrong username or password.",
           "throttled": "Too many failed sign-ins; try again in {seconds} seconds."},
    "th": {"title": "เข้าสู่ระบบ - bompao", "username": "ชื่อผู้ใช้", "password": "รหัสผ่าน",
           "submit": "เข้าสู่ระบบ", "failed": "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง",
           "throttled": "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป ลองใหม่ในอีก {seconds} วินาที"},
}


def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(
        default=True, default_for_string=True), auto_reload=False)


def create_app(engine: Engine, config: Config, *, secret_key: str,
               accounts: Accounts | None = None) -> FastAPI:
    """The web app on ``engine`` with the operator's ``config``.

    Args:
        engine: the shared engine.
        config: the operator's configuration (its ``web`` settings).
        secret_key: signs the session cookies (32 characters or more).
        accounts: users and tokens (default: in the engine's database).
    """
    web = config.web
    app = _App(title="bompao", version="1", openapi_url="/api/v1/openapi.json",
               docs_url=None, redoc_url=None)
    app.state.engine = engine
    app.state.accounts = accounts or Accounts(engine.db)
    # counted in the database: one throttle for every worker and machine
    app.state.throttle = SharedThrottle(engine.db, "login", web.login_attempts,
                                        web.login_window)
    app.state.templates = _templates()
    app.state.config = config
    install(app)
    app.include_router(api.router)
    app.include_router(api_indicators.router)  # indicators and measurements
    # the pages (board, project, my work, live updates) and their static files
    app.include_router(pages_router)
    # the intake doors: the public application form and the inbound webhooks
    app.include_router(intake.router)
    app.include_router(hooks.router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_middleware(SessionMiddleware, secret_key=secret_key, session_cookie=SESSION_COOKIE,
                       max_age=web.session_lifetime, same_site="lax",
                       https_only=web.secure_cookies)
    app.add_middleware(HeadersMiddleware)
    _routes(app)
    return app


class _App(FastAPI):
    """The FastAPI app behind its fast path (:mod:`bompao.web.fastpath`): the hot API
    writes are answered before FastAPI's own entry (its telemetry check, Starlette's
    error middleware, the body limit) and the whole middleware stack."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.fast_writes = FastWrites(functools.partial(FastAPI.__call__, self), self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Through the fast path, which passes every other request on to FastAPI."""
        await self.fast_writes(scope, receive, send)


async def _to_sign_in(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = language(request)
    template = request.app.state.templates.get_template(name)
    return HTMLResponse(template.render(lang=lang, t=_TEXT[lang], **values),
                        status_code=status)


def _routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"], summary="The database's state")
    def healthz(request: Request) -> Response:
        """200 when the database is reachable and at this bompao's schema, else 503."""
        db = request.app.state.engine.db
        try:
            status = db.schema_status()
        except Exception as exc:
            return problem(503, f"database unreachable: {type(exc).__name__}",
                           database="unreachable")
        body = {"status": "ok" if status == "current" else "unavailable",
                "database": status, "dialect": db.dialect, "schema_version": SCHEMA_VERSION}
        return JSONResponse(body, status_code=200 if status == "current" else 503)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return _page(request, "login.html", csrf=csrf_token(request.session), username="",
                     error=None)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: Annotated[str, Form(max_length=200)],
              password: Annotated[str, Form(max_length=1024)],
              csrf: Annotated[str | None, Form(alias=CSRF_FIELD)] = None) -> Response:
        check_csrf(request.session, csrf)
        throttle: SharedThrottle = request.app.state.throttle
        client = request.client.host if request.client else "unknown"
        keys = (f"user:{username.strip().lower()}", f"addr:{client}")
        wait = throttle.retry_after(*keys)
        text = _TEXT[language(request)]
        if wait:
            held = _page(request, "login.html", 429, csrf=csrf_token(request.session),
                         username=username, error=text["throttled"].format(seconds=wait))
            held.headers["Retry-After"] = str(wait)
            return held
        user = request.app.state.accounts.authenticate(username, password)
        if user is None:
            throttle.failed(*keys)
            return _page(request, "login.html", 401, csrf=csrf_token(request.session),
                         username=username, error=text["failed"])
        throttle.succeeded(keys[0])
        sign_in(request.session, user)
        return RedirectResponse("/", status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request,
               csrf: Annotated[str | None, Form(alias=CSRF_FIELD)] = None) -> Response:
        check_csrf(request.session, csrf)
        sign_out(request.session)
        return RedirectResponse("/login", status_code=303)
