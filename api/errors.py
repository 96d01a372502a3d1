"""One error shape for the API: {"error": ..., "detail": ...}; validation errors name the field."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)


def field_path(loc: tuple[object, ...] | list[object]) -> str:
    """('body', 'lines', 0, 'charge') -> 'lines[0].charge'"""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid"),
             "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"error": "invalid request", "fields": fields,
                     "detail": "; ".join(f"{f['field']}: {f['message']}" for f in fields)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(status_code=500, content={"error": "internal error",
                                                      "detail": type(exc).__name__})
