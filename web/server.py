"""Running the app under uvicorn: ``bompao serve``, one or several worker processes.

uvicorn starts each worker from an import string, so the settings travel in the
environment: ``BOMPAO_DATABASE_URL``, ``BOMPAO_CONFIG``, ``BOMPAO_JOURNEYS`` and the
secret key. :func:`factory` builds one app (one engine) per worker from them.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
from typing import Any

from fastapi import FastAPI

from bompao.errors import UsageError

__all__ = ["factory", "run"]

log = logging.getLogger("bompao.web")
_FACTORY = "bompao.web.server:factory"


def factory() -> FastAPI:
    """The app of one worker, from the environment ``run`` prepared.

    Raises:
        DatabaseError: the database cannot be reached.
        SchemaVersionError: it needs ``bompao init``.
    """
    from bompao.definitions import JourneyCatalog  # noqa: PLC0415
    from bompao.engine.config import load_config  # noqa: PLC0415
    from bompao.engine.engine import Engine  # noqa: PLC0415
    from bompao.web.app import create_app  # noqa: PLC0415

    config = load_config()
    url = os.environ.get("BOMPAO_DATABASE_URL") or config.database or "sqlite:///bompao.db"
    engine = Engine.from_url(url, catalog=JourneyCatalog.from_env(()), create=False)
    key = config.web.secret_key
    if not key:
        raise UsageError("no web secret key: set BOMPAO_SECRET_KEY or [web] secret_key_file")
    app = create_app(engine, config, secret_key=key)
    # everything imported and built so far lives as long as the worker: moved out of the
    # collector's sight, a full collection no longer walks ~150,000 objects (40-100 ms,
    # every request in flight waiting: the p99) for garbage that is never there
    gc.freeze()
    return app


def run(ctx: Any, *, host: str, port: int, workers: int, access_log: bool = False) -> None:
    """Serve until interrupted, on uvicorn's libuv loop (uvloop) and C HTTP parser
    (httptools) where installed, as they are with bompao's dependencies.

    Raises:
        UsageError: several workers without a configured secret key (each worker would
            sign sessions with its own), or a bad configuration.
        DatabaseError: the database cannot be reached.
        SchemaVersionError: the database needs ``bompao init``.
    """
    import uvicorn  # noqa: PLC0415

    from bompao.storage import Database  # noqa: PLC0415

    config = ctx.config
    db = Database.from_url(ctx.db)
    db.require_current()
    db.dispose()
    os.environ["BOMPAO_DATABASE_URL"] = ctx.db
    if ctx.config_path:
        os.environ["BOMPAO_CONFIG"] = str(ctx.config_path)
    if ctx.journey_dirs:
        os.environ["BOMPAO_JOURNEYS"] = os.pathsep.join(
            [*ctx.journey_dirs, *filter(None, [os.environ.get("BOMPAO_JOURNEYS")])])
    if not config.web.secret_key:
        if workers > 1:
            raise UsageError("several workers need one secret key: set BOMPAO_SECRET_KEY or "
                             "[web] secret_key_file (e.g. from 'openssl rand -hex 32')")
        log.warning("no web secret key configured: using a random one, so sign-ins end "
                    "when the server stops (set BOMPAO_SECRET_KEY or [web] secret_key_file)")
        os.environ["BOMPAO_SECRET_KEY"] = secrets.token_urlsafe(32)
    uvicorn.run(_FACTORY, factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, forwarded_allow_ips=os.environ.get(
                    "FORWARDED_ALLOW_IPS", "127.0.0.1"), server_header=False,
                log_level="info", access_log=access_log)
