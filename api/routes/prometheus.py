"""GET /metrics: Prometheus text (reclaim.metrics). No login session: a scraper has none. When
RECLAIM_METRICS_TOKEN is set, the scraper sends it as `Authorization: Bearer <token>`."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from reclaim.metrics import CONTENT_TYPE, MetricsSettings, exposition


def _check_token(request: Request, token: str | None) -> None:
    if not token:
        return
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            detail="metrics need 'Authorization: Bearer <RECLAIM_METRICS_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})


def metrics_router(settings: MetricsSettings | None = None) -> APIRouter:
    token = (settings or MetricsSettings()).metrics_token
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", response_class=Response,
                responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"}})
    async def get_prometheus_metrics(request: Request) -> Response:
        _check_token(request, token)
        body = await run_in_threadpool(exposition, request.app.state.engine)
        return Response(content=body, media_type=CONTENT_TYPE)

    return router
