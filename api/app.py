"""The FastAPI app: JSON API under /api/v1, pages, health, the codec endpoint."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session
from temporalio.client import Client

from api import docs, errors, pages
from api.limits import RejectNulBytes, RequestSizeLimits, default_limits
from api.routes import claims, edi, metrics, practice, prometheus, users, work_items
from reclaim.auth import ensure_admin
from reclaim.config import Settings, get_settings
from reclaim.db import get_engine
from reclaim.denials.corrections import load_default_map
from reclaim.throttle import LoginThrottle

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, client: Client | None = None) -> FastAPI:
    if settings is None:  # `uvicorn --factory api.app:create_app`: the checks of `reclaim api`
        from reclaim.keys import secured
        from reclaim.logs import configure
        from reclaim.metrics import MetricsSettings

        configure()  # and its logging: JSON lines, library loggers that could print PHI quiet

        settings = secured(get_settings(), metrics_token=MetricsSettings().metrics_token,
                           serves_metrics=True)
    engine = get_engine(settings.resolved_database_url)
    load_default_map()  # the correction form reads it: a mistake in it stops the start

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.admin_token:
            with Session(engine) as session:
                ensure_admin(session=session, token=settings.admin_token)
                session.commit()
        # What start-up built (modules, the app, its routes) lives as long as the process: kept
        # out of the collector's sight, a full collection no longer walks it (bench/pages.py:
        # the slowest /work requests were 100 ms generation-2 passes over those objects).
        gc.freeze()
        yield

    app = FastAPI(
        title="Reclaim",
        version="0.1.0",
        description="Denial management: every claim a durable Temporal workflow.",
        lifespan=lifespan,
        docs_url=None,  # served by api.docs from vendored files, so they work offline
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.client = client
    app.state.login_throttle = LoginThrottle(
        user_failures=settings.login_user_failures,
        address_failures=settings.login_address_failures,
        window=settings.login_failure_window, backoff_max=settings.login_backoff_max)
    errors.install(app)
    # Inside the size limits: the NUL check reads JSON bodies they have already capped.
    app.add_middleware(RejectNulBytes)
    app.add_middleware(RequestSizeLimits, by_prefix=default_limits())

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    for module in (claims, edi, work_items, users, metrics, practice):
        app.include_router(module.router)
    app.include_router(prometheus.metrics_router())
    pages.install(app)
    docs.install(app)
    _mount_codec(app, settings)
    return app


def _mount_codec(app: FastAPI, settings: Settings) -> None:
    from api.deps import allow
    from api.routes.codec import codec_router
    from reclaim.codec import KeyRing

    app.include_router(
        codec_router(
            KeyRing.from_setting(settings.payload_key),
            allowed_origin=settings.temporal_ui_origin,
            auth_dependency=allow("signed_in"),
        )
    )
